//! Credential files read back for real: CSV by its bytes, XLSX with calamine,
//! PDF with poppler's `pdftotext`, `pdfinfo` and `pdftoppm` (required: these
//! tests fail, never skip, when poppler-utils is missing), its QR code with rqrr.

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, NaiveDate, Utc};
use sesame::domain::{Language, Profile};
use sesame::export::{Content, Document, Format, PerPage, Row, Secret, render};
use std::io::Cursor;
use std::path::Path;
use std::process::Command;

const URL: &str = "https://ent.college-exemple.fr/connexion";
const SCHOOL: &str = "Collège Émile-Zola de Saint-Étienne";
const FORMULA: &str = "=cmd|' /C calc'!A0";
/// The demo's hardest names, and one that tries to be a spreadsheet formula.
const NAMES: [(&str, &str); 7] = [
    ("Zoé", "Nguyễn"),
    ("Emre", "Çelik"),
    ("Awa", "N'Diaye"),
    ("José", "Núñez"),
    ("Jürgen", "Müller"),
    ("Anaïs", "Brûlé"),
    (FORMULA, "Dupont"),
];

fn expiry() -> DateTime<Utc> {
    "2026-12-01T17:00:00Z".parse().unwrap()
}

fn rows(n: usize, content: Content) -> Vec<Row> {
    (0..n)
        .map(|i| {
            let (first_name, last_name) = NAMES[i % NAMES.len()];
            let secret = match content {
                Content::Credentials => Some(Secret::TemporaryPassword {
                    password: format!("tomate-girafe-soleil-{i:02}").into(),
                    expires_at: expiry(),
                }),
                Content::Activation if i % 3 == 2 => Some(Secret::HowToReset),
                Content::Activation => Some(Secret::ActivationCode {
                    code: format!("K7PM{i:04}").into(),
                    expires_at: expiry(),
                }),
                Content::Identifiers => None,
            };
            Row {
                class: format!("3e{}", i % 3 + 1),
                first_name: first_name.to_owned(),
                last_name: last_name.to_owned(),
                login: format!("eleve{i}.{}", last_name.to_lowercase().replace(['\'', ' '], "")),
                birth_date: NaiveDate::from_ymd_opt(2012, 3, 4),
                profile: Profile::Student,
                secret,
            }
        })
        .collect()
}

fn file(format: Format, content: Content, language: Language, per_page: PerPage, rows: &[Row]) -> Vec<u8> {
    let doc = Document {
        school_name: SCHOOL,
        login_url: URL,
        language,
        zone: sesame::domain::TimeZone::default(),
        content,
        per_page,
        rows,
    };
    render(format, &doc).unwrap()
}

fn csv_records(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn credentials_csv_has_a_bom_the_seed_columns_and_intact_accents() {
    let rows = rows(7, Content::Credentials);
    let bytes = file(
        Format::Csv,
        Content::Credentials,
        Language::Fr,
        PerPage::One,
        &rows,
    );

    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no UTF-8 BOM");
    let records = csv_records(&bytes, b';');
    let header = [
        "Classe",
        "Prénom",
        "Nom",
        "Identifiant",
        "Mot de passe temporaire",
        "Expiration du mot de passe temporaire",
        "URL de connexion",
    ];
    assert_eq!(records[0], header);
    assert_eq!(records.len(), 8);
    assert_eq!(
        records[1],
        [
            "3e1",
            "Zoé",
            "Nguyễn",
            "eleve0.nguyễn",
            "tomate-girafe-soleil-00",
            "2026-12-01T18:00:00+01:00",
            URL
        ]
    );
    let last_names: Vec<&str> = records[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(last_names, NAMES.map(|(_, last)| last));
}

#[test]
fn a_formula_in_a_csv_cell_comes_back_as_text() {
    let rows = rows(7, Content::Credentials);
    let bytes = file(
        Format::Csv,
        Content::Credentials,
        Language::Fr,
        PerPage::One,
        &rows,
    );

    let records = csv_records(&bytes, b';');
    assert_eq!(records[7][1], format!("'{FORMULA}"));
}

#[test]
fn activation_csv_explains_activation_or_reset() {
    let rows = rows(3, Content::Activation);
    let bytes = file(
        Format::Csv,
        Content::Activation,
        Language::En,
        PerPage::One,
        &rows,
    );

    let records = csv_records(&bytes, b',');
    assert_eq!(
        records[0][4..],
        ["Activation code", "Activation code expiry", "Instructions"]
    );
    assert_eq!(records[1][4], "K7PM0000");
    assert_eq!(records[1][5], "2026-12-01T18:00:00+01:00");
    assert!(
        records[1][6].contains(URL) && records[1][6].contains("activation code"),
        "{:?}",
        records[1]
    );
    assert_eq!(records[3][4..6], ["", ""], "an activated account has no code");
    assert!(
        records[3][6].starts_with("Account already activated"),
        "{:?}",
        records[3]
    );
}

#[test]
fn identifiers_csv_lists_last_name_first_and_the_birth_date() {
    let rows = rows(2, Content::Identifiers);
    let bytes = file(
        Format::Csv,
        Content::Identifiers,
        Language::Fr,
        PerPage::One,
        &rows,
    );

    let records = csv_records(&bytes, b';');
    assert_eq!(
        records[0],
        ["Classe", "Nom", "Prénom", "Identifiant", "Date de naissance"]
    );
    assert_eq!(records[2], ["3e2", "Çelik", "Emre", "eleve1.çelik", "04/03/2012"]);
}

#[test]
fn credentials_xlsx_holds_text_cells_with_headers_and_accents() {
    let rows = rows(7, Content::Credentials);
    let bytes = file(
        Format::Xlsx,
        Content::Credentials,
        Language::Fr,
        PerPage::One,
        &rows,
    );

    let mut workbook = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheet = workbook.sheet_names()[0].clone();
    assert_eq!(sheet, "Identifiants");
    let range = workbook.worksheet_range(&sheet).unwrap();
    let text = |row: usize, col: usize| match range.get((row, col)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("cell ({row}, {col}) is not text: {other:?}"),
    };
    assert_eq!(range.height(), 8);
    assert_eq!(text(0, 1), "Prénom");
    assert_eq!(text(0, 5), "Expiration du mot de passe temporaire");
    assert_eq!(text(1, 2), "Nguyễn");
    assert_eq!(text(6, 2), "Brûlé");
    assert_eq!(text(3, 3), "eleve2.ndiaye");
    assert_eq!(text(2, 4), "tomate-girafe-soleil-01");
    assert_eq!(text(1, 6), URL);
    // Stored as the text it is: no quote added, and never a formula.
    assert_eq!(text(7, 1), FORMULA);
    let formulas = workbook.worksheet_formula(&sheet).unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "a cell holds a formula"
    );
}

/// Runs a poppler tool; a missing tool fails the test with the way to install it.
fn poppler(tool: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|error| {
        panic!(
            "{tool} is required to read PDFs back ({error}): install poppler-utils \
             (apt-get install -y poppler-utils); scripts/test.sh does"
        )
    });
    assert!(
        output.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn pdf_text(pdf: &Path) -> String {
    String::from_utf8(poppler("pdftotext", &[pdf.to_str().unwrap(), "-"])).unwrap()
}

fn pdf_pages(pdf: &Path) -> usize {
    let info = String::from_utf8(poppler("pdfinfo", &[pdf.to_str().unwrap()])).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("Pages:"))
        .expect("pdfinfo prints Pages:");
    line["Pages:".len()..].trim().parse().unwrap()
}

fn write_pdf(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn pdf_cards_show_every_login_and_name_as_text_on_the_right_number_of_pages() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(11, Content::Credentials);
    for (per_page, pages) in [(PerPage::One, 11), (PerPage::Two, 6), (PerPage::Eight, 2)] {
        let bytes = file(Format::Pdf, Content::Credentials, Language::Fr, per_page, &rows);
        let pdf = write_pdf(dir.path(), &format!("{}.pdf", u8::from(per_page)), &bytes);

        assert_eq!(pdf_pages(&pdf), pages, "{per_page:?}");
        let text = pdf_text(&pdf);
        for row in &rows {
            assert!(
                text.contains(&row.login),
                "{per_page:?}: login {} missing",
                row.login
            );
            let name = format!("{} {}", row.first_name, row.last_name);
            assert!(text.contains(&name), "{per_page:?}: name {name} missing");
        }
        for needed in [
            "tomate-girafe-soleil-10",
            SCHOOL,
            URL,
            "Mot de passe temporaire",
            "Valable jusqu’au",
        ] {
            assert!(text.contains(needed), "{per_page:?}: {needed} missing");
        }
    }
}

#[test]
fn pdf_activation_cards_give_codes_and_tell_activated_accounts_how_to_reset() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(3, Content::Activation);
    let bytes = file(
        Format::Pdf,
        Content::Activation,
        Language::En,
        PerPage::Two,
        &rows,
    );
    let pdf = write_pdf(dir.path(), "activation.pdf", &bytes);

    let text = pdf_text(&pdf);
    assert!(text.contains("K7PM0000") && text.contains("K7PM0001"), "{text}");
    assert!(text.contains("Activation code"), "{text}");
    assert_eq!(text.matches("Account already activated").count(), 1, "{text}");
    assert!(text.contains("Forgot your password?"), "{text}");
}

#[test]
fn pdf_identifier_cards_carry_no_secret_and_no_birth_date() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(2, Content::Identifiers);
    let bytes = file(
        Format::Pdf,
        Content::Identifiers,
        Language::Fr,
        PerPage::Eight,
        &rows,
    );
    let pdf = write_pdf(dir.path(), "identifiers.pdf", &bytes);

    let text = pdf_text(&pdf);
    assert!(text.contains("eleve1.çelik"), "{text}");
    assert!(
        !text.contains("04/03/2012") && !text.contains("Mot de passe temporaire"),
        "{text}"
    );
}

#[test]
fn pdf_qr_code_decodes_to_the_login_url() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(1, Content::Credentials);
    let bytes = file(
        Format::Pdf,
        Content::Credentials,
        Language::Fr,
        PerPage::Two,
        &rows,
    );
    let pdf = write_pdf(dir.path(), "qr.pdf", &bytes);

    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "100",
            "-singlefile",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let pgm = std::fs::read(prefix.with_extension("pgm")).unwrap();
    let (width, height, pixels) = parse_pgm(&pgm);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on a page with one card");
    assert_eq!(grids[0].decode().unwrap().1, URL);
}

/// A binary PGM (`P5`, 8 bits) as poppler writes it.
fn parse_pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).unwrap());
    }
    assert_eq!((fields[0], fields[3]), ("P5", "255"));
    let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (width, height, &bytes[at + 1..])
}

#[test]
fn an_empty_selection_still_makes_a_readable_one_page_pdf_without_qr_when_no_url() {
    let dir = tempfile::tempdir().unwrap();
    let doc = Document {
        school_name: SCHOOL,
        login_url: "",
        language: Language::Fr,
        zone: sesame::domain::TimeZone::default(),
        content: Content::Credentials,
        per_page: PerPage::Eight,
        rows: &[],
    };
    let pdf = write_pdf(dir.path(), "empty.pdf", &render(Format::Pdf, &doc).unwrap());
    assert_eq!(pdf_pages(&pdf), 1);

    let rows = rows(1, Content::Credentials);
    let pdf = write_pdf(
        dir.path(),
        "no-url.pdf",
        &render(Format::Pdf, &Document { rows: &rows, ..doc }).unwrap(),
    );
    let text = pdf_text(&pdf);
    assert!(
        text.contains("eleve0.nguyễn") && !text.contains("Adresse de connexion"),
        "{text}"
    );
}
