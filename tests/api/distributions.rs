//! Distributions you can follow and recall (SPEC §4): a lost sheet is revoked, a
//! class is followed, an account's ledger holds no secret, locks are lifted.

use crate::exports::{download, export, finished, records};
use serde_json::{Value, json};
use sesame_tests::{Fixture, Reply};

/// Three more local pupils in 5A.
const MORE: &str = "external_id,profile,first_name,last_name,classes\n\
                    N1,student,Anaïs,Nouvelle,5A\n\
                    N2,student,Bruno,Nouveau,5A\n\
                    N3,student,Chloé,Neuve,5A\n";

/// A credentials sheet of 5A's students: the export's id and login → password.
async fn class_sheet(f: &Fixture) -> (String, Vec<(String, String)>) {
    let body =
        json!({"filter": {"class": "5A", "profile": "student"}, "content": "credentials", "format": "csv"});
    let queued = export(f, &f.admin(), body).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let id = queued.body["id"].as_str().unwrap().to_owned();
    let done = finished(f, &f.admin(), &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let (_, bytes) = download(f, done["download_url"].as_str().unwrap()).await;
    let rows = records(&bytes);
    let passwords = rows[1..].iter().map(|r| (r[3].clone(), r[4].clone())).collect();
    (id, passwords)
}

async fn change(f: &Fixture, login: &str, current: &str, new: &str) -> Reply {
    let body = json!({"login": login, "current_password": current, "new_password": new});
    f.app.post("/v1/auth/change-password", None, body).await
}

fn states(detail: &Value) -> Vec<(String, String)> {
    let mut states: Vec<(String, String)> = detail["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["login"].as_str().unwrap().to_owned(),
                a["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    states
}

#[tokio::test]
async fn a_lost_sheet_is_revoked_and_only_those_who_chose_a_password_keep_one() {
    let f = Fixture::new().await;
    assert_eq!(f.app.import("riverside", MORE).await.status, 200);
    let (id, sheet) = class_sheet(&f).await;
    assert_eq!(sheet.len(), 5, "Zoé, Noé and the three new pupils: {sheet:?}");
    // Two pupils claim their accounts; a third only signs in with the sheet's password.
    let mine = "un-mot-de-passe-bien-a-moi";
    for (login, password) in &sheet[..2] {
        let changed = change(&f, login, password, mine).await;
        assert_eq!(changed.status, 200, "{:?}", changed.body);
    }
    let (third, third_password) = &sheet[2];
    assert_eq!(f.app.login(third, third_password).await.status, 200);

    let recall = f
        .app
        .post(
            &format!("/v1/distributions/{id}/revoke"),
            Some(&f.admin()),
            json!({}),
        )
        .await;
    assert_eq!(recall.status, 200, "{:?}", recall.body);
    let results = recall.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert!(results.iter().all(|r| r["status"] == "ok"), "{results:?}");

    for (login, password) in &sheet {
        assert_eq!(
            f.app.login(login, password).await.status,
            401,
            "{login}'s sheet password"
        );
    }
    for (login, _) in &sheet[..2] {
        assert_eq!(
            f.app.login(login, mine).await.status,
            200,
            "{login} keeps their own"
        );
    }
    let detail = f.app.get(&format!("/v1/distributions/{id}"), &f.admin()).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["kind"], "export");
    let mut expected: Vec<(String, String)> = sheet
        .iter()
        .enumerate()
        .map(|(i, (login, _))| (login.clone(), if i < 2 { "used" } else { "revoked" }.to_owned()))
        .collect();
    expected.sort();
    assert_eq!(states(&detail.body), expected);

    // Recalling again changes nothing.
    let again = f
        .app
        .post(
            &format!("/v1/distributions/{id}/revoke"),
            Some(&f.admin()),
            json!({}),
        )
        .await;
    assert_eq!(again.status, 200);
    let detail = f.app.get(&format!("/v1/distributions/{id}"), &f.admin()).await;
    assert_eq!(states(&detail.body), expected);
    let audit = f
        .app
        .get("/v1/audit?action=distribution.revoke", &f.admin())
        .await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        2,
        "{:?}",
        audit.body
    );
}

#[tokio::test]
async fn every_hand_out_is_a_distribution_listed_newest_first() {
    let f = Fixture::new().await;
    let reset = f.reset(&f.admin(), "SA1").await;
    assert_eq!(reset.status, 200);
    f.app.clock.advance(chrono::Duration::seconds(1));
    let (export_id, _) = class_sheet(&f).await;
    f.app.clock.advance(chrono::Duration::seconds(1));
    let mail = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": [f.id("PA1")]}),
        )
        .await;
    assert_eq!(mail.status, 200, "{:?}", mail.body);
    let list = f.app.get("/v1/distributions", &f.admin()).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let kinds: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["send_activation", "export", "temporary_password"]);
    let exports = f
        .app
        .get("/v1/distributions?kind=export&class=5A", &f.admin())
        .await;
    let items = exports.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], export_id.as_str());
    assert_eq!(
        f.app.get("/v1/distributions?class=5B", &f.admin()).await.body["items"],
        json!([])
    );
    // A teacher sees the distributions they made, no one else's.
    let teacher = f.teacher_a();
    assert_eq!(
        f.app.get("/v1/distributions", &teacher).await.body["items"],
        json!([])
    );
    assert_eq!(
        f.app
            .get(&format!("/v1/distributions/{export_id}"), &teacher)
            .await
            .status,
        404
    );
    let own = f.reset(&teacher, "SA2").await;
    assert_eq!(own.status, 200);
    let mine = f.app.get("/v1/distributions", &teacher).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1, "{:?}", mine.body);
    let bad = f
        .app
        .get("/v1/distributions?kind=lottery&limit=0", &f.admin())
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
}

#[tokio::test]
async fn a_teacher_may_not_recall_what_they_may_not_reset() {
    let f = Fixture::new().await;
    // The admin's mail to a parent and a teacher: a teacher made none of it.
    let mail = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": [f.id("PA1"), f.id("TA")]}),
        )
        .await;
    assert_eq!(mail.status, 200, "{:?}", mail.body);
    let list = f.app.get("/v1/distributions", &f.admin()).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    let by_teacher = f
        .app
        .post(
            &format!("/v1/distributions/{id}/revoke"),
            Some(&f.teacher_a()),
            json!({}),
        )
        .await;
    assert_eq!(by_teacher.status, 404);
}

async fn follow_up(f: &Fixture, token: &str, class: &str) -> Reply {
    f.app.get(&format!("/v1/classes/{class}/follow-up"), token).await
}

fn counts(body: &Value, who: &str) -> Vec<u64> {
    assert!(body[who].is_object(), "{body}");
    [
        "total",
        "activated",
        "pending",
        "open",
        "expired",
        "revoked",
        "never_handed_out",
    ]
    .iter()
    .map(|k| body[who][k].as_u64().unwrap())
    .collect()
}

#[tokio::test]
async fn the_follow_up_counts_follow_hand_outs_claims_expiries_and_recalls() {
    let f = Fixture::new().await;
    assert_eq!(f.app.import("riverside", MORE).await.status, 200);
    let admin = f.admin();
    // 5A: Zoé, Noé, Inès (federated), Anaïs, Bruno, Chloé; one parent, Sébastien.
    let start = follow_up(&f, &admin, "5A").await;
    assert_eq!(start.status, 200, "{:?}", start.body);
    assert_eq!(counts(&start.body, "students"), [6, 0, 6, 0, 0, 0, 6]);
    assert_eq!(counts(&start.body, "parents"), [1, 0, 1, 0, 0, 0, 1]);

    // Activation codes by export for the pending students of 5A.
    let body =
        json!({"filter": {"class": "5A", "profile": "student"}, "content": "activation", "format": "csv"});
    let queued = export(&f, &admin, body).await;
    let id = queued.body["id"].as_str().unwrap().to_owned();
    let done = finished(&f, &admin, &id).await;
    let (_, bytes) = download(&f, done["download_url"].as_str().unwrap()).await;
    let rows = records(&bytes);
    let codes: Vec<(String, String)> = rows[1..].iter().map(|r| (r[3].clone(), r[4].clone())).collect();
    assert_eq!(codes.len(), 5, "the five local students: {codes:?}");
    let after_export = follow_up(&f, &admin, "5A").await;
    assert_eq!(counts(&after_export.body, "students"), [6, 0, 6, 5, 0, 0, 1]);

    // Two claim their accounts.
    for (login, code) in &codes[..2] {
        let claimed = f
            .app
            .post(
                "/v1/auth/activate",
                None,
                json!({"login": login, "activation_code": code, "new_password": "un-mot-de-passe-bien-a-moi"}),
            )
            .await;
        assert_eq!(claimed.status, 200, "{:?}", claimed.body);
    }
    let claimed = follow_up(&f, &admin, "5A").await;
    assert_eq!(counts(&claimed.body, "students"), [6, 2, 4, 3, 0, 0, 1]);

    // One more is recalled, by a reset link that replaced their code and was
    // then recalled; the rest expire.
    let recalled = f
        .app
        .post(&format!("/v1/distributions/{id}/revoke"), Some(&admin), json!({}))
        .await;
    assert_eq!(recalled.status, 200);
    let after_recall = follow_up(&f, &admin, "5A").await;
    assert_eq!(counts(&after_recall.body, "students"), [6, 2, 4, 0, 0, 3, 1]);
    let chase = after_recall.body["to_chase"].as_array().unwrap();
    assert_eq!(chase.len(), 5, "four pending students and the parent: {chase:?}");

    let again = export(
        &f,
        &admin,
        json!({"filter": {"class": "5A", "profile": "student", "activation": "pending"}, "content": "activation", "format": "csv"}),
    )
    .await;
    finished(&f, &admin, again.body["id"].as_str().unwrap()).await;
    f.app.clock.advance(chrono::Duration::days(91));
    let expired = follow_up(&f, &f.admin(), "5A").await;
    assert_eq!(counts(&expired.body, "students"), [6, 2, 4, 0, 3, 0, 1]);

    // A teacher follows their classes only.
    let teacher = f.app.token("riverside", "teacher", f.id("TA"), &["5A"]);
    assert_eq!(follow_up(&f, &teacher, "5A").await.status, 200);
    assert_eq!(follow_up(&f, &teacher, "5B").await.status, 404);
}

#[tokio::test]
async fn the_ledger_tells_each_secret_and_never_holds_one() {
    let f = Fixture::new().await;
    let admin = f.admin();
    let mut handed = Vec::new();
    for _ in 0..3 {
        handed.push(f.temporary_password("SA1").await);
    }
    let link = f
        .app
        .post(
            "/v1/accounts/reset-password",
            Some(&admin),
            json!({"account_ids": [f.id("PA1")], "method": "email_link"}),
        )
        .await;
    assert_eq!(link.status, 200, "{:?}", link.body);
    let ledger = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("SA1")), &admin)
        .await;
    assert_eq!(ledger.status, 200, "{:?}", ledger.body);
    let states: Vec<&str> = ledger.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["open", "replaced", "replaced"]);
    assert_eq!(ledger.body["outstanding"]["kind"], "temporary_password");
    assert_eq!(ledger.body["outstanding"]["issued_by"], f.id("ADM"));
    let text = ledger.body.to_string();
    for secret in &handed {
        assert!(!text.contains(secret.as_str()), "the ledger holds a secret");
    }
    assert!(!text.contains("argon2"), "the ledger holds a hash");
    // Every secret the outbox carries stays out of the parent's ledger too.
    let parent = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("PA1")), &admin)
        .await
        .body
        .to_string();
    for mail in std::fs::read_dir(f.app.outbox()).unwrap() {
        let body = std::fs::read_to_string(mail.unwrap().path()).unwrap();
        for (at, _) in body.match_indices("/reset/") {
            let token: String = body[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            assert!(
                token.len() < 20 || !parent.contains(&token),
                "a reset token in the ledger"
            );
        }
    }
    // A teacher reads the ledger of their students only.
    let teacher = f.teacher_a();
    let theirs = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("SA1")), &teacher)
        .await;
    assert_eq!(theirs.status, 200);
    let parent = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("PA1")), &teacher)
        .await;
    assert_eq!(parent.status, 403);
}

#[tokio::test]
async fn unlock_lifts_a_lock_as_the_reset_column_allows() {
    let f = Fixture::new().await;
    let login = f.login_of("SA1");
    for _ in 0..10 {
        f.app.login(login, "not-the-password").await;
    }
    assert_eq!(f.app.login(login, "not-the-password").await.status, 429);
    let ledger = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("SA1")), &f.admin())
        .await;
    assert_eq!(ledger.body["locks"][0]["path"], "login", "{:?}", ledger.body);
    let body = json!({"account_ids": [f.id("SA1"), f.id("TA")]});
    let by_teacher = f
        .app
        .post("/v1/accounts/unlock", Some(&f.teacher_a()), body.clone())
        .await;
    assert_eq!(by_teacher.status, 200);
    assert_eq!(by_teacher.body["results"][1]["status"], "error");
    let password = f.temporary_password("SA1").await;
    assert_eq!(
        f.app.login(login, &password).await.status,
        200,
        "the teacher's unlock lifted it"
    );
    let audit = f.app.get("/v1/audit?action=account.unlock", &f.admin()).await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        audit.body
    );
}

/// Polls a background distribution until it is done (or failed).
async fn run_done(f: &Fixture, token: &str, id: &str) -> Value {
    for _ in 0..2400 {
        let state = f.app.get(&format!("/v1/distributions/{id}"), token).await;
        assert_eq!(state.status, 200, "{:?}", state.body);
        if !matches!(state.body["status"].as_str(), Some("queued" | "running")) {
            return state.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the send-activation did not finish");
}

#[tokio::test]
async fn a_send_activation_to_500_accounts_runs_in_the_background() {
    let f = Fixture::new().await;
    let mut csv = String::from("external_id,profile,first_name,last_name,classes,email\n");
    for i in 0..500 {
        csv += &format!("B{i},student,Élève{i},Masse,6C,eleve{i}@example.org\n");
    }
    let imported = f.app.import("riverside", &csv).await;
    assert_eq!(imported.body["created"], 500, "{:?}", imported.body);
    let admin = f.admin();
    let list = f.app.get("/v1/accounts?class=6C&limit=500", &admin).await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 500);
    let queued = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&admin),
            json!({"account_ids": ids}),
        )
        .await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    assert_eq!(queued.body["kind"], "send_activation");
    let id = queued.body["id"].as_str().unwrap().to_owned();
    let done = run_done(&f, &admin, &id).await;
    let failures: Vec<String> = sesame_tests::logs()
        .lines()
        .filter(|l| l.contains("send-activation failed"))
        .map(str::to_owned)
        .collect();
    assert_eq!(done["status"], "done", "{failures:?}");
    assert_eq!(done["processed"], 500);
    assert_eq!(done["total"], 500);
    let results = done["results"].as_array().unwrap();
    assert_eq!(results.len(), 500);
    assert!(results.iter().all(|r| r["status"] == "ok" && r["mail"] == "sent"));
    let open = done["accounts"].as_array().unwrap();
    assert_eq!(open.len(), 500);
    assert!(open.iter().all(|a| a["state"] == "open"));
    let mails = std::fs::read_dir(f.app.outbox()).unwrap().count();
    assert_eq!(mails, 500);

    // "Every pending pupil of 6C" is one call, in the background too; a recall
    // of the first run then revokes the codes it mailed that are still open.
    let again = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&admin),
            json!({"filter": {"class": "6C", "activation": "pending", "q": "Élève1"}}),
        )
        .await;
    assert_eq!(again.status, 202, "{:?}", again.body);
    let second = run_done(&f, &admin, again.body["id"].as_str().unwrap()).await;
    assert_eq!(second["status"], "done", "{second}");
    // Élève1, Élève10–19, Élève100–199.
    assert_eq!(second["processed"], 111, "{second}");
    let first = f.app.get(&format!("/v1/distributions/{id}"), &admin).await.body;
    let replaced = first["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["state"] == "replaced")
        .count();
    assert_eq!(replaced, 111);
}

#[tokio::test]
async fn distributions_are_forgotten_after_the_schools_audit_retention() {
    let f = Fixture::new().await;
    let set = f
        .app
        .put("/v1/settings", &f.admin(), json!({"audit_days": 30}))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    assert_eq!(f.reset(&f.admin(), "SA1").await.status, 200);
    let list = f.app.get("/v1/distributions", &f.admin()).await;
    let id = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    f.app.clock.advance(chrono::Duration::days(31));
    let admin = f.admin();
    assert_eq!(
        f.app.get("/v1/distributions", &admin).await.body["items"],
        json!([])
    );
    assert_eq!(
        f.app.get(&format!("/v1/distributions/{id}"), &admin).await.status,
        404
    );
    // The sweep deletes it on the edge (DynamoDB's TTL does in the cloud).
    let now = sesame::ports::Clock::now(&*f.app.clock);
    f.app
        .function("sesame-sweep")
        .guards
        .sweep_expired(now)
        .await
        .unwrap();
    assert_eq!(
        f.app.get(&format!("/v1/distributions/{id}"), &admin).await.status,
        404
    );
    // A new secret's ledger forgets the notes older than the retention.
    assert_eq!(f.reset(&admin, "SA1").await.status, 200);
    let ledger = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("SA1")), &admin)
        .await;
    assert_eq!(
        ledger.body["history"].as_array().unwrap().len(),
        1,
        "{:?}",
        ledger.body
    );
}
