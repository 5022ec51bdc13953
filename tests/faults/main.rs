//! The DynamoDB store as deployed (SPEC §8): requests throttled, failing with a
//! 5xx, or applied and their answer lost after the commit, at set rates, between
//! Sésame and the emulator (`sesame_tests::faults`). Under them every bulk
//! operation completes when retried with the same `Idempotency-Key`, every secret
//! handed out in a 2xx works, no key or job stays stuck, and self-service answers
//! 503 with `Retry-After`, never 500.

use serde_json::{Value, json};
use sesame_tests::faults::{Faults, Rates};
use sesame_tests::{Fixture, Reply, TestApp};
use std::sync::Arc;
use std::time::Duration;

async fn faulty() -> (Fixture, Arc<Faults>) {
    let faults = Arc::new(Faults::default());
    let app = TestApp::spawn_faulty(faults.clone()).await;
    (Fixture::on(app).await, faults)
}

/// Sends the request `make` builds until it gets an answer that is not a 503
/// (at most 20 times); every 503 says when to come back.
async fn until_answered(f: &Fixture, make: impl Fn() -> reqwest::RequestBuilder) -> Reply {
    for _ in 0..20 {
        let reply = f.app.send(make()).await;
        assert_ne!(reply.status, 500, "never a 500: {:?}", reply.body);
        if reply.status != 503 {
            return reply;
        }
        assert!(
            reply.header("retry-after").is_some(),
            "a 503 says when: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("still 503 after 20 tries");
}

/// A bulk temporary reset of `exts` with `key`, retried with the same key until
/// it completes: the passwords it answers, by account id.
async fn reset_until_done(f: &Fixture, exts: &[&str], key: &str) -> Vec<(String, String)> {
    let ids: Vec<&str> = exts.iter().map(|e| f.id(e)).collect();
    let body = json!({"account_ids": ids, "method": "temporary"});
    let url = format!("{}/v1/accounts/reset-password", f.app.base);
    let token = f.admin();
    for _ in 0..20 {
        let reply = until_answered(f, || {
            f.app
                .client
                .post(&url)
                .bearer_auth(&token)
                .header("idempotency-key", key)
                .json(&body)
        })
        .await;
        // The first request still running (its claim was answered late): wait.
        if reply.status == 409 {
            assert_eq!(reply.code(), "idempotency_in_progress", "{:?}", reply.body);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        return reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["status"], "ok", "{r}");
                (
                    r["account_id"].as_str().unwrap().to_owned(),
                    r["temporary_password"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    }
    panic!("the reset with key {key} never completed");
}

/// Signs in as the owner of `id` with `password`, retrying 503s: the status.
async fn sign_in(f: &Fixture, id: &str, password: &str) -> u16 {
    let login = f
        .ids
        .iter()
        .find(|(_, v)| v.as_str() == id)
        .map(|(ext, _)| f.login_of(ext).to_owned())
        .unwrap();
    let url = format!("{}/v1/auth/login", f.app.base);
    let body = json!({"login": login, "password": password});
    until_answered(f, || f.app.client.post(&url).json(&body))
        .await
        .status
}

/// Resets retried after lost answers complete, their passwords work, and their
/// key answers the same passwords again (never stuck `in progress`).
async fn resets_complete_and_their_passwords_work(f: &Fixture, faults: &Faults) {
    let groups: [&[&str]; 5] = [
        &["SA1"],
        &["SA2", "SB1"],
        &["PA1"],
        &["TA", "TB"],
        &["STF", "SA1"],
    ];
    let mut handed = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let key = format!("faulty-reset-{i}");
        let passwords = reset_until_done(f, group, &key).await;
        assert_eq!(passwords.len(), group.len());
        // The same key again: the same passwords, not new ones.
        let again = reset_until_done(f, group, &key).await;
        assert_eq!(again, passwords);
        handed.push(passwords);
    }
    faults.disarm();
    // The last password handed to each account is the one that works.
    let mut last = std::collections::HashMap::new();
    for (id, password) in handed.into_iter().flatten() {
        last.insert(id, password);
    }
    for (id, password) in &last {
        assert_eq!(
            sign_in(f, id, password).await,
            200,
            "{id}: {}",
            faults.struck.summary()
        );
    }
}

#[tokio::test]
async fn answers_lost_after_the_commit_are_recognised_on_every_conditional_write() {
    let (f, faults) = faulty().await;
    // An activation code, handed out before the faults start (to an account the
    // resets below leave alone).
    let code = f.activation_code("PB1").await;

    faults.arm(Rates {
        lost: 0.3,
        ..Rates::default()
    });
    // Claims of idempotency keys and versioned account writes.
    resets_complete_and_their_passwords_work(&f, &faults).await;

    // A secret's use: claiming the account with its code.
    faults.arm(Rates {
        lost: 0.3,
        ..Rates::default()
    });
    let url = format!("{}/v1/auth/activate", f.app.base);
    let body =
        json!({"login": f.login_of("PB1"), "activation_code": code, "new_password": "tortue-violette-nuage"});
    let claimed = until_answered(&f, || f.app.client.post(&url).json(&body)).await;
    assert_eq!(
        claimed.status,
        200,
        "{:?} ({})",
        claimed.body,
        faults.struck.summary()
    );

    // Job starts: an export queued, claimed by its worker and finished.
    let export = until_answered(&f, || {
        f.app
            .client
            .post(format!("{}/v1/exports", f.app.base))
            .bearer_auth(f.admin())
            .json(&json!({"account_ids": [f.id("SA2")], "content": "credentials", "format": "csv"}))
    })
    .await;
    assert_eq!(export.status, 202, "{:?}", export.body);
    let id = export.body["id"].as_str().unwrap().to_owned();
    let done = export_done(&f, &id).await;
    assert_eq!(done["status"], "done", "{done} ({})", faults.struck.summary());

    // Attempt counters: wrong passwords lock the login after at most one more
    // than ten (a counted attempt whose answer was lost may count twice).
    let wrong = json!({"login": f.login_of("SEC"), "password": "not-the-password-1"});
    let login_url = format!("{}/v1/auth/login", f.app.base);
    let mut refused = 0;
    let mut locked = false;
    for _ in 0..12 {
        let reply = until_answered(&f, || f.app.client.post(&login_url).json(&wrong)).await;
        match reply.status {
            401 => refused += 1,
            429 => {
                locked = true;
                break;
            }
            other => panic!("{other}: {:?}", reply.body),
        }
    }
    assert!(locked, "locked after {refused} wrong passwords");
    assert!((9..=10).contains(&refused), "{refused} evaluated before the lock");
    assert!(
        faults.struck.lost.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "{}",
        faults.struck.summary()
    );
}

/// Polls an export (retrying 503s) until it is no longer queued or running.
async fn export_done(f: &Fixture, id: &str) -> Value {
    let url = format!("{}/v1/exports/{id}", f.app.base);
    for _ in 0..400 {
        let state = until_answered(f, || f.app.client.get(&url).bearer_auth(f.admin())).await;
        assert_eq!(state.status, 200, "{:?}", state.body);
        if !matches!(state.body["status"].as_str(), Some("queued" | "running")) {
            return state.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the export stayed queued or running");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_or_answered_503_never_500() {
    let (f, faults) = faulty().await;
    faults.arm(Rates {
        throttled: 0.2,
        failed: 0.05,
        lost: 0.1,
        ..Rates::default()
    });
    // Sign-ins: wrong passwords answer 401 (or 429 once locked), a busy store 503
    // with Retry-After; never 500.
    let url = format!("{}/v1/auth/login", f.app.base);
    for ext in ["SA1", "SA2", "SB1", "PA1"] {
        let body = json!({"login": f.login_of(ext), "password": "not-the-password-1"});
        for _ in 0..5 {
            let reply = f.app.send(f.app.client.post(&url).json(&body)).await;
            match reply.status {
                401 | 429 => {}
                503 => assert!(reply.header("retry-after").is_some()),
                other => panic!("{other}: {:?}", reply.body),
            }
        }
    }
    resets_complete_and_their_passwords_work(&f, &faults).await;
    assert!(
        faults.struck.throttled.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "{}",
        faults.struck.summary()
    );
}

/// Transactions cancelled before the table, by throttling or by a concurrent
/// transaction, wrote nothing: the store tries them again (the SDK does not), and
/// every reset completes with passwords that work; never a 500.
#[tokio::test]
async fn transactions_cancelled_by_throttling_or_contention_are_tried_again() {
    let (f, faults) = faulty().await;
    faults.arm(Rates {
        cancelled: 0.4,
        ..Rates::default()
    });
    resets_complete_and_their_passwords_work(&f, &faults).await;
    assert!(
        faults.struck.cancelled.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "{}",
        faults.struck.summary()
    );
}

/// The value of the page's CSRF field.
fn csrf_of(page: &str) -> String {
    let prefix = "name=\"csrf\" value=\"";
    let at = page.find(prefix).expect("a CSRF field") + prefix.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// The `name=value` pairs of a response's cookies, for the next request.
fn cookies_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn a_store_that_fails_on_the_own_page_answers_503_never_wrong_password() {
    let (f, faults) = faulty().await;
    let temporary = f.temporary_password("SA1").await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let at = |path: &str| format!("{}{path}", f.app.base);
    let form = client.get(at("/")).send().await.unwrap();
    let cookie = cookies_of(&form);
    let token = csrf_of(&form.text().await.unwrap());
    let signed = client
        .post(at("/sign-in"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", f.login_of("SA1")),
            ("password", temporary.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 303);
    let session = cookies_of(&signed);
    let own = client
        .get(at("/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    let token = csrf_of(&own.text().await.unwrap());

    faults.arm(Rates {
        failed: 1.0,
        ..Rates::default()
    });
    let changed = client
        .post(at("/me/password"))
        .header("cookie", &session)
        .form(&[
            ("csrf", token.as_str()),
            ("current_password", temporary.as_str()),
            ("new_password", "une-phrase-assez-longue"),
            ("confirmation", "une-phrase-assez-longue"),
        ])
        .send()
        .await
        .unwrap();
    faults.disarm();
    assert_eq!(changed.status().as_u16(), 503);
    assert!(changed.headers().get("retry-after").is_some());
    let text = changed.text().await.unwrap();
    assert!(
        !text.contains("incorrect") && !text.contains("Wrong login"),
        "{text}"
    );
    assert_eq!(sign_in(&f, f.id("SA1"), &temporary).await, 200, "nothing changed");
}

/// SES throttling and failing (SPEC §8): every account's result says what happened
/// to its mail (sent: exactly one message; failed: none), and the retries are bounded.
#[tokio::test]
async fn ses_throttling_and_failures_leave_every_result_true_and_retries_bounded() {
    use sesame_tests::faults::Service;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity(sesame_tests::TEST_SENDER)
        .send()
        .await
        .expect("the emulator verifies the sender");
    let faults = Arc::new(Faults::before(Service::SesV2));
    let ses = aws_sdk_sesv2::config::Builder::from(&sdk)
        .interceptor(sesame_tests::faults::Shared(faults.clone()))
        .build();
    let mailer = Arc::new(sesame::adapters::ses::SesMailer::from_client(
        aws_sdk_sesv2::Client::from_conf(ses),
    ));
    let app = TestApp::spawn_mailing(Some(mailer), Some(sesame_tests::TEST_SENDER)).await;
    let f = Fixture::on(app).await;
    let run = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut roster = "external_id,profile,first_name,last_name,classes,email\n".to_owned();
    for i in 0..16 {
        roster.push_str(&format!(
            "SESP{i},parent,Parent,Numéro{i},,p{i}.{run}@familles.example\n"
        ));
    }
    let report = f.app.import("riverside", &roster).await;
    assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
    let parents = f
        .app
        .get("/v1/accounts?profile=parent&limit=100", &f.admin())
        .await;
    let id_of = |address: &str| {
        parents.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["email"] == address)
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{address}: {:?}", parents.body))
    };
    let ids: Vec<String> = (0..16)
        .map(|i| id_of(&format!("p{i}.{run}@familles.example")))
        .collect();
    faults.arm(Rates {
        throttled: 0.3,
        failed: 0.1,
        ..Rates::default()
    });
    let reply = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": ids}),
        )
        .await;
    faults.disarm();
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 16);
    let mut sent = 0;
    for (i, result) in results.iter().enumerate() {
        let address = format!("p{i}.{run}@familles.example");
        assert_eq!(result["account_id"], ids[i].as_str());
        let delivered = sesame_tests::ses_messages_to(&address).await.len();
        match result["mail"].as_str() {
            Some("sent") => {
                assert_eq!(delivered, 1, "{address}: {result}");
                sent += 1;
            }
            Some("failed") => assert_eq!(delivered, 0, "{address}: {result}"),
            other => panic!("{other:?}: {result}"),
        }
    }
    let requests = faults.struck.requests.load(std::sync::atomic::Ordering::Relaxed);
    // The SDK's 3 attempts, within the mail's own retries of throttling (5 at most).
    assert!(requests <= 16 * 3 * 5, "{}", faults.struck.summary());
    assert!(sent >= 12, "{sent} of 16 sent: {}", faults.struck.summary());
    let struck = faults.struck.throttled.load(std::sync::atomic::Ordering::Relaxed)
        + faults.struck.failed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(struck > 0, "{}", faults.struck.summary());
}

/// S3 failing during an export that hands out passwords (SPEC §5): the export
/// fails, and no password changed (the ones the accounts had still work).
#[tokio::test]
async fn an_export_whose_file_s3_refuses_fails_having_changed_no_password() {
    use sesame_tests::faults::Service;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let bucket = sesame_tests::bucket().await;
    let faults = Arc::new(Faults::before(Service::S3));
    let s3 = sesame::adapters::s3::S3Files::client_config(&sdk)
        .interceptor(sesame_tests::faults::Shared(faults.clone()))
        .build();
    let files = Arc::new(sesame::adapters::s3::S3Files::from_client(
        aws_sdk_s3::Client::from_conf(s3),
        &bucket,
    ));
    let app = TestApp::spawn_with_files(None, files).await;
    let f = Fixture::on(app).await;
    // Passwords the students have before the export.
    let known = [
        ("SA1", "tortue-violette-nuage-1"),
        ("SA2", "tortue-violette-nuage-2"),
    ];
    for (ext, password) in known {
        let path = format!("/v1/accounts/{}/password", f.id(ext));
        let set = f
            .app
            .put(
                &path,
                &f.admin(),
                json!({"password": password, "confirmation": password}),
            )
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
    }
    faults.arm(Rates {
        throttled: 0.5,
        failed: 0.5,
        ..Rates::default()
    });
    let body = json!({"account_ids": [f.id("SA1"), f.id("SA2")], "content": "credentials", "format": "csv"});
    let created = f.app.post("/v1/exports", Some(&f.admin()), body).await;
    assert_eq!(created.status, 202, "{:?}", created.body);
    let done = export_done(&f, created.body["id"].as_str().unwrap()).await;
    faults.disarm();
    assert_eq!(done["status"], "failed", "{done}");
    assert!(faults.struck.requests.load(std::sync::atomic::Ordering::Relaxed) > 0);
    for (ext, password) in known {
        assert_eq!(
            sign_in(&f, f.id(ext), password).await,
            200,
            "{ext} kept its password"
        );
    }
}
