//! CSV tables: UTF-8 with a BOM so spreadsheets read accents right, every field
//! quoted (RFC 4180), and cells that a spreadsheet would run as a formula
//! neutralised.
//!
//! French files are separated by `;`, English ones by `,`: the list separator a
//! spreadsheet set to that language expects, so a double click opens columns,
//! not one long line.
//!
//! A CSV has no cell types, and no spelling of a field keeps a spreadsheet from
//! reading text that looks like a number as one (measured with LibreOffice Calc
//! 7.4 on its default import: `6e-1` becomes 0.6 and `0042` becomes 42, quoted
//! or not; a leading `'` stays in the cell; `="6e-1"` is a formula). So every
//! field is quoted: with Calc's "Format quoted field as text" ticked once in the
//! import dialog (it is remembered), every cell reads back exactly, which an
//! unquoted field never does. The XLSX file, whose cells carry their type, is the
//! one that opens right with a plain double click.

use super::Document;
use super::columns::Table;
use crate::domain::Language;
use anyhow::Context;
use std::borrow::Cow;

const BOM: &[u8] = "\u{feff}".as_bytes();

pub(super) fn render(doc: &Document) -> anyhow::Result<Vec<u8>> {
    let table = Table::new(doc);
    let delimiter = match doc.language {
        Language::Fr => b';',
        Language::En => b',',
    };
    let mut out = Vec::with_capacity(BOM.len() + 160 * (doc.rows.len() + 1));
    out.extend_from_slice(BOM);
    let mut writer = ::csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::Always)
        .from_writer(out);
    writer.write_record(table.headers).context("CSV header")?;
    let mut cells = Vec::with_capacity(table.headers.len());
    for row in doc.rows {
        table.cells(row, &mut cells);
        for cell in &cells {
            writer.write_field(neutralise(cell).as_bytes())?;
        }
        writer.write_record(std::iter::empty::<&[u8]>())?;
    }
    writer
        .into_inner()
        .map_err(|error| anyhow::anyhow!("CSV: {}", error.error()))
}

/// A cell that starts like a formula (`=`, `+`, `-`, `@`, tab, carriage return)
/// gets a leading `'`, which spreadsheets show as text and never evaluate.
fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_quoted_even_one_that_looks_like_a_number() {
        let row = crate::export::Row {
            class: "6e-1".into(),
            first_name: "Zoé".into(),
            last_name: "=1+1".into(),
            login: "0042".into(),
            birth_date: None,
            profile: crate::domain::Profile::Student,
            secret: None,
        };
        let doc = Document {
            school_name: "Collège",
            login_url: "https://ent.example",
            language: Language::Fr,
            zone: crate::domain::TimeZone::default(),
            content: crate::export::Content::Identifiers,
            per_page: crate::export::PerPage::One,
            rows: std::slice::from_ref(&row),
        };
        let bytes = render(&doc).unwrap();
        let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
        assert_eq!(text.lines().nth(1), Some(r#""6e-1";"'=1+1";"Zoé";"0042";"""#));
    }

    #[test]
    fn formula_starts_get_a_quote_and_nothing_else_does() {
        for cell in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
        for cell in ["Zoé", "a=b", "", "'quoted", " =spaced"] {
            assert_eq!(neutralise(cell), cell);
        }
    }
}
