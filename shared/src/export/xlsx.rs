//! XLSX tables: one sheet, a bold frozen header row, columns sized to their
//! content, expiries as date cells and every other cell written as text (never
//! a formula, never a number): a class `6e-1`, a login `0042` or a name `=1+1`
//! opens as written, in Calc as in Excel, which a CSV cannot promise (see `csv`).

use super::Document;
use super::columns::Table;
use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook, XlsxError};

/// Column widths, in characters, stay between these.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 90;

pub(super) fn render(doc: &Document) -> anyhow::Result<Vec<u8>> {
    Ok(build(doc)?)
}

fn build(doc: &Document) -> Result<Vec<u8>, XlsxError> {
    let table = Table::new(doc);
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDCE6F1))
        .set_border_bottom(FormatBorder::Thin);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(table.labels.title(doc.content)))?;

    let mut widths: Vec<usize> = table.headers.iter().map(|h| h.chars().count()).collect();
    for (col, title) in (0u16..).zip(table.headers) {
        sheet.write_string_with_format(0, col, *title, &header)?;
    }
    // Expiries are real date cells, on the school's clocks.
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut cells = Vec::with_capacity(table.headers.len());
    for (row_number, row) in (1u32..).zip(doc.rows) {
        table.cells(row, &mut cells);
        let expiry = table.expiry(row);
        for ((col, cell), width) in (0u16..).zip(&cells).zip(&mut widths) {
            if let Some((_, at)) = expiry.filter(|(c, _)| usize::from(col) == *c) {
                let when = ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?
                    .and_hms(at.hour() as u16, at.minute() as u8, 0)?;
                sheet.write_datetime_with_format(row_number, col, &when, &date)?;
                *width = (*width).max(16);
            } else if !cell.is_empty() {
                sheet.write_string(row_number, col, cell.as_ref())?;
                *width = (*width).max(cell.chars().count());
            }
        }
    }

    for (col, width) in (0u16..).zip(&widths) {
        let chars = (*width).clamp(MIN_WIDTH, MAX_WIDTH) + 2;
        sheet.set_column_width(col, u32::try_from(chars).unwrap_or(u32::MAX))?;
    }
    let last_row = u32::try_from(doc.rows.len()).unwrap_or(u32::MAX);
    let last_col = u16::try_from(table.headers.len() - 1).unwrap_or(u16::MAX);
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, last_row, last_col)?;
    // Printed, the table fits the page's width and repeats its header.
    sheet
        .set_landscape()
        .set_paper_size(9)
        .set_print_fit_to_pages(1, 0);
    sheet.set_repeat_rows(0, 0)?;
    workbook.save_to_buffer()
}

/// Sheet names are at most 31 characters and exclude a few.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}
