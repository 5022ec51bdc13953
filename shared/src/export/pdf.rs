//! Printable PDF cards (seed 004): A4 pages of 1, 2 or 8 cards, each with the
//! school, the person, their login and secret, the login URL and its QR code,
//! and short instructions. Text is real text in an embedded font subset.
//!
//! Pages are written one after the other, each compressed as soon as it is
//! drawn; what cards share is drawn once, so a file costs little more than its
//! own bytes in memory.

mod card;
mod font;
mod layout;
mod qr;

use super::labels::Labels;
use super::{Cards, Document};
use crate::domain::Language;
use card::Shared;
use font::{Fonts, deflate};
use layout::{A4, Kind, Layout};
use pdf_writer::writers::Resources;
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Settings, TextStr};

pub(super) fn render(doc: &Document, cards: &Cards) -> anyhow::Result<Vec<u8>> {
    let labels = Labels::of(doc.language);
    let with_qr = !doc.login_url.is_empty();
    let layout = Layout::new(doc.per_page, with_qr);
    let shared = Shared {
        labels,
        school_name: doc.school_name,
        login_url: doc.login_url,
        zone: doc.zone,
        cards,
    };
    let mut fonts = Fonts::new()?;
    let settings = Settings { pretty: false };
    let mut pdf = Pdf::with_settings_and_capacity(settings, 4096 + 700 * doc.rows.len());

    let mut next = Ref::new(1);
    let [catalog, pages, resources, info, qr] = [(); 5].map(|()| next.bump());
    let mut templates: [Option<Ref>; 4] = [None; 4];

    let per_page = doc.per_page.cards();
    let mut page_ids = Vec::with_capacity(doc.rows.len().div_ceil(per_page).max(1));
    // An empty selection still makes a valid file: one blank page.
    let chunks = doc
        .rows
        .chunks(per_page)
        .chain(doc.rows.is_empty().then_some(&[][..]));
    for chunk in chunks {
        let mut content = Content::with_settings(settings);
        for (index, row) in chunk.iter().enumerate() {
            let kind = Kind::of(row.secret.as_ref());
            if templates[kind.index()].is_none() {
                let id = next.bump();
                let drawing = deflate(&card::template(&layout, kind, &shared, &mut fonts))?;
                let mut form = pdf.form_xobject(id, &drawing);
                form.bbox(Rect::new(0.0, 0.0, layout.width, layout.height));
                form.filter(Filter::FlateDecode);
                form.pair(Name(b"Resources"), resources);
                form.finish();
                templates[kind.index()] = Some(id);
            }
            let origin = layout.origin(index);
            content.save_state();
            content.transform([1.0, 0.0, 0.0, 1.0, origin.0, origin.1]);
            content.x_object(kind.resource());
            content.restore_state();
            card::fill(&mut content, &mut fonts, &layout, &shared, origin, row)?;
        }
        if per_page > 1 {
            card::cut_lines(&mut content, &layout);
        }
        let (page, contents) = (next.bump(), next.bump());
        pdf.stream(contents, &deflate(&content.finish())?)
            .filter(Filter::FlateDecode);
        let mut writer = pdf.page(page);
        writer.media_box(Rect::new(0.0, 0.0, A4.0, A4.1));
        writer.parent(pages).contents(contents);
        writer.pair(Name(b"Resources"), resources);
        writer.finish();
        page_ids.push(page);
    }
    let count = i32::try_from(page_ids.len())?;
    pdf.pages(pages).kids(page_ids).count(count);

    if with_qr {
        let drawing = deflate(&qr::unit_square(doc.login_url)?)?;
        pdf.form_xobject(qr, &drawing)
            .bbox(Rect::new(0.0, 0.0, 1.0, 1.0))
            .filter(Filter::FlateDecode);
    }
    let used = fonts.allocate(&mut next);
    let mut dictionary = pdf.indirect(resources).start::<Resources>();
    let mut font_names = dictionary.fonts();
    for (_, name, refs) in &used {
        font_names.pair(*name, refs[0]);
    }
    font_names.finish();
    let mut xobjects = dictionary.x_objects();
    if with_qr {
        xobjects.pair(Name(b"QR"), qr);
    }
    for kind in [Kind::Password, Kind::Code, Kind::Reset, Kind::Plain] {
        if let Some(id) = templates[kind.index()] {
            xobjects.pair(kind.resource(), id);
        }
    }
    xobjects.finish();
    dictionary.finish();
    fonts.write(&mut pdf, &used)?;

    let language = match doc.language {
        Language::Fr => "fr-FR",
        Language::En => "en",
    };
    pdf.catalog(catalog).pages(pages).lang(TextStr(language));
    let title = format!("{} — {}", labels.title(doc.content), doc.school_name);
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("Sésame"));
    Ok(pdf.finish())
}
