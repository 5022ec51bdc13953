//! Names in every script of a French school's roll on the PDF cards: Arabic and
//! Hebrew joined and right to left, Chinese, Japanese and Korean in a fallback
//! font, Greek, Vietnamese and Romanian in DejaVu; `pdftotext` gives back every
//! name and login.

use super::exports::{download, export, finished};
use super::imports_xlsx::{import_xlsx, text_rows, workbook};
use serde_json::json;
use sesame_tests::Fixture;
use unicode_normalization::UnicodeNormalization;

pub(crate) const NAMES: [(&str, &str); 8] = [
    ("محمد", "العلي"),
    ("伟", "王"),
    ("Σοφία", "Παπαδοπούλου"),
    ("Nguyễn Thị", "Minh Khai"),
    ("Ioana", "Ștefănescu"),
    ("דוד", "כהן"),
    ("花子", "佐藤"),
    ("민준", "김"),
];

fn pdf_text(bytes: &[u8]) -> String {
    sesame_tests::pdf_text(bytes).nfkc().collect()
}

/// A class `INT` of the eight pupils, imported from an XLSX roster; answers
/// their logins.
pub(crate) async fn international_class(f: &Fixture) -> Vec<String> {
    let mut csv = String::from("external_id,profile,first_name,last_name,classes\n");
    for (i, (first, last)) in NAMES.iter().enumerate() {
        csv.push_str(&format!("INT{i},student,{first},{last},INT\n"));
    }
    let roster = workbook(&text_rows(csv.trim_end()));
    let report = import_xlsx(&f.app, "riverside", roster, false).await;
    assert_eq!(report.body["created"], 8, "{:?}", report.body);
    let list = f.app.get("/v1/accounts?class=INT", &f.admin()).await;
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["login"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn cards_print_names_in_every_script_and_give_them_back_as_text() {
    let f = Fixture::new().await;
    let logins = international_class(&f).await;
    assert_eq!(logins.len(), 8);
    for per_page in [1, 8] {
        let body = json!({"filter": {"class": "INT"}, "content": "credentials", "format": "pdf", "per_page": per_page});
        let queued = export(&f, &f.admin(), body).await;
        assert_eq!(queued.status, 202, "{:?}", queued.body);
        let done = finished(&f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
        let (status, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        if let Some(dir) = std::env::var_os("SESAME_KEEP_PDF") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("scripts-{per_page}.pdf")),
                &bytes,
            )
            .unwrap();
        }
        let text = pdf_text(&bytes);
        for (first, last) in NAMES {
            for part in first.split(' ').chain(last.split(' ')) {
                let part: String = part.nfkc().collect();
                assert!(
                    text.contains(&part),
                    "{per_page} a page: {part} missing from {text}"
                );
            }
        }
        for login in &logins {
            assert!(
                text.contains(login.as_str()),
                "{per_page} a page: {login} missing"
            );
        }
    }
}

#[tokio::test]
async fn a_parents_card_names_their_children_with_their_classes() {
    let f = Fixture::new().await;
    let roster = "external_id,profile,first_name,last_name,children\nPX,parent,Karim,Benali,SA1|SB1\n";
    let report = f.app.import("riverside", roster).await;
    assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
    let list = f.app.get("/v1/accounts?q=Benali", &f.admin()).await;
    let parent = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let body = json!({"account_ids": [parent], "content": "activation", "format": "pdf", "per_page": 8});
    let queued = export(&f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let done = finished(&f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
    let (_, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
    let text = pdf_text(&bytes).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Zoé Lefèvre (5A)"), "{text}");
    assert!(text.contains("Léa Dubois (5B)"), "{text}");
}
