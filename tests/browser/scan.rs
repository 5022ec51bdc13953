//! Scan to claim: the QR code of a pupil's activation card opens the activation
//! page with the login and the code filled in (the code in the fragment, which
//! browsers never send); the pupil chooses a password and the account is theirs.

use crate::driver::{submit, type_into, wait_for_heading, with_browser};
use serde_json::json;
use sesame_tests::Fixture;

/// The QR codes on the first page of `pdf`, read from a rendering as a phone
/// camera would (poppler's `pdftoppm`, then `rqrr`).
pub fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cards.pdf");
    std::fs::write(&path, pdf).unwrap();
    let prefix = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-gray", "-r", "150", "-singlefile", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(status.success());
    let pgm = std::fs::read(prefix.with_extension("pgm")).unwrap();
    let (width, height, pixels) = parse_pgm(&pgm);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    image
        .detect_grids()
        .iter()
        .map(|grid| grid.decode().expect("a readable QR code").1)
        .collect()
}

/// A binary PGM (`P5`, 8 bits) as poppler writes it.
fn parse_pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let text = String::from_utf8_lossy(&bytes[..32.min(bytes.len())]);
    let fields: Vec<&str> = text.split_ascii_whitespace().take(4).collect();
    assert_eq!((fields[0], fields[3]), ("P5", "255"));
    let header: usize = fields.iter().map(|f| f.len() + 1).sum();
    (
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        &bytes[header..],
    )
}

async fn card_of(f: &Fixture, ext: &str, content: &str) -> Vec<u8> {
    let body = json!({"account_ids": [f.id(ext)], "content": content, "format": "pdf", "per_page": 1});
    let queued = f.app.post("/v1/exports", Some(&f.admin()), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let id = queued.body["id"].as_str().unwrap().to_owned();
    for _ in 0..400 {
        let state = f.app.get(&format!("/v1/exports/{id}"), &f.admin()).await;
        if state.body["status"] == "done" {
            let url = state.body["download_url"].as_str().unwrap();
            let file = f.app.client.get(url).send().await.unwrap();
            return file.bytes().await.unwrap().to_vec();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the export did not finish");
}

#[tokio::test]
async fn the_qr_code_of_an_activation_card_opens_the_activation_page_filled_in() {
    let f = Fixture::new().await;
    let pdf = card_of(&f, "SA2", "activation").await;
    let codes = qr_codes(&pdf);
    assert_eq!(codes.len(), 1, "{codes:?}");
    let link = codes[0].clone();
    let prefix = format!("{}/activate?login={}#code=", f.app.base, f.login_of("SA2"));
    assert!(link.starts_with(&prefix), "{link}");
    let code = link[prefix.len()..].to_owned();
    let logs_before = sesame_tests::logs().len();
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Activer mon compte").await;
        let filled = browser
            .execute(
                "return [document.getElementById('login').value, \
                 document.getElementById('activation_code').value, location.hash];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            filled,
            json!([f.login_of("SA2"), code, ""]),
            "filled in, the fragment gone"
        );
        let chosen = "lanterne-verte-du-soir";
        type_into(&browser, "new_password", chosen).await;
        type_into(&browser, "confirmation", chosen).await;
        submit(&browser).await;
        wait_for_heading(&browser, "Compte activé").await;
        let account = f
            .app
            .get(&format!("/v1/accounts/{}", f.id("SA2")), &f.admin())
            .await;
        assert_eq!(account.body["activation"], "activated");
        assert!(
            !sesame_tests::logs()[logs_before..].contains(&code),
            "the code never reaches the server's log"
        );
    })
    .await;
}

#[tokio::test]
async fn a_credentials_card_on_the_edge_opens_its_sign_in_page_with_the_login() {
    let f = Fixture::new().await;
    // The cards point at this server's own sign-in page, as a new school's do.
    let url = format!("{}/", f.app.base);
    let set = f
        .app
        .put("/v1/settings", &f.admin(), json!({"login_url": url}))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let pdf = card_of(&f, "SA1", "credentials").await;
    let codes = qr_codes(&pdf);
    assert_eq!(codes, [format!("{url}?login={}", f.login_of("SA1"))]);
    let link = codes[0].clone();
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Se connecter").await;
        let login = browser
            .execute("return document.getElementById('login').value;", vec![])
            .await
            .unwrap();
        assert_eq!(login, json!(f.login_of("SA1")));
    })
    .await;
}
