//! Rosters too large for one request: an upload link, then an import run in the
//! background with its progress and report (SPEC §4, imports).

use serde_json::{Value, json};
use sesame::domain::{Caller, ImportJob, Role, RunStatus, SchoolId};
use sesame_tests::TestApp;
use sesame_tests::uploads::{finished, job, roster, start, upload};

async fn school(app: &TestApp, id: &str) -> String {
    app.create_school(id, "Collège des Envois").await;
    app.token(id, "admin", "secretariat", &[])
}

async fn count(app: &TestApp, token: &str) -> u64 {
    let listed = app.get("/v1/accounts?limit=1", token).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    listed.body["total"].as_u64().unwrap()
}

fn report(job: &Value) -> Value {
    let mut report = job["report"].clone();
    report["dry_run"] = Value::Null;
    report
}

#[tokio::test]
async fn an_uploaded_roster_is_previewed_then_imported_in_the_background_as_the_request_would() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let other = school(&app, "direct").await;
    let csv = roster(100);
    let direct = app.import("direct", &csv).await;
    assert_eq!(direct.status, 200, "{:?}", direct.body);

    let upload_id = upload(&app.client, &app.base, &admin, csv.clone().into_bytes()).await;
    let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, true).await;
    assert_eq!(status, 202, "{queued:?}");
    assert_eq!(queued["dry_run"], true);
    let preview = finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;
    assert_eq!(preview["status"], "done", "{preview:?}");
    assert_eq!(count(&app, &admin).await, 0, "a dry run writes nothing");

    let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, false).await;
    assert_eq!(status, 202, "{queued:?}");
    let done = finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;

    assert_eq!(done["status"], "done", "{done:?}");
    assert_eq!(done["total"], 200);
    assert_eq!(done["processed"], done["total"]);
    assert_eq!(report(&done), report(&json!({"report": direct.body})));
    assert_eq!(report(&preview), report(&done));
    assert!(done["report"]["created"].as_u64().unwrap() > 190);
    assert_eq!(count(&app, &admin).await, count(&app, &other).await);
    // The upload is gone with its run: it cannot be imported again.
    let (status, again) = start(&app.client, &app.base, &admin, &upload_id, false).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("conflict")));
    // Nothing of the roster is kept: on disk the sealed upload is emptied, and stays
    // only to refuse its link's PUT until the sweep; in S3 (whose links cannot be
    // refused) it is deleted, and the run's id refuses a second run.
    let uploads: Vec<_> = app
        .stored_files()
        .await
        .into_iter()
        .filter(|(key, _)| key.starts_with("uploads/envois/"))
        .collect();
    assert_eq!(uploads.is_empty(), app.files_bucket().is_some(), "{uploads:?}");
    for (key, size) in uploads {
        assert!(key.ends_with(".sealed"), "{key}");
        assert_eq!(size, 0, "{key}");
    }
}

#[tokio::test]
async fn only_administrators_of_the_school_upload_start_and_follow_imports() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let stranger = school(&app, "ailleurs").await;
    let teacher = app.token("envois", "teacher", "prof", &["6e-1"]);
    let upload_id = upload(&app.client, &app.base, &admin, roster(2).into_bytes()).await;

    let asked = app.post("/v1/imports/uploads", Some(&teacher), json!(null)).await;
    assert_eq!((asked.status, asked.code()), (403, "forbidden"));
    let (status, _) = start(&app.client, &app.base, &teacher, &upload_id, false).await;
    assert_eq!(status, 403);
    // Another school's administrator names an upload that is not theirs.
    let (status, refused) = start(&app.client, &app.base, &stranger, &upload_id, false).await;
    assert_eq!((status, refused["code"].as_str()), (409, Some("conflict")));

    let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, false).await;
    assert_eq!(status, 202);
    let id = queued["id"].as_str().unwrap();
    finished(&app.client, &app.base, &admin, id).await;
    let seen = app.get(&format!("/v1/imports/jobs/{id}"), &teacher).await;
    assert_eq!(seen.status, 403);
    let seen = app.get(&format!("/v1/imports/jobs/{id}"), &stranger).await;
    assert_eq!((seen.status, seen.code()), (404, "not_found"));
}

#[tokio::test]
async fn an_upload_link_takes_one_key_until_it_expires() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let link = app.post("/v1/imports/uploads", Some(&admin), json!(null)).await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let url = link.body["url"].as_str().unwrap().to_owned();
    let put = |url: String| {
        let client = app.client.clone();
        async move { client.put(url).body("x").send().await.unwrap().status().as_u16() }
    };

    let tampered = sesame_tests::tampered(&url);
    let elsewhere = url.replace("/uploads/envois/", "/uploads/ailleurs/");
    let exports = url.replace("/uploads/", "/exports/");
    assert_eq!(put(tampered).await, 403);
    assert_eq!(put(elsewhere).await, 403);
    assert_eq!(put(exports).await, 403);
    // Signed for an upload, it downloads nothing.
    let read = app.client.get(&url).send().await.unwrap().status().as_u16();
    assert_eq!(read, 403);

    if app.files_bucket().is_some() {
        // S3 checks a presigned link's expiry on its own clock, not the test's.
        assert!(url.contains("X-Amz-Expires=900"), "{url}");
    } else {
        app.clock.advance(chrono::Duration::minutes(16));
        assert_eq!(put(url).await, 403, "the link has expired");
    }
}

#[tokio::test]
async fn an_upload_started_by_twenty_requests_at_once_is_imported_once() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let upload_id = upload(&app.client, &app.base, &admin, roster(40).into_bytes()).await;

    let starts = (0..20).map(|_| start(&app.client, &app.base, &admin, &upload_id, false));
    let answers = futures::future::join_all(starts).await;

    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| matches!(s, 202 | 409)), "{answers:?}");
    let done = finished(
        &app.client,
        &app.base,
        &admin,
        accepted[0]["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "done");
    assert_eq!(
        count(&app, &admin).await,
        done["report"]["created"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn a_file_that_is_no_roster_fails_its_job_saying_why() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    for (bytes, words) in [
        (b"nom;prenom;couleur\nA;B;C\n".to_vec(), "file"),
        (b"PK\x03\x04 not really a workbook".to_vec(), "file"),
    ] {
        let upload_id = upload(&app.client, &app.base, &admin, bytes).await;
        let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, false).await;
        assert_eq!(status, 202);
        let failed = finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;

        assert_eq!(failed["status"], "failed", "{failed:?}");
        assert!(failed["error"].as_str().unwrap().contains(words), "{failed:?}");
        assert!(failed.get("report").is_none());
    }
    assert_eq!(count(&app, &admin).await, 0);
}

#[tokio::test]
async fn a_start_that_names_no_upload_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    for (body, field) in [
        (json!({"upload_id": "../../exports/envois/1-x"}), "upload_id"),
        (
            json!({"upload_id": "1700000000-0000000000000000000000000000000g"}),
            "upload_id",
        ),
        (json!({}), "upload_id"),
        (
            json!({"upload_id": "1700000000-00000000000000000000000000000000", "mode": "fast"}),
            "mode",
        ),
    ] {
        let refused = app.post("/v1/imports/jobs", Some(&admin), body.clone()).await;
        assert_eq!(refused.status, 422, "{body} → {:?}", refused.body);
        assert!(
            refused.body.to_string().contains(field),
            "{body} → {:?}",
            refused.body
        );
    }
    let never = json!({"upload_id": "1700000000-00000000000000000000000000000000"});
    let refused = app.post("/v1/imports/jobs", Some(&admin), never).await;
    assert_eq!((refused.status, refused.code()), (409, "conflict"));
    for id in ["imp_nothing".to_owned(), format!("imp_{}", "a".repeat(2000))] {
        let unknown = app.get(&format!("/v1/imports/jobs/{id}"), &admin).await;
        assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    }
}

/// A crash leaves a job queued or running; the edge's next start (or the stream's
/// retry) runs it again, unless it was already writing (then it says so, and the
/// audit log too) or was already cut short twice.
#[tokio::test]
async fn an_interrupted_import_runs_again_unless_it_was_writing_or_cut_short_twice() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let sesame = &app.state.sesame;
    let school_id = SchoolId::parse("envois").unwrap();
    let caller = Caller {
        sub: "secretariat".into(),
        school: school_id.clone(),
        role: Role::Admin,
        classes: vec![],
    };
    let mut interrupted = Vec::new();
    for (writing, attempts) in [(false, 1), (true, 1), (false, 2)] {
        let upload_id = upload(&app.client, &app.base, &admin, roster(5).into_bytes()).await;
        let stuck = ImportJob {
            id: ImportJob::new_id(),
            school: school_id.clone(),
            requested_by: caller.clone(),
            request_id: None,
            upload_key: format!("uploads/envois/{upload_id}"),
            dry_run: false,
            options: Default::default(),
            status: RunStatus::Running,
            processed: 0,
            total: 10,
            report: None,
            error: None,
            writing,
            attempts,
            created_at: sesame.now(),
            finished_at: None,
            version: 0,
        };
        sesame.exports.put_import(&stuck).await.unwrap();
        sesame.run_import(&school_id, &stuck.id).await.unwrap();
        interrupted.push(job(&app.client, &app.base, &admin, &stuck.id).await);
    }

    assert_eq!(interrupted[0]["status"], "done", "{:?}", interrupted[0]);
    assert_eq!(interrupted[0]["report"]["created"], 10);
    assert_eq!(interrupted[1]["status"], "failed");
    assert!(
        interrupted[1]["error"]
            .as_str()
            .unwrap()
            .contains("interrupted while writing")
    );
    assert_eq!(interrupted[2]["status"], "failed");
    assert!(
        interrupted[2]["error"]
            .as_str()
            .unwrap()
            .contains("cut short 2 times")
    );
    assert_eq!(count(&app, &admin).await, 10);
    let audit = app.get("/v1/audit", &admin).await;
    assert!(
        audit.body.to_string().contains("interrupted after 0 of 10 rows"),
        "{:?}",
        audit.body
    );
}

#[tokio::test]
async fn an_upload_beyond_64_mib_is_refused_and_an_empty_one_fails_its_job() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "envois").await;
    let link = app.post("/v1/imports/uploads", Some(&admin), json!(null)).await;
    let url = link.body["url"].as_str().unwrap();
    let too_large = vec![b'a'; 64 * 1024 * 1024 + 1];

    let put = app.client.put(url).body(too_large).send().await.unwrap();
    let upload_id = link.body["upload_id"].as_str().unwrap();
    let (status, refused) = start(&app.client, &app.base, &admin, upload_id, false).await;
    if app.files_bucket().is_some() {
        // S3 takes any size a presigned PUT sends; the start refuses the file.
        assert!(put.status().is_success(), "{}", put.status());
        assert_eq!(
            (status, refused["errors"][0]["field"].as_str()),
            (422, Some("upload_id")),
            "{refused}"
        );
    } else {
        assert_eq!(put.status().as_u16(), 413);
        assert_eq!(status, 409, "nothing was kept");
    }

    let empty = upload(&app.client, &app.base, &admin, Vec::new()).await;
    let (_, queued) = start(&app.client, &app.base, &admin, &empty, false).await;
    let failed = finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().starts_with("file"),
        "{failed:?}"
    );
}
