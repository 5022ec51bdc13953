//! Rosters in XLSX over HTTP: the first sheet reads as the same roster in CSV (names
//! in any script, real date cells, whole numbers), with the same per-row errors; a
//! compression bomb and bytes that are no workbook are refused with 422 naming the
//! file; the console previews and applies a workbook.

use super::console_pages::{csrf, staff};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Value, json};
use sesame_tests::{Fixture, Reply, TestApp};
use std::io::{Read, Write};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A cell of a test workbook.
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Date(u16, u8, u8),
}

/// A workbook whose first sheet holds `rows` (the header first); a second sheet
/// holds a decoy, so that "the first sheet" is what is read.
pub(crate) fn workbook(rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell {
                Cell::Text(t) => sheet.write_string(r, c, *t).map(|_| ()),
                Cell::Number(n) => sheet.write_number(r, c, *n).map(|_| ()),
                Cell::Date(y, m, d) => {
                    let day = ExcelDateTime::from_ymd(*y, *m, *d).unwrap();
                    sheet.write_datetime_with_format(r, c, &day, &date).map(|_| ())
                }
            }
            .unwrap();
        }
    }
    let decoy = book.add_worksheet();
    decoy.write_string(0, 0, "shoe_size").unwrap();
    book.save_to_buffer().unwrap()
}

/// The rows of a CSV text, every cell a string.
pub(crate) fn text_rows(csv: &str) -> Vec<Vec<Cell<'_>>> {
    csv.lines()
        .map(|line| line.split(',').map(Cell::Text).collect())
        .collect()
}

pub(crate) async fn import_xlsx(app: &TestApp, school: &str, bytes: Vec<u8>, dry_run: bool) -> Reply {
    let token = app.token(school, "admin", "fixture", &[]);
    let request = app
        .client
        .post(format!("{}/v1/imports?dry_run={dry_run}", app.base))
        .bearer_auth(token)
        .header("content-type", XLSX)
        .body(bytes);
    app.send(request).await
}

/// The school's accounts as names, profile, classes and birth date, in order.
async fn people(app: &TestApp, school: &str) -> Vec<Value> {
    let token = app.token(school, "admin", "fixture", &[]);
    let list = app.get("/v1/accounts?limit=500", &token).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let mut people: Vec<Value> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            json!({
                "first_name": a["first_name"], "last_name": a["last_name"], "profile": a["profile"],
                "classes": a["classes"], "birth_date": a["birth_date"],
            })
        })
        .collect();
    people.sort_by_key(|p| p.to_string());
    people
}

/// Names in eight scripts; one birth date as a date cell, one as text; external ids
/// as numbers where they are numbers.
const ROSTER_CSV: &str = "\
external_id,profile,first_name,last_name,classes,birth_date
1234,student,محمد,العلي,6A,2013-03-09
1235,student,伟,王,6A,01/05/2013
E-7,student,Σοφία,Παπαδοπούλου,6A,
1236,parent,Thị Minh Khai,Nguyễn,,
1237,teacher,Ioana,Ștefănescu,6A,
1238,student,דוד,כהן,6B,2012-11-30
1239,student,花子,佐藤,6B,
1240,student,민준,김,6B,
";

fn roster_xlsx() -> Vec<u8> {
    use Cell::{Date, Number, Text};
    workbook(&[
        vec![
            Text("external_id"),
            Text("profile"),
            Text("first_name"),
            Text("last_name"),
            Text("classes"),
            Text("birth_date"),
        ],
        vec![
            Number(1234.0),
            Text("student"),
            Text("محمد"),
            Text("العلي"),
            Text("6A"),
            Date(2013, 3, 9),
        ],
        vec![
            Number(1235.0),
            Text("student"),
            Text("伟"),
            Text("王"),
            Text("6A"),
            Text("01/05/2013"),
        ],
        vec![
            Text("E-7"),
            Text("student"),
            Text("Σοφία"),
            Text("Παπαδοπούλου"),
            Text("6A"),
        ],
        vec![
            Number(1236.0),
            Text("parent"),
            Text("Thị Minh Khai"),
            Text("Nguyễn"),
        ],
        vec![
            Number(1237.0),
            Text("teacher"),
            Text("Ioana"),
            Text("Ștefănescu"),
            Text("6A"),
        ],
        vec![
            Number(1238.0),
            Text("student"),
            Text("דוד"),
            Text("כהן"),
            Text("6B"),
            Date(2012, 11, 30),
        ],
        vec![
            Number(1239.0),
            Text("student"),
            Text("花子"),
            Text("佐藤"),
            Text("6B"),
        ],
        vec![
            Number(1240.0),
            Text("student"),
            Text("민준"),
            Text("김"),
            Text("6B"),
        ],
    ])
}

#[tokio::test]
async fn an_xlsx_roster_imports_the_same_accounts_as_the_same_roster_in_csv() {
    let app = TestApp::spawn().await;
    app.create_school("texte", "École du texte").await;
    app.create_school("tableur", "École du tableur").await;

    let from_csv = app.import("texte", ROSTER_CSV).await;
    let from_xlsx = import_xlsx(&app, "tableur", roster_xlsx(), false).await;

    assert_eq!(from_csv.status, 200, "{:?}", from_csv.body);
    assert_eq!(from_xlsx.status, 200, "{:?}", from_xlsx.body);
    assert_eq!(from_csv.body["errors"], json!([]), "{:?}", from_csv.body);
    assert_eq!(from_csv.body["created"], 8);
    assert_eq!(from_xlsx.body, from_csv.body);
    let (texte, tableur) = (people(&app, "texte").await, people(&app, "tableur").await);
    assert_eq!(tableur, texte);
    let date_cell = tableur.iter().find(|p| p["last_name"] == "العلي").unwrap();
    assert_eq!(date_cell["birth_date"], "2013-03-09", "a date cell is a date");
    let text_date = tableur.iter().find(|p| p["last_name"] == "王").unwrap();
    assert_eq!(
        text_date["birth_date"], "2013-05-01",
        "a date in text is read as in CSV"
    );
}

#[tokio::test]
async fn numeric_external_ids_of_an_xlsx_roster_match_the_same_ids_in_csv() {
    let app = TestApp::spawn().await;
    app.create_school("tableur", "École du tableur").await;
    let first = import_xlsx(&app, "tableur", roster_xlsx(), false).await;
    assert_eq!(first.body["created"], 8, "{:?}", first.body);

    let again = app.import("tableur", ROSTER_CSV).await;

    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        (&again.body["created"], &again.body["unchanged"]),
        (&json!(0), &json!(8)),
        "1234 in a number cell is the external id \"1234\": {:?}",
        again.body
    );
}

#[tokio::test]
async fn a_bad_row_of_an_xlsx_roster_gets_the_same_error_as_in_csv() {
    let app = TestApp::spawn().await;
    app.create_school("texte", "École du texte").await;
    app.create_school("tableur", "École du tableur").await;
    let csv = "external_id,profile,first_name,last_name,classes,email,birth_date\n\
               N1,student,Anaïs,Nouvelle,5B,,2013-01-01\n\
               N2,wizard,Bad,Row,5B,,\n\
               N3,student,Bad,Date,5B,,31/31/2013\n\
               N4,student,Bad,Mail,5B,not-an-email,\n";

    let from_csv = app.import("texte", csv).await;
    let from_xlsx = import_xlsx(&app, "tableur", workbook(&text_rows(csv)), false).await;

    assert_eq!(from_csv.status, 200, "{:?}", from_csv.body);
    let rows: Vec<(u64, &str)> = from_csv.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(3, "profile"), (4, "birth_date"), (5, "email")]);
    assert_eq!(from_xlsx.status, 200, "{:?}", from_xlsx.body);
    assert_eq!(from_xlsx.body["errors"], from_csv.body["errors"]);
    assert_eq!(from_xlsx.body["created"], 1);
}

#[tokio::test]
async fn an_empty_row_inside_the_sheet_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    app.create_school("tableur", "École du tableur").await;
    let mut rows = text_rows("profile,first_name,last_name\nstudent,Anaïs,Nouvelle");
    rows.push(vec![]);
    rows.extend(text_rows("student,Noé,Martin"));

    let reply = import_xlsx(&app, "tableur", workbook(&rows), false).await;

    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "file");
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("row 3 is empty"), "{message}");
}

/// A workbook like `workbook`'s but whose sheet inflates to `size` bytes of spaces,
/// written from a stream so that the test never holds them.
fn bomb(size: u64) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let honest = workbook(&text_rows("profile,first_name,last_name"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(honest)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for i in 0..archive.len() {
        let part = archive.by_index_raw(i).unwrap();
        if part.name().unwrap() != "xl/worksheets/sheet1.xml" {
            out.raw_copy_file(part).unwrap();
            continue;
        }
        out.start_file("xl/worksheets/sheet1.xml", deflated).unwrap();
        let head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
        let tail = "</sheetData></worksheet>";
        out.write_all(head.as_bytes()).unwrap();
        let spaces = size - (head.len() + tail.len()) as u64;
        std::io::copy(&mut std::io::repeat(b' ').take(spaces), &mut out).unwrap();
        out.write_all(tail.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_compression_bomb_is_refused_from_its_declared_size_without_inflating_it() {
    let app = TestApp::spawn().await;
    app.create_school("tableur", "École du tableur").await;
    let bytes = bomb(200 * 1024 * 1024);
    assert!(bytes.len() < 2 * 1024 * 1024, "{} bytes on the wire", bytes.len());

    let started = std::time::Instant::now();
    let reply = import_xlsx(&app, "tableur", bytes, false).await;

    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "file", "{:?}", reply.body);
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("xl/worksheets/sheet1.xml") && message.contains("200 MiB"),
        "refused from the central directory: {message}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn bytes_that_are_no_workbook_answer_422_naming_the_file() {
    let app = TestApp::spawn().await;
    app.create_school("tableur", "École du tableur").await;
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();

    let reply = import_xlsx(&app, "tableur", garbage, false).await;

    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "file");
    assert_eq!(
        reply.body["errors"][0]["message"],
        "the file is not an XLSX workbook"
    );
}

#[tokio::test]
async fn a_zip_that_holds_no_workbook_answers_422_naming_the_file() {
    let app = TestApp::spawn().await;
    app.create_school("tableur", "École du tableur").await;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"not a workbook").unwrap();
    let bytes = zip.finish().unwrap().into_inner();

    let reply = import_xlsx(&app, "tableur", bytes, false).await;

    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "file", "{:?}", reply.body);
}

#[tokio::test]
async fn the_import_route_describes_both_formats_and_its_refusals() {
    let app = TestApp::spawn().await;

    let doc = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .body;

    let import = &doc["paths"]["/v1/imports"]["post"];
    let content = import["requestBody"]["content"].as_object().unwrap();
    assert!(
        content.contains_key("text/csv") && content.contains_key(XLSX),
        "{content:?}"
    );
    for status in ["200", "413", "415", "422"] {
        assert!(import["responses"][status].is_object(), "{status} is described");
    }
}

/// A multipart upload of `file` named `name`, as the console's form sends it.
pub(crate) fn upload(csrf: &str, name: &str, content_type: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sesame-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"{name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_console_previews_then_applies_an_xlsx_roster() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (status, page, _) = admin.get("/console/imports").await;
    assert_eq!(status, 200);
    assert!(page.contains(".xlsx"), "the form offers workbooks: {page}");
    let roster = workbook(&text_rows(
        "external_id,profile,first_name,last_name,classes\nNEW1,student,Nina,Neuve,5A\nBAD,student,,Sansprénom,5A",
    ));
    let (content_type, body) = upload(&csrf(&page), "roster.xlsx", XLSX, &roster);

    let (status, preview) = admin
        .post_raw("/console/imports/preview", &content_type, body)
        .await;

    assert_eq!(status, 200, "{preview}");
    assert!(preview.contains("<dd id=\"created\">1</dd>"), "{preview}");
    assert!(preview.contains("<dd id=\"errors\">1</dd>"), "{preview}");
    let listed = f.app.get("/v1/accounts?q=Neuve", &f.admin()).await;
    assert_eq!(listed.body["total"], 0, "a preview writes nothing");
    let prefix = "name=\"roster\" value=\"";
    let at = preview.find(prefix).unwrap() + prefix.len();
    let kept = preview[at..].split('"').next().unwrap().to_owned();
    let (status, applied, _, _) = admin
        .post(
            "/console/imports/apply",
            &[("csrf", &csrf(&preview)), ("roster", &kept)],
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    let listed = f.app.get("/v1/accounts?q=Neuve", &f.admin()).await;
    assert_eq!(listed.body["total"], 1, "{:?}", listed.body);
}
