//! CSV tables: UTF-8 with a BOM so spreadsheets read accents right, RFC 4180
//! quoting, and cells that a spreadsheet would run as a formula neutralised.
//!
//! French files are separated by `;`, English ones by `,`: the list separator a
//! spreadsheet set to that language expects, so a double click opens columns,
//! not one long line.

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
    fn formula_starts_get_a_quote_and_nothing_else_does() {
        for cell in ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(cell), format!("'{cell}"));
        }
        for cell in ["Zoé", "a=b", "", "'quoted", " =spaced"] {
            assert_eq!(neutralise(cell), cell);
        }
    }
}
