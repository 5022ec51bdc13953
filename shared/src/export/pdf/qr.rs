//! QR codes as vector rectangles in a unit square: the login URL's drawn once per
//! file as a form XObject that every card scales into place; a card's own (scan
//! to claim) drawn on its card.

use anyhow::Context;
use pdf_writer::Content;
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code that readers need to find it.
const QUIET_ZONE: usize = 2;

/// The drawing operators of the code of `url`, in a unit square (quiet zone
/// included), dark runs of each row merged into one rectangle.
pub(super) fn unit_square(url: &str) -> anyhow::Result<Vec<u8>> {
    let mut content = Content::new();
    draw(&mut content, url)?;
    Ok(content.finish().into_vec())
}

/// Draws the code of `url` in the unit square of `content`'s current space.
pub(super) fn draw(content: &mut Content, url: &str) -> anyhow::Result<()> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .context("the address is too long for a QR code")?;
    let width = code.width();
    let colors = code.to_colors();
    let modules = (width + 2 * QUIET_ZONE) as f32;
    content.transform([1.0 / modules, 0.0, 0.0, 1.0 / modules, 0.0, 0.0]);
    content.set_fill_gray(0.0);
    for (y, row) in colors.chunks(width).enumerate() {
        // PDF's y axis goes up, the code's rows go down.
        let bottom = (width - 1 - y + QUIET_ZONE) as f32;
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                content.rect((start + QUIET_ZONE) as f32, bottom, (x - start) as f32, 1.0);
            } else {
                x += 1;
            }
        }
    }
    content.fill_nonzero();
    Ok(())
}
