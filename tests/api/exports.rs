//! Exports over HTTP on the edge: queued, built in the background, downloaded
//! through signed links that expire, deleted on request and by the sweep.

use serde_json::{Value, json};
use sesame_tests::{Fixture, Reply, pdf_text};
use std::time::Duration;

pub(crate) async fn export(f: &Fixture, token: &str, body: Value) -> Reply {
    f.app.post("/v1/exports", Some(token), body).await
}

/// Polls the export until it is no longer queued or running.
pub(crate) async fn finished(f: &Fixture, token: &str, id: &str) -> Value {
    for _ in 0..400 {
        let state = f.app.get(&format!("/v1/exports/{id}"), token).await;
        assert_eq!(state.status, 200, "{:?}", state.body);
        if !matches!(state.body["status"].as_str(), Some("queued" | "running")) {
            return state.body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the export did not finish");
}

pub(crate) async fn download(f: &Fixture, url: &str) -> (u16, Vec<u8>) {
    let response = f.app.client.get(url).send().await.unwrap();
    (
        response.status().as_u16(),
        response.bytes().await.unwrap().to_vec(),
    )
}

/// Records of a CSV file, whichever separator it uses, without its BOM.
pub(crate) fn records(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let first = text.lines().next().unwrap();
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn class_5a_credentials(f: &Fixture) -> Value {
    let body =
        json!({"filter": {"class": "5A", "profile": "student"}, "content": "credentials", "format": "csv"});
    let queued = export(f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    finished(f, &f.admin(), queued.body["id"].as_str().unwrap()).await
}

#[tokio::test]
async fn a_credentials_export_hands_out_temporary_passwords_that_log_in() {
    let f = Fixture::new().await;
    let done = class_5a_credentials(&f).await;
    assert_eq!(done["status"], "done", "{done}");
    let (status, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let rows = records(&bytes);
    assert_eq!(
        rows.len(),
        3,
        "a header and the two local students of 5A: {rows:?}"
    );
    let zoe = rows
        .iter()
        .find(|r| r.contains(&f.login_of("SA1").to_owned()))
        .expect("Zoé is in the file");
    assert!(
        zoe.contains(&"Zoé".to_owned()) && zoe.contains(&"Lefèvre".to_owned()),
        "{zoe:?}"
    );
    let password = zoe
        .iter()
        .find(|c| c.chars().count() >= 15 && c.contains('-'))
        .expect("a temporary password");
    let login = f.app.login(f.login_of("SA1"), password).await;
    assert_eq!(login.body["must_change_password"], true);
}

#[tokio::test]
async fn a_tampered_or_expired_link_answers_403() {
    let f = Fixture::new().await;
    let done = class_5a_credentials(&f).await;
    let url = done["download_url"].as_str().unwrap().to_owned();
    let tampered = sesame_tests::tampered(&url);
    assert_eq!(download(&f, &tampered).await.0, 403);
    let other_file = url.replace(".csv?", ".pdf?");
    assert_eq!(download(&f, &other_file).await.0, 403);
    if f.app.files_bucket().is_some() {
        // S3 checks a presigned link's expiry on its own clock, not the test's.
        assert!(url.contains("X-Amz-Expires=900"), "{url}");
    } else {
        f.app.clock.advance(chrono::Duration::minutes(16));
        assert_eq!(download(&f, &url).await.0, 403);
    }
    let fresh = f
        .app
        .get(
            &format!("/v1/exports/{}", done["id"].as_str().unwrap()),
            &f.admin(),
        )
        .await;
    assert_eq!(
        download(&f, fresh.body["download_url"].as_str().unwrap()).await.0,
        200,
        "a new link works"
    );
}

#[tokio::test]
async fn a_deleted_exports_link_stops_working() {
    let f = Fixture::new().await;
    let done = class_5a_credentials(&f).await;
    let id = done["id"].as_str().unwrap();
    let deleted = f
        .app
        .send(
            f.app
                .client
                .delete(format!("{}/v1/exports/{id}", f.app.base))
                .bearer_auth(f.admin()),
        )
        .await;
    assert_eq!(
        (deleted.status, deleted.body["status"].as_str()),
        (200, Some("deleted"))
    );
    let gone = download(&f, done["download_url"].as_str().unwrap()).await.0;
    if f.app.files_bucket().is_some() {
        // S3 answers a missing object 404 to a caller that may list the bucket,
        // 403 to one that may not (the exports function).
        assert!(matches!(gone, 403 | 404), "{gone}");
    } else {
        assert_eq!(gone, 410);
    }
    assert!(
        f.app
            .get(&format!("/v1/exports/{id}"), &f.admin())
            .await
            .body
            .get("download_url")
            .is_none()
    );
}

#[tokio::test]
async fn the_sweep_removes_files_before_they_are_a_day_old() {
    let f = Fixture::new().await;
    class_5a_credentials(&f).await;
    let every = chrono::Duration::minutes(10);
    assert_eq!(f.app.stored_files().await.len(), 1);
    f.app.clock.advance(chrono::Duration::minutes(23 * 60 + 49));
    assert_eq!(
        f.app.function("sesame-sweep").sweep_exports(every).await.unwrap(),
        0
    );
    // The next sweep would come after the file's 24 hours: this one deletes it.
    f.app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        f.app.function("sesame-sweep").sweep_exports(every).await.unwrap(),
        1
    );
    assert_eq!(f.app.stored_files().await, []);
}

#[tokio::test]
async fn every_export_is_an_audit_event_listing_its_accounts() {
    let f = Fixture::new().await;
    class_5a_credentials(&f).await;
    let audit = f.app.get("/v1/audit?action=export.create", &f.admin()).await;
    let event = &audit.body["items"][0];
    let mut targets: Vec<&str> = event["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    targets.sort_unstable();
    let mut expected = vec![f.id("SA1"), f.id("SA2")];
    expected.sort_unstable();
    assert_eq!(targets, expected);
}

#[tokio::test]
async fn a_teacher_exports_students_of_their_classes_only() {
    let f = Fixture::new().await;
    let other_class = json!({"account_ids": [f.id("SB1")], "content": "identifiers", "format": "csv"});
    let refused = export(&f, &f.teacher_a(), other_class).await;
    assert_eq!((refused.status, refused.code()), (422, "validation_failed"));
    let parent = json!({"account_ids": [f.id("PA1")], "content": "identifiers", "format": "csv"});
    assert_eq!(export(&f, &f.teacher_a(), parent).await.status, 422);
    let everyone = json!({"filter": {}, "content": "identifiers", "format": "csv"});
    let queued = export(&f, &f.teacher_a(), everyone).await;
    let done = finished(&f, &f.teacher_a(), queued.body["id"].as_str().unwrap()).await;
    let rows = records(&download(&f, done["download_url"].as_str().unwrap()).await.1);
    assert_eq!(rows.len(), 4, "a header and the three students of 5A: {rows:?}");
}

#[tokio::test]
async fn another_teacher_cannot_follow_someone_elses_export() {
    let f = Fixture::new().await;
    let queued = export(
        &f,
        &f.admin(),
        json!({"filter": {}, "content": "identifiers", "format": "pdf"}),
    )
    .await;
    let id = queued.body["id"].as_str().unwrap();
    assert_eq!(
        f.app
            .get(&format!("/v1/exports/{id}"), &f.teacher_a())
            .await
            .status,
        404
    );
    let hillside = f.app.token("hillside", "admin", "x", &[]);
    assert_eq!(
        f.app.get(&format!("/v1/exports/{id}"), &hillside).await.status,
        404
    );
}

#[tokio::test]
async fn an_export_names_either_accounts_or_a_filter() {
    let f = Fixture::new().await;
    let both = json!({"account_ids": [f.id("SA1")], "filter": {}, "content": "identifiers", "format": "csv"});
    assert_eq!(export(&f, &f.admin(), both).await.status, 422);
    let bad_page = json!({"filter": {}, "content": "identifiers", "format": "pdf", "per_page": 3});
    assert_eq!(export(&f, &f.admin(), bad_page).await.status, 422);
}

#[tokio::test]
async fn an_activation_export_gives_pending_accounts_codes_that_claim_them() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1"), f.id("SA2")], "content": "activation", "format": "csv", "language": "en"});
    let queued = export(&f, &f.admin(), body).await;
    let done = finished(&f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
    let rows = records(&download(&f, done["download_url"].as_str().unwrap()).await.1);
    let zoe = rows
        .iter()
        .find(|r| r.contains(&f.login_of("SA1").to_owned()))
        .expect("Zoé is in the file");
    let code = zoe
        .iter()
        .find(|c| c.len() == 8 && c.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit()));
    let code = code.unwrap_or_else(|| panic!("an activation code in {zoe:?}"));
    let claim =
        json!({"login": f.login_of("SA1"), "activation_code": code, "new_password": "tortue-violette-nuage"});
    let claimed = f.app.post("/v1/auth/activate", None, claim).await;
    assert_eq!(claimed.status, 200, "{:?}", claimed.body);
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA1")), &f.admin())
        .await;
    assert_eq!(account.body["activation"], "activated");
}

#[tokio::test]
async fn every_format_is_built_for_every_content() {
    let f = Fixture::new().await;
    for content in ["credentials", "activation", "identifiers"] {
        for (format, magic) in [("csv", &b"\xEF\xBB\xBF"[..]), ("xlsx", b"PK"), ("pdf", b"%PDF")] {
            let body =
                json!({"filter": {"class": "5A"}, "content": content, "format": format, "per_page": 2});
            let queued = export(&f, &f.admin(), body).await;
            let done = finished(&f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
            assert_eq!(done["status"], "done", "{content} {format}: {done}");
            let (status, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
            assert_eq!(status, 200);
            assert!(bytes.starts_with(magic), "{content} as {format}");
        }
    }
}

// ---- crashes (SPEC §5): what recovery makes of a job left running ----

/// The job of `done` as stored, set back to `running` with `change` applied, as a
/// crash at that point would have left it; then recovered.
async fn recovered(f: &Fixture, done: &Value, change: impl FnOnce(&mut sesame::domain::ExportJob)) -> Value {
    let sesame = &f.app.state.sesame;
    let school = sesame::domain::SchoolId::parse("riverside").unwrap();
    let id = done["id"].as_str().unwrap();
    let mut job = sesame.exports.get_export(&school, id).await.unwrap().unwrap();
    job.status = sesame::domain::ExportStatus::Running;
    job.finished_at = None;
    change(&mut job);
    sesame.exports.put_export(&job).await.unwrap();
    let job = sesame.exports.get_export(&school, id).await.unwrap().unwrap();
    sesame.recover_export(job).await.unwrap();
    f.app.get(&format!("/v1/exports/{id}"), &f.admin()).await.body
}

#[tokio::test]
async fn a_crash_after_the_commit_finishes_the_export_and_its_passwords_work() {
    let f = Fixture::new().await;
    let done = class_5a_credentials(&f).await;
    let (_, before) = download(&f, done["download_url"].as_str().unwrap()).await;

    let state = recovered(&f, &done, |_| {}).await;

    assert_eq!(state["status"], "done", "{state}");
    let (status, after) = download(&f, state["download_url"].as_str().unwrap()).await;
    assert_eq!((status, &after), (200, &before));
    let row = records(&after)
        .into_iter()
        .find(|r| r.contains(&f.login_of("SA1").to_owned()))
        .unwrap();
    let password = row
        .iter()
        .find(|c| c.contains('-') && c.len() >= 15)
        .expect("a passphrase");
    assert_eq!(f.app.login(f.login_of("SA1"), password).await.status, 200);
}

#[tokio::test]
async fn a_crash_during_a_partial_commit_revokes_what_it_handed_out_and_fails() {
    let f = Fixture::new().await;
    let done = class_5a_credentials(&f).await;
    let (_, file) = download(&f, done["download_url"].as_str().unwrap()).await;

    // One more secret than the accounts hold: the commit did not finish.
    let state = recovered(&f, &done, |job| job.committing = job.committing.map(|n| n + 1)).await;

    assert_eq!(state["status"], "failed", "{state}");
    let row = records(&file)
        .into_iter()
        .find(|r| r.contains(&f.login_of("SA1").to_owned()))
        .unwrap();
    let password = row
        .iter()
        .find(|c| c.contains('-') && c.len() >= 15)
        .expect("a passphrase");
    assert_eq!(f.app.login(f.login_of("SA1"), password).await.status, 401);
}

#[tokio::test]
async fn a_crash_before_the_commit_fails_the_export() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1")], "content": "identifiers", "format": "csv"});
    let queued = export(&f, &f.admin(), body).await;
    let done = finished(&f, &f.admin(), queued.body["id"].as_str().unwrap()).await;

    let state = recovered(&f, &done, |job| {
        job.committing = None;
        job.file = None;
    })
    .await;

    assert_eq!(state["status"], "failed", "{state}");
}

/// The credentials of `ext` as the admin's CSV export and PDF card give them.
async fn files_of(f: &Fixture, ext: &str) -> (String, String) {
    let mut texts = Vec::new();
    for format in ["csv", "pdf"] {
        let body = json!({"account_ids": [f.id(ext)], "content": "credentials", "format": format});
        let queued = export(f, &f.admin(), body).await;
        assert_eq!(queued.status, 202, "{:?}", queued.body);
        let done = finished(f, &f.admin(), queued.body["id"].as_str().unwrap()).await;
        let (status, bytes) = download(f, done["download_url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        texts.push(match format {
            "pdf" => pdf_text(&bytes),
            _ => String::from_utf8(bytes).unwrap(),
        });
    }
    let pdf = texts.pop().unwrap();
    (texts.pop().unwrap(), pdf)
}

#[tokio::test]
async fn expiries_read_in_the_schools_time_around_a_daylight_saving_change() {
    let f = Fixture::new().await;
    // 20 March 2027, noon UTC: Paris is at +01:00 until 28 March, then at +02:00.
    let target = chrono::DateTime::parse_from_rfc3339("2027-03-20T12:00:00Z").unwrap();
    let now = sesame::ports::Clock::now(&*f.app.clock);
    f.app.clock.advance(target.with_timezone(&chrono::Utc) - now);
    for (days, csv_cell, card) in [
        (1, "2027-03-21T13:00:00+01:00", "21/03/2027 à 13:00"),
        (10, "2027-03-30T14:00:00+02:00", "30/03/2027 à 14:00"),
    ] {
        let set = f
            .app
            .put(
                "/v1/settings",
                &f.admin(),
                json!({"temporary_password_days": days}),
            )
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
        let (csv, pdf) = files_of(&f, "SA1").await;
        assert!(csv.contains(csv_cell), "{days} days: {csv}");
        assert!(pdf.contains(card), "{days} days: {pdf}");
        assert!(
            pdf.contains("heure de Paris") || pdf.contains("Europe/Paris"),
            "{pdf}"
        );
    }
}
