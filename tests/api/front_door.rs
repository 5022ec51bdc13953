//! The front door holds on every road (SPEC §2, §3): `local_admin` for adults only,
//! birth-date passwords for the admin roles only, exports handed out by the role
//! their caller has now, wrong reset links limited per address, every lock visible
//! and liftable, imports that link only what the importer may change, one file per
//! upload, and a console that asks permission first, carries request ids and has
//! the API's bulk limit.

use super::console_pages::{Browser, csrf, signed_in, staff};
use super::imports_xlsx::upload as multipart;
use crate::exports::{export, finished};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use sesame_tests::uploads::{finished as job_finished, start};
use sesame_tests::{Fixture, Reply, TestApp};

const CHOSEN: &str = "tortue-violette-nuage";

/// The (row, field) of each error of an import report.
fn row_errors(report: &Reply) -> Vec<(u64, String)> {
    assert_eq!(report.status, 200, "{:?}", report.body);
    report.body["errors"]
        .as_array()
        .expect("a list of errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Imports `csv` into riverside with `token`.
async fn import_as(f: &Fixture, token: &str, csv: &str) -> Reply {
    let request = f
        .app
        .client
        .post(format!("{}/v1/imports", f.app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    f.app.send(request).await
}

/// The riverside accounts whose name or login matches `q`, as the admin sees them.
async fn found(f: &Fixture, q: &str) -> Vec<Value> {
    let list = f
        .app
        .get(&format!("/v1/accounts?q={q}&limit=50"), &f.admin())
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    list.body["items"].as_array().unwrap().clone()
}

async fn account(f: &Fixture, ext: &str) -> Value {
    f.app
        .get(&format!("/v1/accounts/{}", f.id(ext)), &f.admin())
        .await
        .body
}

async fn ledger(f: &Fixture, ext: &str) -> Value {
    let reply = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id(ext)), &f.admin())
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

// ---- 1. local_admin belongs to adults ----

#[tokio::test]
async fn a_student_parent_or_guest_row_carrying_local_admin_is_refused_while_adults_rows_import() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,classes,local_admin\n\
               LS1,student,Élise,Écolière,5A,admin\n\
               LS2,student,Sacha,Écolier,5A,secondary\n\
               LP1,parent,Pascal,Parentèle,,secondary\n\
               LG1,guest,Gaston,Invitable,,admin\n\
               SA1,student,Zoé,Lefèvre,5A,secondary\n\
               LT1,teacher,Thérèse,Tutrice,5A,secondary\n\
               LF1,staff,Fanny,Gestionnaire,,secondary\n";

    let report = f.app.import("riverside", csv).await;

    let errors = row_errors(&report);
    for row in 2..=6 {
        assert!(
            errors.contains(&(row, "local_admin".to_owned())),
            "row {row}: {errors:?}"
        );
    }
    assert!(
        !errors.iter().any(|(row, _)| *row >= 7),
        "the adults' rows pass: {errors:?}"
    );
    assert_eq!(report.body["created"], 2, "{:?}", report.body);
    for name in ["Écolière", "Écolier", "Parentèle", "Invitable"] {
        assert!(found(&f, name).await.is_empty(), "{name} was created");
    }
    assert_eq!(account(&f, "SA1").await["local_admin"], "none");
    for name in ["Tutrice", "Gestionnaire"] {
        let accounts = found(&f, name).await;
        assert_eq!(accounts.len(), 1, "{name}: {accounts:?}");
        assert_eq!(accounts[0]["local_admin"], "secondary", "{name}");
    }
}

// ---- 2. a birth-date password is the birth date ----

#[tokio::test]
async fn a_teacher_cannot_issue_a_birth_date_password_and_the_admin_can() {
    let f = Fixture::new().await;
    let on = f
        .app
        .put("/v1/settings", &f.admin(), json!({"birth_date_mode": true}))
        .await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    let body = json!({"account_ids": [f.id("SA1")], "method": "birth_date"});

    let by_teacher = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.teacher_a()), body.clone())
        .await;

    assert_eq!(by_teacher.status, 200, "{:?}", by_teacher.body);
    let item = &by_teacher.body["results"][0];
    assert_eq!(item["status"], "error", "{item:?}");
    assert_eq!(item["error"]["code"], "forbidden", "{item:?}");
    let text = by_teacher.body.to_string();
    assert!(
        !text.contains("09032013") && !text.contains("temporary_password"),
        "{text}"
    );
    let by_admin = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;
    assert_eq!(by_admin.body["results"][0]["status"], "ok", "{:?}", by_admin.body);
    assert_eq!(by_admin.body["results"][0]["temporary_password"], "09032013");
}

// ---- 3. the role at the time of use decides ----

#[tokio::test]
async fn an_admins_export_is_not_handed_to_a_teacher_token_with_the_same_sub() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1"), f.id("STF")], "content": "credentials", "format": "csv"});
    let queued = export(&f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let id = queued.body["id"].as_str().unwrap().to_owned();
    let done = finished(&f, &f.admin(), &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let demoted = f.app.token("riverside", "teacher", f.id("ADM"), &["5A"]);

    let seen = f.app.get(&format!("/v1/exports/{id}"), &demoted).await;

    assert_eq!(seen.status, 404, "{:?}", seen.body);
    assert!(seen.body.get("download_url").is_none(), "{:?}", seen.body);
    let again = f.app.get(&format!("/v1/exports/{id}"), &f.admin()).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert!(again.body["download_url"].is_string(), "{:?}", again.body);
}

#[tokio::test]
async fn a_file_of_identifiers_with_birth_dates_is_not_handed_to_its_maker_once_a_teacher() {
    let f = Fixture::new().await;
    // The pupils of 5A, which a teacher of 5A may have in a file, but not their
    // birth dates, which the admin's file shows.
    let body = json!({"account_ids": [f.id("SA1"), f.id("SA2")], "content": "identifiers", "format": "csv"});
    let queued = export(&f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let id = queued.body["id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&f, &f.admin(), &id).await["status"], "done");
    let demoted = f.app.token("riverside", "teacher", f.id("ADM"), &["5A"]);

    let seen = f.app.get(&format!("/v1/exports/{id}"), &demoted).await;

    assert_eq!(seen.status, 404, "{:?}", seen.body);
    // The teacher's own file of the same pupils, without birth dates, is theirs.
    let body = json!({"account_ids": [f.id("SA1"), f.id("SA2")], "content": "identifiers", "format": "csv"});
    let own = export(&f, &demoted, body).await;
    let own_id = own.body["id"].as_str().unwrap().to_owned();
    let done = finished(&f, &demoted, &own_id).await;
    assert!(done["download_url"].is_string(), "{done}");
}

// ---- 4. wrong reset links never lock the real link ----

/// 43 characters of base64url (256 bits) that nobody was given.
fn random_secret(salt: u64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut state = nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let bytes: Vec<u8> = (0..32)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    B64.encode(bytes)
}

#[tokio::test]
async fn wrong_reset_links_are_limited_per_address_and_never_lock_the_real_link() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,email\nSA1,student,Zoé,Lefèvre,zoe@example.org\n";
    let mailed = f.app.import("riverside", csv).await;
    assert_eq!(mailed.body["updated"], 1, "{:?}", mailed.body);
    let link = f.mailed_reset_link("SA1").await;
    let token = sesame_tests::handouts::token_of(&link).to_owned();
    let prefix = format!("riverside.{}.", f.id("SA1"));
    assert!(token.starts_with(&prefix), "{token}");

    let mut statuses = Vec::new();
    for i in 0..12 {
        let forged = format!("{prefix}{}", random_secret(i));
        statuses.push(f.app.reset_from("203.0.113.7", &forged, CHOSEN).await.status);
    }

    assert_eq!(statuses[0], 400, "{statuses:?}");
    assert_eq!(&statuses[10..], [429, 429], "{statuses:?}");
    let genuine = f.app.reset_from("198.51.100.9", &token, CHOSEN).await;
    assert_eq!(genuine.status, 200, "{:?}", genuine.body);
    assert_eq!(genuine.body["account_id"], f.id("SA1"));
    assert_eq!(f.app.login(f.login_of("SA1"), CHOSEN).await.status, 200);
    let ledger = ledger(&f, "SA1").await;
    assert_eq!(ledger["locks"], json!([]), "{ledger:?}");
}

// ---- 5. every lock is visible and liftable ----

#[tokio::test]
async fn every_lock_shows_in_the_ledger_and_unlock_lifts_them_all() {
    let f = Fixture::new().await;
    let login = f.login_of("SA2");
    f.activation_code("SA2").await;
    for _ in 0..10 {
        f.app.login(login, "pas-le-bon-mot-de-passe").await;
        let body = json!({"login": login, "activation_code": "ZZZZZZZZ", "new_password": CHOSEN});
        f.app.post("/v1/auth/activate", None, body).await;
    }

    let locked = ledger(&f, "SA2").await;

    let mut paths: Vec<&str> = locked["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["activate", "login"], "{locked:?}");
    let unlock = f
        .app
        .post(
            "/v1/accounts/unlock",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA2")]}),
        )
        .await;
    assert_eq!(unlock.body["results"][0]["status"], "ok", "{:?}", unlock.body);
    let unlocked = ledger(&f, "SA2").await;
    assert_eq!(unlocked["locks"], json!([]), "{unlocked:?}");
    let wrong = f.app.login(login, "pas-le-bon-mot-de-passe").await;
    assert_eq!(wrong.status, 401, "{:?}", wrong.body);
}

// ---- 6. an import that links a parent needs the right to change the child ----

#[tokio::test]
async fn an_import_links_parents_only_to_students_the_importer_may_change() {
    let f = Fixture::new().await;
    assert_eq!(account(&f, "ADM").await["local_admin"], "admin");
    let parents_before = account(&f, "ADM").await["parents"].clone();
    let csv = "external_id,profile,first_name,last_name,children\nPX1,parent,Pierre,Pirate,ADM\n";

    let report = import_as(&f, &f.secondary(), csv).await;

    let errors = row_errors(&report);
    assert!(errors.contains(&(2, "children".to_owned())), "{errors:?}");
    assert_eq!(account(&f, "ADM").await["parents"], parents_before);
    // Children are students: not even the admin makes a teacher someone's child.
    let csv = "external_id,profile,first_name,last_name,children\nPX2,parent,Paula,Pirate,TA\n";
    let report = f.app.import("riverside", csv).await;
    let errors = row_errors(&report);
    assert!(errors.contains(&(2, "children".to_owned())), "{errors:?}");
    assert_eq!(account(&f, "TA").await["parents"], json!([]));
}

// ---- 7. an upload is one file ----

#[tokio::test]
async fn an_upload_takes_one_file_and_the_real_run_imports_what_its_dry_run_checked() {
    let app = TestApp::spawn().await;
    app.create_school("envois", "Collège des Envois").await;
    let admin = app.token("envois", "admin", "secretariat", &[]);
    let first = "external_id,profile,first_name,last_name,classes\nU1,student,Alice,Premiere,6e-1\n";
    let second = "external_id,profile,first_name,last_name,classes\n\
                  U2,student,Bruno,Seconde,6e-1\nU3,student,Chloé,Seconde,6e-1\n";
    let link = app.post("/v1/imports/uploads", Some(&admin), json!(null)).await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let url = link.body["url"].as_str().unwrap().to_owned();
    let upload_id = link.body["upload_id"].as_str().unwrap().to_owned();
    let put = |csv: &'static str| {
        let request = app.client.put(&url).body(csv);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let stored = put(first).await;
    assert!((200..300).contains(&stored), "the upload: {stored}");
    let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, true).await;
    assert_eq!(status, 202, "{queued:?}");
    let preview = job_finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;
    assert_eq!(preview["status"], "done", "{preview:?}");
    assert_eq!(preview["report"]["created"], 1, "{preview:?}");

    let again = put(second).await;
    if app.files_bucket().is_none() {
        assert_eq!(again, 409, "a read upload takes no other file");
    }
    // S3 takes any PUT its link signs; the run reads the sealed copy the dry run
    // checked, never what came after (below).

    let (status, queued) = start(&app.client, &app.base, &admin, &upload_id, false).await;
    assert_eq!(status, 202, "{queued:?}");
    let done = job_finished(&app.client, &app.base, &admin, queued["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done:?}");
    assert_eq!(done["report"]["created"], 1, "{done:?}");
    let listed = app.get("/v1/accounts?limit=50", &admin).await;
    let names: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Premiere"], "{:?}", listed.body);
}

// ---- 8. the console asks permission before it reads a file ----

#[tokio::test]
async fn the_consoles_import_preview_refuses_a_teacher_before_reading_the_file() {
    let f = Fixture::new().await;
    let mut teacher = staff(&f, "TA").await;
    let (status, page, _) = teacher.get("/console/accounts").await;
    assert_eq!(status, 200, "{page}");
    let broken = b"nom;prenom;couleur\nA;B;C\n";
    let (content_type, body) = multipart(&csrf(&page), "roster.csv", "text/csv", broken);

    let (status, page) = teacher
        .post_raw("/console/imports/preview", &content_type, body)
        .await;

    assert_eq!(status, 403, "{page}");
    for said in ["unknown column", "prenom", "couleur", "is missing"] {
        assert!(!page.contains(said), "the file was read: {page}");
    }
}

// ---- 9. console responses carry a request id, and their audit events too ----

/// Sends `request` with `browser`'s cookies; answers the whole response.
async fn as_browser(f: &Fixture, browser: &Browser, request: reqwest::RequestBuilder) -> Reply {
    let request = request.header(reqwest::header::COOKIE, browser.cookie_header());
    f.app.send(request).await
}

fn request_id(reply: &Reply) -> String {
    let id = reply.header("x-request-id").unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "no x-request-id: {:?}", reply.headers);
    id
}

#[tokio::test]
async fn console_responses_carry_a_request_id_that_their_audit_events_record() {
    let f = Fixture::new().await;
    let door = f.app.send(f.app.client.get(format!("{}/", f.app.base))).await;
    request_id(&door);
    let mut admin = staff(&f, "ADM").await;
    let list = as_browser(
        &f,
        &admin,
        f.app.client.get(format!("{}/console/accounts", f.app.base)),
    )
    .await;
    assert_eq!(list.status, 200);
    request_id(&list);
    let (_, page, _) = admin.get("/console/accounts").await;
    let form = [
        ("csrf", csrf(&page)),
        ("action", "deactivate".to_owned()),
        ("id", f.id("STF").to_owned()),
        ("confirmed", "yes".to_owned()),
    ];

    let acted = as_browser(
        &f,
        &admin,
        f.app
            .client
            .post(format!("{}/console/accounts/act", f.app.base))
            .form(&form),
    )
    .await;

    assert_eq!(acted.status, 200);
    let id = request_id(&acted);
    let audit = f.app.get("/v1/audit?action=account.deactivate", &f.admin()).await;
    let event = &audit.body["items"][0];
    assert_eq!(event["targets"], json!([f.id("STF")]), "{:?}", audit.body);
    assert_eq!(event["request_id"], id.as_str(), "{:?}", audit.body);
}

// ---- 10. the console's bulk limit is the API's ----

/// The accounts form's confirmed `reset_temporary` of `ids`, in their order.
fn reset_form<'a>(csrf: &'a str, ids: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf", csrf),
        ("action", "reset_temporary"),
        ("confirmed", "yes"),
    ];
    fields.extend(ids.iter().map(|id| ("id", *id)));
    fields
}

fn shown_secrets(page: &str) -> usize {
    page.matches("<code class=\"secret\">").count()
}

#[tokio::test]
async fn the_consoles_bulk_limit_is_the_apis_and_a_duplicate_id_counts_once() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (_, page, _) = admin.get("/console/accounts").await;
    let token = csrf(&page);
    let fakes: Vec<String> = (0..100).map(|i| format!("acc_missing_{i}")).collect();

    // 101 different accounts: beyond the API's 100.
    let mut over: Vec<&str> = vec![f.id("SA1")];
    over.extend(fakes.iter().map(String::as_str));
    let (status, refused, _, _) = admin
        .post("/console/accounts/act", &reset_form(&token, &over))
        .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(shown_secrets(&refused), 0, "{refused}");

    // 100 ids, as many as the API takes, Zoé named first and last: she counts once.
    let mut twice: Vec<&str> = vec![f.id("SA1")];
    twice.extend(fakes[..98].iter().map(String::as_str));
    twice.push(f.id("SA1"));
    let (status, shown, _, _) = admin
        .post("/console/accounts/act", &reset_form(&token, &twice))
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown_secrets(&shown), 1, "one password for Zoé: {shown}");
}

/// Gives `ext` `local_admin: admin` behind the API's back, as older imports could.
async fn carry_local_admin(f: &Fixture, ext: &str) {
    use sesame::domain::{AccountId, LocalAdmin, SchoolId};
    let school = SchoolId::parse("riverside").unwrap();
    let id = AccountId::parse(f.id(ext)).unwrap();
    let accounts = &f.app.state.sesame.accounts;
    let mut account = accounts.get_account(&school, &id).await.unwrap().unwrap();
    account.local_admin = LocalAdmin::Admin;
    let written = accounts.update_accounts(&[account]).await.unwrap();
    assert!(written.iter().all(Result::is_ok));
}

#[tokio::test]
async fn a_student_carrying_local_admin_is_out_of_a_teachers_reach_and_never_an_administrator() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;
    carry_local_admin(&f, "SA1").await;

    // The teacher of 5A may reset Zoé no more: her reset column is an admin's.
    let body = json!({"account_ids": [f.id("SA1")], "method": "temporary"});
    let reset = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.teacher_a()), body)
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    assert_eq!(reset.body["results"][0]["status"], "error");
    assert!(reset.body["results"][0].get("temporary_password").is_none());

    // Her sign-in lands on her own page, not the console.
    let (_, landing) = signed_in(&f, f.login_of("SA1"), &password).await;
    assert_eq!(landing, "/me");

    // The one-off command clears the flag, audited.
    let school = sesame::domain::SchoolId::parse("riverside").unwrap();
    let cleared = f
        .app
        .state
        .sesame
        .clear_misplaced_local_admin(&school)
        .await
        .unwrap();
    assert_eq!(
        cleared.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        [f.id("SA1")]
    );
    assert_eq!(account(&f, "SA1").await["local_admin"], "none");
    let audit = f
        .app
        .get("/v1/audit?action=account.local_admin_cleared", &f.admin())
        .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    assert_eq!(audit.body["items"][0]["targets"][0], f.id("SA1"));
    // Once more, nothing left to clear.
    let again = f
        .app
        .state
        .sesame
        .clear_misplaced_local_admin(&school)
        .await
        .unwrap();
    assert!(again.is_empty());
}

#[tokio::test]
async fn a_remembered_reset_hands_its_passwords_only_to_who_may_still_have_them() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1")], "method": "temporary"});
    let first = f
        .app
        .send(
            f.app
                .client
                .post(format!("{}/v1/accounts/reset-password", f.app.base))
                .bearer_auth(f.teacher_a())
                .header("idempotency-key", "lost-answer-1")
                .json(&body),
        )
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert!(first.body["results"][0]["temporary_password"].is_string());

    // Zoé now carries local_admin (legacy data): the teacher may no longer have
    // her password, even replayed.
    carry_local_admin(&f, "SA1").await;
    let replay = f
        .app
        .send(
            f.app
                .client
                .post(format!("{}/v1/accounts/reset-password", f.app.base))
                .bearer_auth(f.teacher_a())
                .header("idempotency-key", "lost-answer-1")
                .json(&body),
        )
        .await;
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert!(replay.body["results"][0].get("temporary_password").is_none());
    assert_eq!(replay.body["results"][0]["error"]["code"], "not_found");
}

#[cfg(feature = "aws")]
#[tokio::test]
async fn a_store_that_fails_at_sign_in_answers_503_try_again_never_wrong_password() {
    let app = TestApp::spawn_on_a_dead_store().await;
    let f_like = |path: &str| format!("{}{path}", app.base);

    // The console's sign-in.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(f_like("/")).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let page = form.text().await.unwrap();
    let token = csrf(&page);
    let signed = client
        .post(f_like("/sign-in"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", "zoe.lefevre"),
            ("password", "un-mot-de-passe"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 503);
    assert!(signed.headers().get("retry-after").is_some());
    assert!(signed.headers().get("x-request-id").is_some());
    let text = signed.text().await.unwrap();
    assert!(
        !text.contains("incorrect") && !text.contains("Wrong login"),
        "{text}"
    );

    // The API's sign-in, and an admin route.
    let login = app
        .post(
            "/v1/auth/login",
            None,
            json!({"login": "zoe.lefevre", "password": "un-mot-de-passe"}),
        )
        .await;
    assert_eq!(
        (login.status, login.code()),
        (503, "unavailable"),
        "{:?}",
        login.body
    );
    assert!(login.header("retry-after").is_some());
    let token = app.token("riverside", "admin", "adm", &[]);
    let list = app.get("/v1/accounts", &token).await;
    assert_eq!(
        (list.status, list.code()),
        (503, "unavailable"),
        "{:?}",
        list.body
    );
    // Logged once, with the request's id.
    let id = list.header("x-request-id").unwrap().to_owned();
    assert!(
        sesame_tests::logs()
            .lines()
            .any(|l| l.contains("store unavailable") && l.contains(&id)),
        "the failure is logged with request id {id}"
    );
}

#[tokio::test]
async fn a_re_import_by_login_updates_the_account_and_never_duplicates_it() {
    let f = Fixture::new().await;
    let before = found(&f, "lefevre").await.len();
    // A row without an external id names Zoé by her login: she is updated.
    let csv = format!(
        "login,profile,first_name,last_name,classes\n{},student,Zoé,Lefèvre-Martin,5A\n",
        f.login_of("SA1")
    );
    let report = import_as(&f, &f.admin(), &csv).await;
    assert_eq!(row_errors(&report), vec![]);
    assert_eq!(
        (report.body["created"].as_u64(), report.body["updated"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(account(&f, "SA1").await["last_name"], "Lefèvre-Martin");
    // The same file again changes nothing and creates no one.
    let again = import_as(&f, &f.admin(), &csv).await;
    assert_eq!(
        (again.body["created"].as_u64(), again.body["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "{:?}",
        again.body
    );
    assert_eq!(found(&f, "lefevre").await.len(), before);

    // A login of another school's account is the row's error, never a new account.
    let elsewhere = format!(
        "login,profile,first_name,last_name\n{},student,Zoé,Lefèvre\n",
        f.login_of("H1")
    );
    let report = import_as(&f, &f.admin(), &elsewhere).await;
    assert_eq!(row_errors(&report), vec![(2, "login".to_owned())]);
    assert_eq!(report.body["created"], 0);

    // A login whose account another external id names is someone else's.
    let clash = format!(
        "external_id,login,profile,first_name,last_name\nNEW1,{},student,Zoé,Lefèvre\n",
        f.login_of("SA2")
    );
    let report = import_as(&f, &f.admin(), &clash).await;
    assert_eq!(row_errors(&report), vec![(2, "login".to_owned())]);

    // A login the importer may not change: the secondary admin and the admin's.
    let admin = format!(
        "login,profile,first_name,last_name\n{},staff,Hélène,Garnier-Prise\n",
        f.login_of("ADM")
    );
    let report = import_as(&f, &f.secondary(), &admin).await;
    assert_eq!(row_errors(&report).len(), 1, "{:?}", report.body);
    assert_eq!(account(&f, "ADM").await["last_name"], "Garnier");
}
