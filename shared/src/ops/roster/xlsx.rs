//! The first sheet of an XLSX roster, read as rows of text. The archive's central
//! directory is checked before anything is inflated, so that a small upload cannot
//! expand into gigabytes; the zip reader then stops any part at its declared size.

use super::MAX_COLUMNS;
use crate::domain::{Error, Result};
use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use std::io::Cursor;

const MIB: u64 = 1024 * 1024;
/// Most parts an archive may hold (a workbook has a dozen or two).
pub const MAX_PARTS: usize = 1_000;
/// Largest inflated size of one part (the sheet, the shared strings…).
pub const MAX_PART_BYTES: u64 = 50 * MIB;
/// Largest inflated size of all parts together.
pub const MAX_TOTAL_BYTES: u64 = 100 * MIB;
/// A part compressed more than this many times over…
pub const MAX_RATIO: u64 = 100;
/// …is refused once it inflates beyond this (small parts compress well honestly).
pub const RATIO_FLOOR_BYTES: u64 = 10 * MIB;

/// Calls `row` with each row of the first visible worksheet that holds a value: its
/// number as the spreadsheet shows it (1 for the header) and one text a column.
/// Rows must follow each other from row 1 on, so that a row's number in a report is
/// the one the spreadsheet shows.
pub(super) fn each_row(bytes: &[u8], mut row: impl FnMut(usize, &[String]) -> Result<()>) -> Result<()> {
    check_archive(bytes, "workbook")?;
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .ok_or_else(|| Error::invalid("file", "the workbook has no visible worksheet"))?;
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(unreadable)?;
    // The row being gathered (0-based, as in the XML) and its cells.
    let mut current: Option<u32> = None;
    let mut values: Vec<String> = Vec::new();
    let mut next: u32 = 0;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (r, c) = cell.get_position();
        let Some(text) = text(cell.get_value(), r, c)? else {
            continue;
        };
        if c as usize >= MAX_COLUMNS {
            return Err(super::too_many_columns());
        }
        if current != Some(r) {
            if let Some(done) = current {
                if r < done {
                    return Err(Error::invalid("file", "the sheet's rows are out of order"));
                }
                row(done as usize + 1, &values)?;
                values.clear();
                next = done + 1;
            }
            if r != next {
                return Err(Error::invalid("file", gap(next)));
            }
            current = Some(r);
        }
        let c = c as usize;
        if values.len() <= c {
            values.resize(c + 1, String::new());
        }
        values[c] = text;
    }
    if let Some(done) = current {
        row(done as usize + 1, &values)?;
    }
    Ok(())
}

/// Why rows must not skip: reports number rows in order.
fn gap(next: u32) -> String {
    if next == 0 {
        "the header must be in row 1 of the first sheet".to_owned()
    } else {
        format!(
            "row {} is empty; remove the empty rows so that every row keeps its number",
            next + 1
        )
    }
}

/// Refuses an archive (a `what`: workbook, bundle) that would inflate beyond the
/// bounds, from the sizes its central directory declares (the reader later holds
/// each part to its size).
pub(super) fn check_archive(bytes: &[u8], what: &str) -> Result<()> {
    let not_readable = || match what {
        "workbook" => not_a_workbook(),
        _ => Error::invalid(
            "file",
            format!("the file is not a readable {what} (a zip archive)"),
        ),
    };
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| not_readable())?;
    if archive.len() > MAX_PARTS {
        return Err(Error::invalid(
            "file",
            format!("the {what} holds more than {MAX_PARTS} parts"),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let part = archive.by_index_data(i).map_err(|_| not_readable())?;
        let (size, compressed) = (part.size(), part.compressed_size());
        let name = String::from_utf8_lossy(part.name_raw()).into_owned();
        if size > MAX_PART_BYTES {
            return Err(Error::invalid(
                "file",
                format!(
                    "the part {name} would inflate to {} MiB, more than {} MiB",
                    size.div_ceil(MIB),
                    MAX_PART_BYTES / MIB
                ),
            ));
        }
        if size > RATIO_FLOOR_BYTES && size / compressed.max(1) > MAX_RATIO {
            return Err(Error::invalid(
                "file",
                format!(
                    "the part {name} is compressed more than {MAX_RATIO} to 1: refused as a compression bomb"
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL_BYTES {
            return Err(Error::invalid(
                "file",
                format!(
                    "the {what} would inflate to more than {} MiB",
                    MAX_TOTAL_BYTES / MIB
                ),
            ));
        }
    }
    Ok(())
}

fn not_a_workbook() -> Error {
    Error::invalid("file", "the file is not an XLSX workbook")
}

fn unreadable(e: XlsxError) -> Error {
    Error::invalid("file", format!("the workbook could not be read: {e}"))
}

/// A cell as the text a CSV would hold; `None` when it is empty. Whole numbers lose
/// their `.0` (an identifier 1234 stays `1234`), dates become `YYYY-MM-DD`.
fn text(value: &DataRef<'_>, r: u32, c: u32) -> Result<Option<String>> {
    let text = match value {
        DataRef::Empty => return Ok(None),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) if d.is_datetime() => {
            let (year, month, day, ..) = d.to_ymd_hms_milli();
            format!("{year:04}-{month:02}-{day:02}")
        }
        DataRef::DateTime(d) => number(d.as_f64()),
        DataRef::Error(e) => {
            return Err(Error::invalid(
                &format!("row {}", r as u64 + 1),
                format!("the cell {} holds the error {e}", cell_name(r, c)),
            ));
        }
    };
    Ok((!text.trim().is_empty()).then_some(text))
}

fn number(f: f64) -> String {
    // Below 2^53 every whole number is exact, and prints without a fraction.
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// `B7` for row 6, column 1 (both from 0).
fn cell_name(r: u32, c: u32) -> String {
    let mut letters = Vec::new();
    let mut n = c as u64 + 1;
    while n > 0 {
        n -= 1;
        letters.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), r as u64 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes every header of the part `name` declare `size` bytes once inflated.
    fn understate(bytes: &mut [u8], name: &[u8], size: u32) {
        // Local header: size at 22, name at 30; central directory header: 24 and 46.
        for at in 0..bytes.len().saturating_sub(46) {
            let (size_at, name_at) = match &bytes[at..at + 4] {
                b"PK\x03\x04" => (22, 30),
                b"PK\x01\x02" => (24, 46),
                _ => continue,
            };
            if bytes[at + name_at..].starts_with(name) {
                bytes[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
        }
    }

    #[test]
    fn a_part_that_inflates_beyond_its_declared_size_is_stopped_there() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for r in 0..500 {
            sheet.write_string(r, 0, "profile").unwrap();
        }
        let mut bytes = book.save_to_buffer().unwrap();
        understate(&mut bytes, b"xl/worksheets/sheet1.xml", 200);

        let mut rows = 0;
        let refused = each_row(&bytes, |_, _| {
            rows += 1;
            Ok(())
        });

        let Err(Error::Validation(errors)) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(errors[0].field, "file");
        assert!(errors[0].message.contains("declared"), "{errors:?}");
        assert_eq!(rows, 0, "not a row past the declared size");
    }

    #[test]
    fn cells_are_named_as_a_spreadsheet_names_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(6, 1), "B7");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(9, 701), "ZZ10");
    }

    #[test]
    fn whole_numbers_lose_their_fraction_and_others_keep_it() {
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(-7.0), "-7");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(1e20), "100000000000000000000");
    }
}
