//! Credential files opened as a secretary opens them: headless LibreOffice Calc
//! (standing in for Excel) imports the CSV and the XLSX of the class `6e-1`, and
//! every cell it reads back is the API's value, typed as text (the XLSX's expiry
//! as a date on the school's clocks). `soffice` is required (scripts/test.sh installs Debian's libreoffice-calc-nogui): these
//! tests fail, never skip, without it.
//!
//! A CSV carries no cell types: on Calc's default import `6e-1` becomes 0.6 and
//! `0042` becomes 42, however the field is spelled (see `export/csv.rs`). The
//! XLSX is the file that opens right on a double click; the CSV does once "Format
//! quoted field as text" is ticked, and its names, passwords, expiry and address
//! read right even without it.

use crate::exports::{download, export, finished, records};
use chrono::Timelike;
use serde_json::{Value, json};
use sesame_tests::Fixture;
use std::io::Read;
use std::path::Path;
use std::process::Command;

const CLASS: &str = "6e-1";

/// Pupils whose cells a spreadsheet likes to reinterpret: logins of digits with
/// leading zeros, in scientific notation or decimal, accents, and names that start
/// like formulas.
const PUPILS: &str = "\
external_id,profile,first_name,last_name,classes,login
S61,student,Zoé,Lefèvre-Nguyễn,6e-1,0042
S62,student,Anaïs,N'Diaye,6e-1,1e5
S63,student,=2+5,+33 Dupont,6e-1,2024.05
";

/// Calc's Text Import dialog as a double click shows it (LibreOffice 7.4's defaults,
/// officecfg Calc/Dialogs/CSVImport) on a French desktop, as CSV filter options:
/// separators `,` `;` and tab, `"` quotes, UTF-8 (the file's BOM), from row 1, no
/// column types, French (1036), quoted field as text off, special numbers off,
/// (two export-only tokens), trim spaces off, (an export-only token), evaluate
/// formulas off.
const DOUBLE_CLICK: &str = "44/59/9,34,76,1,,1036,false,false,true,false,false,-1,false";
/// The same with "Format quoted field as text" ticked.
const QUOTED_AS_TEXT: &str = "44/59/9,34,76,1,,1036,true,false,true,false,false,-1,false";
/// The same with "Evaluate formulas" ticked, as Excel always reads a CSV.
const EVALUATING: &str = "44/59/9,34,76,1,,1036,false,false,true,false,false,-1,true";

/// A cell as Calc shows it, and whether Calc holds it as text (rather than a
/// number, a date or a boolean).
#[derive(Debug, Clone, PartialEq)]
struct Cell {
    shown: String,
    text: bool,
}

fn text(shown: &str) -> Cell {
    Cell {
        shown: shown.to_owned(),
        text: true,
    }
}

/// What Calc holds once it has opened a file.
struct Opened {
    rows: Vec<Vec<Cell>>,
    /// The cells Calc holds as a formula, as they are stored.
    formulas: Vec<String>,
    /// The document as Calc saves it (flat ODF XML).
    flat: String,
}

impl Opened {
    /// Whether Calc holds a date cell of the minute `at`.
    fn holds_date(&self, at: chrono::NaiveDateTime) -> bool {
        let value = at.format("office:date-value=\"%Y-%m-%dT%H:%M:%S\"").to_string();
        self.flat.contains(&value)
    }
}

/// The fixture's school with the pupils of `6e-1`, as the API lists them.
async fn school_with_6e1() -> (Fixture, Vec<Value>) {
    let f = Fixture::new().await;
    let report = f.app.import("riverside", PUPILS).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
    let list = f.app.get("/v1/accounts?limit=500", &f.admin()).await;
    let pupils: Vec<Value> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["classes"] == json!([CLASS]))
        .cloned()
        .collect();
    let logins: Vec<&str> = pupils.iter().map(|p| p["login"].as_str().unwrap()).collect();
    assert_eq!(logins.len(), 3, "{logins:?}");
    for login in ["0042", "1e5", "2024.05"] {
        assert!(logins.contains(&login), "the roster's login {login}: {logins:?}");
    }
    (f, pupils)
}

/// The class's new temporary passwords, in a French file of `format`.
async fn credentials(f: &Fixture, format: &str) -> Vec<u8> {
    let body = json!({
        "filter": {"class": CLASS, "profile": "student"},
        "content": "credentials",
        "format": format,
        "language": "fr",
    });
    let queued = export(f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let done = finished(f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    let (status, bytes) = download(f, done["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    bytes
}

/// How a CSV spells a cell that starts like a formula (SPEC §5).
fn as_in_a_csv(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Checks each pupil's row against the API: class, names (spelled by `spell`),
/// login and login address read back as text, and the password read back logs in.
/// Answers each pupil's account id and expiry cell, which each format types its
/// own way.
async fn assert_rows_are_the_apis(
    f: &Fixture,
    pupils: &[Value],
    rows: &[Vec<Cell>],
    spell: fn(&str) -> String,
) -> Vec<(String, Cell)> {
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    let login_url = settings.body["login_url"].as_str().unwrap();
    assert_eq!(
        rows.len(),
        1 + pupils.len(),
        "a header and a row a pupil: {rows:?}"
    );
    let mut expiries = Vec::new();
    for pupil in pupils {
        let field = |name: &str| pupil[name].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.get(3).is_some_and(|c| c.shown == field("login")))
            .unwrap_or_else(|| panic!("no row reads the login {}: {rows:?}", field("login")));
        assert_eq!(row.len(), 7, "{row:?}");
        assert_eq!(
            [&row[0], &row[1], &row[2], &row[3], &row[6]],
            [
                &text(CLASS),
                &text(&spell(field("first_name"))),
                &text(&spell(field("last_name"))),
                &text(field("login")),
                &text(login_url),
            ]
        );
        assert!(row[4].text, "{row:?}");
        let login = f.app.login(field("login"), &row[4].shown).await;
        assert_eq!(login.status, 200, "the password read back logs in: {row:?}");
        assert_eq!(login.body["must_change_password"], true);
        assert!(!row[5].shown.is_empty(), "{row:?}");
        expiries.push((field("id").to_owned(), row[5].clone()));
    }
    expiries
}

#[tokio::test]
async fn the_xlsx_opens_in_calc_with_the_apis_text_in_every_cell_and_the_expiry_as_a_date() {
    let (f, pupils) = school_with_6e1().await;
    let bytes = credentials(&f, "xlsx").await;

    let opened = open_in_calc("identifiants.xlsx", &bytes, None);

    assert_eq!(opened.formulas, Vec::<String>::new(), "no cell is a formula");
    let expiries = assert_rows_are_the_apis(&f, &pupils, &opened.rows, str::to_owned).await;
    let strings = xlsx_strings(&bytes);
    for header in &opened.rows[0] {
        assert!(
            header.text && strings.contains(&header.shown),
            "{header:?} is not in {strings:?}"
        );
    }
    // The expiry is a date cell, to the minute, on the school's clocks.
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    let zone = settings.body["time_zone"]
        .as_str()
        .and_then(sesame::domain::school::TimeZone::parse)
        .unwrap_or_default();
    for (id, cell) in expiries {
        let account = f.app.get(&format!("/v1/accounts/{id}"), &f.admin()).await;
        let at: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(account.body["temporary_password_expires_at"].clone()).unwrap();
        let local = zone
            .local(at)
            .naive_local()
            .with_second(0)
            .unwrap()
            .with_nanosecond(0)
            .unwrap();
        assert!(
            !cell.text && opened.holds_date(local),
            "{cell:?} is not the date {local}"
        );
    }
}

#[tokio::test]
async fn the_csv_opens_in_calc_exactly_as_written_when_quoted_fields_are_text() {
    let (f, pupils) = school_with_6e1().await;
    let bytes = credentials(&f, "csv").await;

    let opened = open_in_calc("identifiants.csv", &bytes, Some(QUOTED_AS_TEXT));

    assert_eq!(opened.formulas, Vec::<String>::new(), "no cell is a formula");
    let written: Vec<Vec<Cell>> = records(&bytes)
        .iter()
        .map(|record| record.iter().map(|field| text(field)).collect())
        .collect();
    assert_eq!(opened.rows, written, "every cell as the file writes it, as text");
    assert_rows_are_the_apis(&f, &pupils, &opened.rows, as_in_a_csv).await;
}

#[tokio::test]
async fn a_double_clicked_csv_keeps_names_passwords_expiry_and_address_as_text() {
    let (f, _) = school_with_6e1().await;
    let bytes = credentials(&f, "csv").await;

    let opened = open_in_calc("identifiants.csv", &bytes, Some(DOUBLE_CLICK));

    let written = records(&bytes);
    assert_eq!(opened.rows.len(), written.len(), "{:?}", opened.rows);
    for (read, written) in opened.rows.iter().zip(&written) {
        // Class and login may read as numbers here (`6e-1`, `0042`): that is what
        // the XLSX and the quoted-as-text import are for.
        for column in [1, 2, 4, 5, 6] {
            assert_eq!(read[column], text(&written[column]), "{read:?}");
        }
    }
    assert_eq!(
        opened.rows[0],
        written[0].iter().map(|h| text(h)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn names_that_start_like_formulas_stay_text_even_when_calc_evaluates_formulas() {
    let (f, _) = school_with_6e1().await;
    let bytes = credentials(&f, "csv").await;

    let opened = open_in_calc("identifiants.csv", &bytes, Some(EVALUATING));

    assert_eq!(opened.formulas, Vec::<String>::new(), "no cell is a formula");
    let row = opened
        .rows
        .iter()
        .find(|r| r[1].shown.contains("2+5"))
        .unwrap_or_else(|| panic!("the pupil `=2+5`: {:?}", opened.rows));
    assert_eq!(row[1..3], [text("'=2+5"), text("'+33 Dupont")]);
}

/// Opens `bytes` (a file named `name`) in headless LibreOffice Calc, importing a
/// CSV with the CSV filter options `csv_import`, and reads back every cell as
/// shown, with its type.
fn open_in_calc(name: &str, bytes: &[u8], csv_import: Option<&str>) -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).unwrap();
    // A profile of its own: tests run side by side, and soffice allows one
    // process a profile.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.path().join("profile").display()
    );
    let stem = Path::new(name).file_stem().unwrap().to_str().unwrap();

    // 1. Calc imports the file and saves what it holds as flat XML: each
    //    cell's type, and its formula if it has one.
    let flat_dir = dir.path().join("flat");
    let mut import = vec![profile.clone(), "--headless".to_owned()];
    import.extend(csv_import.map(|options| format!("--infilter=CSV:{options}")));
    import.extend(["--convert-to".to_owned(), "fods".to_owned()]);
    let flat = soffice(&import, &flat_dir, &input, &format!("{stem}.fods"));
    let flat = String::from_utf8(flat).unwrap();

    // 2. The same cells as shown, tab separated, text cells quoted and numbers,
    //    dates and booleans not (options: tab, `"`, UTF-8, from row 1, no column
    //    types, system language, quote all text cells, -, save as shown, no
    //    formulas, no trimming).
    let shown = soffice(
        &[
            profile,
            "--headless".to_owned(),
            "--convert-to".to_owned(),
            "csv:Text - txt - csv (StarCalc):9,34,76,1,,0,true,false,true,false,false".to_owned(),
        ],
        &dir.path().join("shown"),
        &dir.path().join("flat").join(format!("{stem}.fods")),
        &format!("{stem}.csv"),
    );
    Opened {
        rows: cells_of(std::str::from_utf8(&shown).unwrap()),
        formulas: formulas_of(&flat),
        flat,
    }
}

/// Runs soffice with `args`, `--outdir out` and `input`; answers the bytes of the
/// file `output` it wrote in `out`. A missing soffice fails the test with the way
/// to install it.
fn soffice(args: &[String], out: &Path, input: &Path, output: &str) -> Vec<u8> {
    let run = Command::new("soffice")
        .args(args)
        .arg("--outdir")
        .arg(out)
        .arg(input)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "soffice is required to open the files as a spreadsheet does ({error}): \
                 install LibreOffice Calc (apt-get install -y libreoffice-calc-nogui); \
                 scripts/test.sh does"
            )
        });
    let log = format!(
        "soffice {args:?}: {}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{log}");
    std::fs::read(out.join(output)).unwrap_or_else(|error| panic!("{output}: {error}; {log}"))
}

/// The rows of Calc's text export: fields separated by tabs, text quoted with `"`
/// (doubled inside), anything else bare.
fn cells_of(export: &str) -> Vec<Vec<Cell>> {
    export
        .trim_start_matches('\u{feff}')
        .lines()
        .map(row_of)
        .collect()
}

fn row_of(line: &str) -> Vec<Cell> {
    let mut cells = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let text = chars.peek() == Some(&'"');
        let mut in_quotes = text;
        if text {
            chars.next();
        }
        let mut shown = String::new();
        let mut more = false;
        while let Some(c) = chars.next() {
            match c {
                '"' if in_quotes && chars.peek() == Some(&'"') => {
                    chars.next();
                    shown.push('"');
                }
                '"' if in_quotes => in_quotes = false,
                '\t' if !in_quotes => {
                    more = true;
                    break;
                }
                c => shown.push(c),
            }
        }
        cells.push(Cell { shown, text });
        if !more {
            return cells;
        }
    }
}

/// The cells of a flat ODF spreadsheet that hold a formula, as stored.
fn formulas_of(flat: &str) -> Vec<String> {
    flat.split("<table:table-cell")
        .skip(1)
        .filter_map(|cell| {
            let attributes = &cell[..cell.find('>').unwrap_or(cell.len())];
            attributes
                .contains("table:formula=")
                .then(|| attributes.trim().to_owned())
        })
        .collect()
}

/// The strings an XLSX file holds (its shared strings), as written.
fn xlsx_strings(bytes: &[u8]) -> Vec<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    archive
        .by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml.split("<t")
        .skip(1)
        .filter_map(|part| {
            let part = part
                .strip_prefix('>')
                .or_else(|| part.strip_prefix(" xml:space=\"preserve\">"))?;
            let end = part.find("</t>")?;
            Some(
                part[..end]
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&apos;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}
