//! Trust under attack: guards that hold when many requests arrive at once, one rule
//! for who obtains a secret on every road, imports that never escalate, and the
//! one lifecycle of every secret (SPEC §2, §3).

use crate::exports::{download, export, finished};
use serde_json::{Value, json};
use sesame_tests::{Fixture, Reply, handouts::token_of, pdf_text};

const CHOSEN: &str = "tortue-violette-nuage";

/// Sends `count` copies of one self-service request at once; answers the statuses.
async fn burst(f: &Fixture, path: &str, body: Value, count: usize) -> Vec<u16> {
    let url = format!("{}{path}", f.app.base);
    let sends = (0..count).map(|_| {
        let request = f.app.client.post(&url).json(&body);
        async move { request.send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    });
    futures::future::join_all(sends).await
}

fn assert_at_most_ten_evaluated(statuses: &[u16], refused: u16) {
    let evaluated = statuses.iter().filter(|s| **s == refused).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        evaluated <= 10,
        "{evaluated} guesses were evaluated: {statuses:?}"
    );
    assert_eq!(
        evaluated + locked,
        statuses.len(),
        "only {refused} and 429: {statuses:?}"
    );
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_evaluates_at_most_ten_and_then_the_right_one_is_locked() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;
    let body = json!({"login": f.login_of("SA1"), "password": "wrong-guess-wrong"});

    let statuses = burst(&f, "/v1/auth/login", body, 150).await;

    assert_at_most_ten_evaluated(&statuses, 401);
    let right = f.app.login(f.login_of("SA1"), &password).await;
    assert_eq!((right.status, right.code()), (429, "too_many_attempts"));
    assert!(right.header("retry-after").is_some());
}

#[tokio::test]
async fn change_password_shares_the_logins_counter() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;
    let body =
        json!({"login": f.login_of("SA1"), "current_password": "wrong-guess-wrong", "new_password": CHOSEN});

    let statuses = burst(&f, "/v1/auth/change-password", body, 40).await;

    assert_at_most_ten_evaluated(&statuses, 401);
    assert_eq!(f.app.login(f.login_of("SA1"), &password).await.status, 429);
}

#[tokio::test]
async fn a_burst_of_wrong_activation_codes_evaluates_at_most_ten() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    let body = json!({"login": f.login_of("SA2"), "activation_code": "ZZZZZZZZ", "new_password": CHOSEN});

    let statuses = burst(&f, "/v1/auth/activate", body, 150).await;

    assert_at_most_ten_evaluated(&statuses, 400);
    let right = json!({"login": f.login_of("SA2"), "activation_code": code, "new_password": CHOSEN});
    assert_eq!(f.app.post("/v1/auth/activate", None, right).await.status, 429);
}

#[tokio::test]
async fn a_burst_of_forged_reset_tokens_evaluates_at_most_ten() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let token = token_of(&link).to_owned();
    let forged = format!("{}{}", &token[..token.len() - 4], "AAAA");
    let body = json!({"token": forged, "new_password": CHOSEN});

    let statuses = burst(&f, "/v1/auth/reset", body, 150).await;

    assert_at_most_ten_evaluated(&statuses, 400);
    let right = json!({"token": token, "new_password": CHOSEN});
    assert_eq!(f.app.post("/v1/auth/reset", None, right).await.status, 429);
}

#[tokio::test]
async fn a_password_over_128_code_points_is_refused_like_a_wrong_one() {
    let f = Fixture::new().await;
    let reply = f.app.login(f.login_of("SA1"), &"é".repeat(10_000)).await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_credentials"));
}

// ---- one rule for secrets, on every road ----

/// The accounts a caller may reset (SPEC §2, reset column), by fixture name.
fn may_reset(role: &str, target: &str) -> bool {
    match role {
        "admin" => true,
        "secondary" => target != "ADM",
        _ => matches!(target, "SA1" | "SA2"),
    }
}

/// Whether the road handed `target`'s secret out to `token`'s caller.
async fn road(f: &Fixture, token: &str, road: &str, target: &str) -> bool {
    let ids = json!([f.id(target)]);
    // Refused: forbidden, or not found for what the caller may not even see (an
    // account without an address answers `no_email`, which is no refusal).
    let per_account = |reply: Reply| {
        assert_eq!(reply.status, 200, "{road}: {:?}", reply.body);
        let code = reply.body["results"][0]["error"]["code"].as_str().unwrap_or("ok");
        !matches!(code, "forbidden" | "not_found")
    };
    match road {
        "temporary" | "email_link" => {
            let body = json!({"account_ids": ids, "method": road, "copy_to_me": true});
            per_account(f.app.post("/v1/accounts/reset-password", Some(token), body).await)
        }
        "send_activation" => {
            let body = json!({"account_ids": ids, "copy_to_me": true});
            per_account(
                f.app
                    .post("/v1/accounts/send-activation", Some(token), body)
                    .await,
            )
        }
        "credentials" | "activation" => {
            let body = json!({"account_ids": ids, "content": road, "format": "csv"});
            let queued = export(f, token, body).await;
            if queued.status != 202 {
                assert_eq!(queued.status, 422, "{road}: {:?}", queued.body);
                return false;
            }
            let done = finished(f, token, queued.body["id"].as_str().unwrap()).await;
            let (_, bytes) = download(f, done["download_url"].as_str().unwrap()).await;
            String::from_utf8_lossy(&bytes).contains(f.login_of(target))
        }
        other => panic!("no road {other}"),
    }
}

/// The mails in the outbox.
fn mails(f: &Fixture) -> usize {
    std::fs::read_dir(f.app.outbox()).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn every_road_to_a_secret_follows_the_reset_column() {
    let f = Fixture::new().await;
    let roles = [
        ("admin", f.admin()),
        ("secondary", f.secondary()),
        ("teacher", f.teacher_a()),
    ];
    let mut wrong = Vec::new();
    for road_name in [
        "temporary",
        "email_link",
        "send_activation",
        "credentials",
        "activation",
    ] {
        for (role, token) in &roles {
            for target in ["ADM", "SEC", "STF", "SA2", "SB1"] {
                let mailed_before = mails(&f);
                let got = road(&f, token, road_name, target).await;
                if got != may_reset(role, target) {
                    wrong.push(format!("{road_name} by {role} on {target}: {got}"));
                }
                // A refused caller gets nothing by mail either: no mail, no copy.
                if !got && mails(&f) != mailed_before {
                    wrong.push(format!("{road_name} by {role} on {target}: a mail went out"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test]
async fn a_secondary_admin_never_receives_an_admins_activation_code() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("ADM")], "copy_to_me": true});

    let reply = f
        .app
        .post("/v1/accounts/send-activation", Some(&f.secondary()), body)
        .await;

    assert_eq!(reply.body["results"][0]["status"], "error", "{:?}", reply.body);
    assert_eq!(reply.body["results"][0]["error"]["code"], "forbidden");
    let mails = std::fs::read_dir(f.app.outbox()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(mails, 0, "no mail, no copy");
}

// ---- imports never escalate ----

#[tokio::test]
async fn a_secondary_admins_import_cannot_take_over_or_demote_the_admin() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,local_admin,password\n\
               ADM,staff,Hélène,Garnier,none,prise-de-controle-totale\n";
    let request = f
        .app
        .client
        .post(format!("{}/v1/imports", f.app.base))
        .bearer_auth(f.secondary())
        .header("content-type", "text/csv")
        .body(csv);

    let report = f.app.send(request).await;

    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["updated"], 0, "{:?}", report.body);
    assert_eq!(report.body["errors"][0]["row"], 2);
    let admin = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("ADM")), &f.admin())
        .await;
    assert_eq!(admin.body["local_admin"], "admin");
    assert_eq!(
        f.app
            .login(f.login_of("ADM"), "prise-de-controle-totale")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_secondary_admin_cannot_create_an_administrator_by_import() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,local_admin\nNEW,staff,Eve,Mallet,admin\n";
    let request = f
        .app
        .client
        .post(format!("{}/v1/imports", f.app.base))
        .bearer_auth(f.secondary())
        .header("content-type", "text/csv")
        .body(csv);

    let report = f.app.send(request).await;

    assert_eq!(report.body["created"], 0, "{:?}", report.body);
    assert_eq!(report.body["errors"][0]["field"], "local_admin");
}

#[tokio::test]
async fn an_import_without_a_column_leaves_that_field_as_it_was() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name\n\
               SEC,staff,Benoît,Roux\nSAF,student,Inès,Fédérée\n";

    let report = f.app.import("riverside", csv).await;

    assert_eq!(report.status, 200, "{:?}", report.body);
    let sec = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SEC")), &f.admin())
        .await;
    assert_eq!(sec.body["local_admin"], "secondary", "no silent demotion");
    let saf = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SAF")), &f.admin())
        .await;
    assert_eq!(saf.body["source"], "ENT Académie", "still federated");
    assert_eq!(saf.body["classes"], json!(["5A"]), "classes kept");
}

#[tokio::test]
async fn names_with_line_breaks_are_refused_at_import() {
    let f = Fixture::new().await;
    let csv =
        "profile,first_name,last_name,email\nstudent,\"Eve\r\nBcc: spy@evil.test\",Mallet,eve@example.org\n";

    let report = f.app.import("riverside", csv).await;

    assert_eq!(report.body["created"], 0, "{:?}", report.body);
    assert_eq!(report.body["errors"][0]["field"], "first_name");
}

#[tokio::test]
async fn a_school_name_with_a_line_break_is_refused() {
    let f = Fixture::new().await;
    let body = json!({"school_name": "Collège\r\nBcc: spy@evil.test"});
    let reply = f.app.put("/v1/settings", &f.admin(), body).await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(reply.body["errors"][0]["field"], "school_name");
}

// ---- exports belong to their maker; birth dates to the admin roles ----

#[tokio::test]
async fn another_callers_export_answers_404() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1")], "content": "identifiers", "format": "csv"});
    let queued = export(&f, &f.admin(), body).await;
    let id = queued.body["id"].as_str().unwrap();
    finished(&f, &f.admin(), id).await;

    for token in [
        f.secondary(),
        f.app.token("riverside", "admin", "someone-else", &[]),
    ] {
        let path = format!("/v1/exports/{id}");
        assert_eq!(f.app.get(&path, &token).await.status, 404);
        let delete = f
            .app
            .client
            .delete(format!("{}{path}", f.app.base))
            .bearer_auth(&token);
        assert_eq!(f.app.send(delete).await.status, 404);
    }
}

#[tokio::test]
async fn a_teachers_identifiers_export_holds_no_birth_date_in_any_format() {
    let f = Fixture::new().await;
    for format in ["csv", "xlsx", "pdf"] {
        let body = json!({"filter": {"class": "5A"}, "content": "identifiers", "format": format});
        let queued = export(&f, &f.teacher_a(), body).await;
        assert_eq!(queued.status, 202, "{:?}", queued.body);
        let done = finished(&f, &f.teacher_a(), queued.body["id"].as_str().unwrap()).await;
        let (_, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
        let text = match format {
            "pdf" => pdf_text(&bytes),
            "xlsx" => xlsx_text(&bytes),
            _ => String::from_utf8_lossy(&bytes).into_owned(),
        };
        assert!(text.contains(f.login_of("SA1")), "{format}: {text}");
        for date in ["2013", "09/03", "03/09"] {
            assert!(!text.contains(date), "{format} shows a birth date: {text}");
        }
    }
}

/// The shared strings and cells of an XLSX file, as text.
fn xlsx_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("unzip")
        .arg("-p")
        .arg(&path)
        .output()
        .expect("unzip runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---- one lifecycle for every secret ----

async fn reset_with(f: &Fixture, link: &str, password: &str) -> Reply {
    let body = json!({"token": token_of(link), "new_password": password});
    f.app.post("/v1/auth/reset", None, body).await
}

#[tokio::test]
async fn a_temporary_password_replaces_an_open_reset_link() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    f.temporary_password("SA1").await;
    assert_eq!(reset_with(&f, &link, CHOSEN).await.code(), "invalid_link");
}

/// An admin sets `ext`'s password to `password`, to keep.
async fn admin_sets(f: &Fixture, ext: &str, password: &str) {
    let body = json!({"password": password, "confirmation": password, "must_change": false});
    let path = format!("/v1/accounts/{}/password", f.id(ext));
    let set = f.app.put(&path, &f.admin(), body).await;
    assert_eq!(set.status, 200, "{:?}", set.body);
}

#[tokio::test]
async fn changing_the_password_revokes_an_open_reset_link() {
    let f = Fixture::new().await;
    admin_sets(&f, "SA1", "girafe-orange-soleil").await;
    let link = f.reset_link("SA1").await;
    let body = json!({"login": f.login_of("SA1"), "current_password": "girafe-orange-soleil", "new_password": CHOSEN});

    let changed = f.app.post("/v1/auth/change-password", None, body).await;

    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(
        reset_with(&f, &link, "koala-bleu-montagne").await.code(),
        "invalid_link"
    );
}

#[tokio::test]
async fn an_admin_set_password_revokes_an_open_reset_link() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;

    admin_sets(&f, "SA1", CHOSEN).await;

    assert_eq!(
        reset_with(&f, &link, "girafe-orange-soleil").await.code(),
        "invalid_link"
    );
}

#[tokio::test]
async fn an_imported_password_revokes_an_open_reset_link() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let csv =
        format!("external_id,profile,first_name,last_name,password\nSA1,student,Zoé,Lefèvre,{CHOSEN}\n");
    let report = f.app.import("riverside", &csv).await;
    assert_eq!(report.body["updated"], 1, "{:?}", report.body);
    assert_eq!(
        reset_with(&f, &link, "girafe-orange-soleil").await.code(),
        "invalid_link"
    );
    assert_eq!(f.app.login(f.login_of("SA1"), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn a_birth_date_password_dies_with_deactivation_and_stays_dead_after_reactivation() {
    let f = Fixture::new().await;
    let on = f
        .app
        .put("/v1/settings", &f.admin(), json!({"birth_date_mode": true}))
        .await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    let body = json!({"account_ids": [f.id("SA1")], "method": "birth_date"});
    let reset = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;
    let password = reset.body["results"][0]["temporary_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(f.app.login(f.login_of("SA1"), &password).await.status, 200);

    for action in ["deactivate", "activate"] {
        let body = json!({"account_ids": [f.id("SA1")]});
        let reply = f
            .app
            .post(&format!("/v1/accounts/{action}"), Some(&f.admin()), body)
            .await;
        assert_eq!(reply.body["results"][0]["status"], "ok", "{:?}", reply.body);
    }

    assert_eq!(f.app.login(f.login_of("SA1"), &password).await.status, 401);
}

#[tokio::test]
async fn a_temporary_password_expires_with_the_schools_setting() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;
    f.app
        .clock
        .advance(chrono::Duration::days(10) + chrono::Duration::seconds(1));
    assert_eq!(f.app.login(f.login_of("SA1"), &password).await.status, 401);
}

#[tokio::test]
async fn responses_that_carry_passwords_are_not_stored_by_caches() {
    let f = Fixture::new().await;
    let reply = f.reset(&f.admin(), "SA1").await;
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

// ---- tokens and request ids ----

#[tokio::test]
async fn a_token_whose_sub_names_a_disabled_account_is_refused() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SEC")]});
    let off = f
        .app
        .post("/v1/accounts/deactivate", Some(&f.admin()), body)
        .await;
    assert_eq!(off.body["results"][0]["status"], "ok", "{:?}", off.body);

    let by_id = f.app.get("/v1/accounts", &f.secondary()).await;
    let by_login = f
        .app
        .token("riverside", "secondary_admin", f.login_of("SEC"), &[]);

    assert_eq!((by_id.status, by_id.code()), (401, "unauthenticated"));
    assert_eq!(f.app.get("/v1/accounts", &by_login).await.status, 401);
    assert_eq!(f.app.get("/v1/accounts", &f.admin()).await.status, 200);
}

#[tokio::test]
async fn a_crafted_request_id_never_reaches_the_audit_log() {
    let f = Fixture::new().await;
    let request = f
        .app
        .client
        .post(format!("{}/v1/accounts/deactivate", f.app.base))
        .bearer_auth(f.admin())
        .header("x-request-id", "evil\" injected=\"yes")
        .json(&json!({"account_ids": [f.id("STF")]}));
    let reply = f.app.send(request).await;
    let echoed = reply.header("x-request-id").unwrap_or_default().to_owned();

    let audit = f.app.get("/v1/audit?action=account.deactivate", &f.admin()).await;

    assert!(!echoed.contains('"'), "{echoed}");
    assert_eq!(audit.body["items"][0]["request_id"], echoed.as_str());
}

// ---- the one stored copy of a secret ----

#[tokio::test]
async fn a_remembered_reset_is_deleted_when_its_password_is_revoked() {
    let f = Fixture::new().await;
    let reset = || {
        f.app
            .client
            .post(format!("{}/v1/accounts/reset-password", f.app.base))
            .bearer_auth(f.admin())
            .header("idempotency-key", "reset-zoe-1")
            .json(&json!({"account_ids": [f.id("SA1")], "method": "temporary"}))
    };
    let first = f.app.send(reset()).await;
    let replay = f.app.send(reset()).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);

    let off = json!({"account_ids": [f.id("SA1")]});
    f.app.post("/v1/accounts/deactivate", Some(&f.admin()), off).await;
    let after = f.app.send(reset()).await;

    assert_eq!(after.status, 200, "{:?}", after.body);
    assert_eq!(
        after.header("idempotent-replayed"),
        None,
        "no copy of a revoked password is kept"
    );
    assert_ne!(
        after.body["results"][0]["temporary_password"],
        first.body["results"][0]["temporary_password"]
    );
}

#[tokio::test]
async fn a_temporary_password_used_only_to_sign_in_stays_open_until_its_owner_chooses_one() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;

    let signed_in = f.app.login(f.login_of("SA1"), &password).await;
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA1")), &f.admin())
        .await;

    assert_eq!(signed_in.body["must_change_password"], true);
    assert!(
        account.body["temporary_password_expires_at"].is_string(),
        "still open: {:?}",
        account.body
    );
    let body = json!({"login": f.login_of("SA1"), "current_password": password, "new_password": CHOSEN});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    let used = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA1")), &f.admin())
        .await;
    assert!(
        used.body["temporary_password_expires_at"].is_null(),
        "used: {:?}",
        used.body
    );
    assert_eq!(used.body["activation"], "activated");
}
