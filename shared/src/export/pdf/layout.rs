//! Where everything sits on a card: a grid of cards on an A4 page, and the
//! lines of each kind of card from the top down, beside the QR code or below it.

use crate::export::{PerPage, Secret};
use pdf_writer::Name;

pub(super) const A4: (f32, f32) = (595.28, 841.89);

/// What a card hands out, which decides its template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Password,
    Code,
    Reset,
    Plain,
}

impl Kind {
    pub fn of(secret: Option<&Secret>) -> Self {
        match secret {
            Some(Secret::TemporaryPassword { .. }) => Self::Password,
            Some(Secret::ActivationCode { .. }) => Self::Code,
            Some(Secret::HowToReset) => Self::Reset,
            None => Self::Plain,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The template's name in the resource dictionary.
    pub fn resource(self) -> Name<'static> {
        Name([b"T0", b"T1", b"T2", b"T3"][self.index()])
    }
}

/// One line of text: baseline, size, and the width it may take.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Line {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub width: f32,
}

/// The positions of a card of one kind, in the card's own coordinates.
#[derive(Debug, Default)]
pub(super) struct Slots {
    pub school: Line,
    pub rule_y: f32,
    pub name: Line,
    pub class: Line,
    pub login_label: Line,
    pub login: Line,
    pub secret_label: Option<Line>,
    pub secret: Option<Line>,
    pub expiry: Option<Line>,
    pub url_label: Line,
    pub url: Line,
    /// Left, bottom and side of the QR code, and its caption.
    pub qr: Option<(f32, f32, f32, Line)>,
    pub notes: Line,
    pub notes_bottom: f32,
}

/// Cards on an A4 page: a grid of equal cells, filled row by row.
pub(super) struct Layout {
    columns: usize,
    pub width: f32,
    pub height: f32,
    /// Everything on a card is sized for the 8-a-page card, times this.
    pub scale: f32,
    pub slots: [Slots; 4],
}

impl Layout {
    pub fn new(per_page: PerPage, with_qr: bool) -> Self {
        let (columns, rows, scale) = match per_page {
            PerPage::One => (1, 1, 2.2),
            PerPage::Two => (1, 2, 1.75),
            PerPage::Eight => (2, 4, 1.0),
        };
        let mut layout = Self {
            columns,
            width: A4.0 / columns as f32,
            height: A4.1 / rows as f32,
            scale,
            slots: Default::default(),
        };
        for kind in [Kind::Password, Kind::Code, Kind::Reset, Kind::Plain] {
            layout.slots[kind.index()] = layout.place(kind, with_qr);
        }
        layout
    }

    /// Bottom-left corner of the `index`-th card of a page.
    pub fn origin(&self, index: usize) -> (f32, f32) {
        let (row, column) = (index / self.columns, index % self.columns);
        (column as f32 * self.width, A4.1 - (row + 1) as f32 * self.height)
    }

    fn place(&self, kind: Kind, with_qr: bool) -> Slots {
        let k = self.scale;
        let pad = 14.0 * k;
        let full = self.width - 2.0 * pad;
        let mut flow = Flow {
            y: self.height - pad,
            x: pad,
            full,
            narrow: full,
            qr: (0.0, 0.0),
        };
        let mut slots = Slots {
            school: flow.line(0.0, 9.0 * k),
            ..Slots::default()
        };
        slots.rule_y = flow.y - 3.0 * k;
        flow.y = slots.rule_y;
        if with_qr {
            let side = 84.0 * k;
            let top = flow.y - 6.0 * k;
            let caption = Line {
                x: self.width - pad - side,
                y: top - side - 7.0 * k,
                size: 6.0 * k,
                width: side,
            };
            slots.qr = Some((self.width - pad - side, top - side, side, caption));
            flow.narrow = full - side - 10.0 * k;
            flow.qr = (top, top - side - 9.0 * k);
        }
        slots.name = flow.line(6.0 * k, 12.5 * k);
        // Room under the name for the deep descenders of Arabic script (ي, ع…).
        slots.class = flow.line(4.5 * k, 8.0 * k);
        slots.login_label = flow.line(6.0 * k, 7.0 * k);
        slots.login = flow.line(0.0, 11.0 * k);
        match kind {
            Kind::Password | Kind::Code => {
                slots.secret_label = Some(flow.line(5.0 * k, 7.0 * k));
                slots.secret = Some(flow.line(3.0 * k, 12.0 * k));
                slots.expiry = Some(flow.line(3.0 * k, 7.0 * k));
            }
            Kind::Reset => {
                slots.secret_label = Some(flow.line(6.0 * k, 9.5 * k));
                slots.secret = Some(flow.line(1.0 * k, 7.5 * k));
            }
            Kind::Plain => {}
        }
        slots.url_label = flow.line(6.0 * k, 7.0 * k);
        slots.url = flow.line(0.0, 8.5 * k);
        let top = (flow.y - 7.0 * k).min(if with_qr { flow.qr.1 - 4.0 * k } else { f32::MAX });
        let size = 7.0 * k;
        slots.notes = Line {
            x: pad,
            y: top - 0.95 * size,
            size,
            width: full,
        };
        slots.notes_bottom = pad;
        slots
    }
}

/// Lines from the top down; those beside the QR code are narrower.
struct Flow {
    y: f32,
    x: f32,
    full: f32,
    narrow: f32,
    /// Top and bottom of the QR code with its caption.
    qr: (f32, f32),
}

impl Flow {
    fn line(&mut self, gap: f32, size: f32) -> Line {
        let top = self.y - gap;
        self.y = top - 1.2 * size;
        let beside_qr = self.y < self.qr.0 && top > self.qr.1;
        Line {
            x: self.x,
            y: top - 0.95 * size,
            size,
            width: if beside_qr { self.narrow } else { self.full },
        }
    }
}
