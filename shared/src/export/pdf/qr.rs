//! The QR code of the login URL as vector rectangles, drawn once per file as a
//! form XObject of one unit square that every card scales into place.

use anyhow::Context;
use pdf_writer::Content;
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code that readers need to find it.
const QUIET_ZONE: usize = 2;

/// The drawing operators of the code of `url`, in a unit square (quiet zone
/// included), dark runs of each row merged into one rectangle.
pub(super) fn unit_square(url: &str) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .context("the login URL is too long for a QR code")?;
    let width = code.width();
    let colors = code.to_colors();
    let modules = (width + 2 * QUIET_ZONE) as f32;
    let mut content = Content::new();
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
    Ok(content.finish().into_vec())
}
