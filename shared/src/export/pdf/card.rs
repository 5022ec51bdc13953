//! Drawing the cards. What every card of a kind shares (school, labels, QR
//! code, instructions) is drawn once as a template; each card then adds only its
//! person's name, class, login, secret and expiry.

use super::font::{Fonts, Weight};
use super::layout::{A4, Kind, Layout, Line, Slots};
use crate::export::labels::Labels;
use crate::export::{Cards, Row, Secret};
use pdf_writer::{Content, Name};
use secrecy::ExposeSecret;

const ACCENT: (f32, f32, f32) = (0.11, 0.29, 0.50);
const GREY: f32 = 0.38;

/// Draws text at an offset.
struct Pen<'a> {
    content: &'a mut Content,
    fonts: &'a mut Fonts,
    dx: f32,
    dy: f32,
}

impl Pen<'_> {
    /// `text` on `line`, shrunk if it would not fit.
    fn fit(&mut self, weight: Weight, line: Line, text: &str) {
        let size = self.fonts.fit(weight, text, line.size, line.width);
        self.show(weight, size, line.x, line.y, text);
    }

    fn show(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str) {
        let at = (self.dx + x, self.dy + y);
        self.fonts.draw(self.content, weight, size, at, text);
    }
}

/// What every card of `kind` shares, drawn in the card's own coordinates.
pub(super) struct Shared<'a> {
    pub labels: &'static Labels,
    pub school_name: &'a str,
    pub login_url: &'a str,
    pub zone: crate::domain::TimeZone,
    pub cards: &'a Cards<'a>,
}

impl Shared<'_> {
    /// Whether cards of `kind` carry a QR code of their own rather than the login
    /// URL's.
    pub fn own_qr(&self, kind: Kind) -> bool {
        match kind {
            Kind::Code => !self.cards.activation_url.is_empty(),
            Kind::Password => self.cards.own_sign_in,
            Kind::Reset | Kind::Plain => false,
        }
    }

    /// The address a card's own QR code holds: the activation page with the login
    /// and, in the fragment (never sent to a server), the code; or the sign-in
    /// page with the login.
    pub fn qr_of(&self, row: &Row) -> Option<String> {
        let login = encode(&row.login);
        match &row.secret {
            Some(Secret::ActivationCode { code, .. }) if self.own_qr(Kind::Code) => Some(format!(
                "{}?login={login}#code={}",
                self.cards.activation_url,
                encode(code.expose_secret())
            )),
            Some(Secret::TemporaryPassword { .. }) if self.own_qr(Kind::Password) => {
                let separator = if self.login_url.contains('?') { '&' } else { '?' };
                Some(format!("{}{separator}login={login}", self.login_url))
            }
            _ => None,
        }
    }
}

/// `value` percent-encoded for a query or a fragment.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

pub(super) fn template(layout: &Layout, kind: Kind, shared: &Shared, fonts: &mut Fonts) -> Vec<u8> {
    let slots = &layout.slots[kind.index()];
    let (labels, k) = (shared.labels, layout.scale);
    let mut content = Content::new();

    if let (Some(secret), Kind::Password | Kind::Code) = (slots.secret, kind) {
        let margin = 3.0 * k;
        content.set_fill_gray(0.93);
        content.rect(
            secret.x - margin,
            secret.y - 0.3 * secret.size - margin,
            secret.width + 2.0 * margin,
            1.2 * secret.size + 2.0 * margin,
        );
        content.fill_nonzero();
    }
    content.set_stroke_rgb(ACCENT.0, ACCENT.1, ACCENT.2);
    content.set_line_width(0.8 * k);
    content.move_to(slots.school.x, slots.rule_y);
    content.line_to(slots.school.x + slots.school.width, slots.rule_y);
    content.stroke();
    if let Some((x, y, side, _)) = slots.qr.filter(|_| !shared.own_qr(kind)) {
        content.save_state();
        content.transform([side, 0.0, 0.0, side, x, y]);
        content.x_object(Name(b"QR"));
        content.restore_state();
    }

    let mut pen = Pen {
        content: &mut content,
        fonts,
        dx: 0.0,
        dy: 0.0,
    };
    pen.content.set_fill_rgb(ACCENT.0, ACCENT.1, ACCENT.2);
    pen.fit(Weight::Bold, slots.school, shared.school_name);
    pen.fit(Weight::Regular, slots.url, shared.login_url);
    pen.content.set_fill_gray(GREY);
    pen.fit(Weight::Regular, slots.login_label, labels.login);
    if !shared.login_url.is_empty() {
        pen.fit(Weight::Regular, slots.url_label, labels.login_url);
    }
    if let Some((_, _, side, caption)) = slots.qr {
        let size = pen.fonts.fit(Weight::Regular, labels.scan, caption.size, side);
        let width = pen.fonts.width(Weight::Regular, labels.scan, size);
        pen.show(
            Weight::Regular,
            size,
            caption.x + (side - width) / 2.0,
            caption.y,
            labels.scan,
        );
    }
    let (label, notes, tip) = match kind {
        Kind::Password => (
            Some(labels.temporary_password),
            labels.use_password,
            Some(labels.tip_password),
        ),
        Kind::Code => (
            Some(labels.activation_code),
            labels.use_code,
            Some(labels.tip_password),
        ),
        Kind::Reset => (None, labels.use_reset, Some(labels.tip_reset)),
        Kind::Plain => (None, labels.use_login, None),
    };
    if let (Some(label), Some(line)) = (label, slots.secret_label) {
        pen.fit(Weight::Regular, line, label);
    }
    pen.content.set_fill_gray(0.0);
    if let (Kind::Reset, Some(label), Some(line)) = (kind, slots.secret_label, slots.secret) {
        pen.fit(Weight::Bold, label, labels.already_activated);
        pen.fit(Weight::Regular, line, labels.forgot_password);
    }
    paragraphs(&mut pen, slots, notes, tip);
    content.finish().into_vec()
}

/// The instructions, shrunk until the first paragraph fits; the tip follows
/// only where there is room for all of it.
fn paragraphs(pen: &mut Pen, slots: &Slots, first: &str, tip: Option<&str>) {
    let area = slots.notes.y + 0.95 * slots.notes.size - slots.notes_bottom;
    let mut size = slots.notes.size;
    let lines = loop {
        let lines = pen.fonts.wrap(Weight::Regular, first, size, slots.notes.width);
        if lines.len() as f32 * 1.25 * size <= area || size < 4.0 {
            break lines;
        }
        size *= 0.92;
    };
    let mut y = slots.notes.y - (slots.notes.size - size) * 0.95;
    let leading = 1.25 * size;
    for line in &lines {
        pen.show(Weight::Regular, size, slots.notes.x, y, line);
        y -= leading;
    }
    if let Some(tip) = tip {
        let tip_lines = pen.fonts.wrap(Weight::Regular, tip, size, slots.notes.width);
        let needed = (0.5 + tip_lines.len() as f32) * leading;
        if y + 0.95 * size - needed >= slots.notes_bottom {
            y -= 0.5 * leading;
            pen.content.set_fill_gray(GREY);
            for line in tip_lines {
                pen.show(Weight::Regular, size, slots.notes.x, y, line);
                y -= leading;
            }
        }
    }
}

/// The person's own lines, on the card whose bottom-left corner is `origin`.
pub(super) fn fill(
    content: &mut Content,
    fonts: &mut Fonts,
    layout: &Layout,
    shared: &Shared,
    origin: (f32, f32),
    row: &Row,
) -> anyhow::Result<()> {
    let labels = shared.labels;
    let kind = Kind::of(row.secret.as_ref());
    let slots = &layout.slots[kind.index()];
    if let (Some((x, y, side, _)), Some(url)) = (slots.qr, shared.qr_of(row)) {
        content.save_state();
        content.transform([side, 0.0, 0.0, side, origin.0 + x, origin.1 + y]);
        super::qr::draw(content, &url)?;
        content.restore_state();
    }
    let mut pen = Pen {
        content,
        fonts,
        dx: origin.0,
        dy: origin.1,
    };
    pen.content.set_fill_gray(0.0);
    let name = format!("{} {}", row.first_name, row.last_name);
    pen.fit(Weight::Bold, slots.name, name.trim());
    pen.fit(Weight::Bold, slots.login, &row.login);
    let secret = match &row.secret {
        Some(
            Secret::TemporaryPassword {
                password: secret,
                expires_at,
            }
            | Secret::ActivationCode {
                code: secret,
                expires_at,
            },
        ) => Some((secret, expires_at)),
        _ => None,
    };
    if let (Some((secret, _)), Some(line)) = (secret, slots.secret) {
        pen.fit(Weight::Bold, line, secret.expose_secret());
    }
    pen.content.set_fill_gray(GREY);
    let children = shared
        .cards
        .children
        .and_then(|children| children.get(&row.login))
        .filter(|children| !children.is_empty());
    let class = match (children, row.class.is_empty()) {
        (Some(children), _) => format!(
            "{} · {} {}",
            labels.profile(row.profile),
            labels.children,
            children.join(", ")
        ),
        (None, true) => labels.profile(row.profile).to_owned(),
        (None, false) => format!("{} {} · {}", labels.class, row.class, labels.profile(row.profile)),
    };
    pen.fit(Weight::Regular, slots.class, &class);
    if let (Some((_, expires_at)), Some(line)) = (secret, slots.expiry) {
        pen.fit(
            Weight::Regular,
            line,
            &labels.valid_until(*expires_at, shared.zone),
        );
    }
    Ok(())
}

/// Dashed lines to cut the cards apart along.
pub(super) fn cut_lines(content: &mut Content, layout: &Layout) {
    content.set_stroke_gray(0.7);
    content.set_line_width(0.4);
    content.set_dash_pattern([3.0, 3.0], 0.0);
    let mut x = layout.width;
    while x < A4.0 - 1.0 {
        content.move_to(x, 0.0).line_to(x, A4.1);
        x += layout.width;
    }
    let mut y = layout.height;
    while y < A4.1 - 1.0 {
        content.move_to(0.0, y).line_to(A4.0, y);
        y += layout.height;
    }
    content.stroke();
    content.set_dash_pattern([], 0.0);
}
