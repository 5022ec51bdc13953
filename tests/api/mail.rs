//! Mail over HTTP: `send-activation` and `email_link` resets answer per account
//! (`sent`, `no_email`, or the account's error), the administrator's copy, replays
//! that send nothing again, an audit trail without secrets; and the codes and links
//! the mail carries work on the self-service endpoints. Then the same mail through
//! real transports: an SMTP server (aiosmtpd, `SESAME_SMTP_SINK`) and SES on the
//! emulator (moto, `AWS_ENDPOINT_URL`); without them those tests fail, never skip.

use base64::Engine;
use serde_json::{Value, json};
use sesame_tests::{Fixture, Reply, TEST_SENDER, TestApp, logs};

const CHOSEN: &str = "tortue-violette-nuage";

/// A message as a mailbox shows it.
#[derive(Debug, Clone)]
struct Mail {
    from: String,
    to: String,
    subject: String,
    text: String,
}

impl Mail {
    /// The activation code the mail carries.
    fn code(&self) -> String {
        code_in(&self.text)
    }

    /// The first address in the mail that starts with `prefix`.
    fn link(&self, prefix: &str) -> String {
        link_in(&self.text, prefix)
    }
}

fn code_in(body: &str) -> String {
    let labels = [
        "Code d'activation : ",
        "Code d&#39;activation&nbsp;: <strong>",
        "Activation code: ",
        "Activation code: <strong>",
    ];
    let at = labels
        .iter()
        .find_map(|l| body.find(l).map(|i| i + l.len()))
        .unwrap_or_else(|| panic!("no activation code in {body}"));
    body[at..].chars().take(8).collect()
}

fn link_in(body: &str, prefix: &str) -> String {
    let at = body
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix}… in {body}"));
    body[at..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .next()
        .unwrap()
        .to_owned()
}

/// A header value with its RFC 2047 words (`=?utf-8?b?…?=`) decoded; the space
/// between two encoded words is not part of the text.
fn decode_header(raw: &str) -> String {
    let decode = |word: &str| {
        let lower = word.to_ascii_lowercase();
        let b64 = lower.starts_with("=?utf-8?b?") && word.ends_with("?=");
        b64.then(|| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&word[10..word.len() - 2])
                .unwrap();
            String::from_utf8(bytes).unwrap()
        })
    };
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, word) in raw.split(' ').enumerate() {
        match decode(word) {
            Some(text) => {
                if i > 0 && !last_encoded {
                    out.push(' ');
                }
                out.push_str(&text);
                last_encoded = true;
            }
            None => {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
                last_encoded = false;
            }
        }
    }
    out
}

/// Every message of the server's outbox, oldest first.
fn outbox(app: &TestApp) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(app.outbox()) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let raw = std::fs::read_to_string(path).unwrap();
            let (head, body) = raw.split_once("\r\n\r\n").unwrap();
            // Folded header lines are unfolded first.
            let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
            let header = |name: &str| {
                head.split("\r\n")
                    .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                    .unwrap_or_else(|| panic!("no {name} in {head}"))
                    .to_owned()
            };
            Mail {
                from: header("From"),
                to: header("To"),
                subject: decode_header(&header("Subject")),
                text: body.replace("\r\n", "\n"),
            }
        })
        .collect()
}

fn mails_to(app: &TestApp, address: &str) -> Vec<Mail> {
    outbox(app).into_iter().filter(|m| m.to == address).collect()
}

async fn send_activation(f: &Fixture, token: &str, exts: &[&str], copy_to_me: bool) -> Reply {
    let ids: Vec<&str> = exts.iter().map(|e| f.id(e)).collect();
    let body = json!({"account_ids": ids, "copy_to_me": copy_to_me});
    f.app
        .post("/v1/accounts/send-activation", Some(token), body)
        .await
}

/// The answer's item for `ext`.
fn item<'a>(f: &Fixture, reply: &'a Reply, ext: &str) -> &'a Value {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["account_id"] == f.id(ext))
        .unwrap_or_else(|| panic!("no result for {ext}: {:?}", reply.body))
}

async fn activate(f: &Fixture, ext: &str, code: &str) -> Reply {
    let body = json!({"login": f.login_of(ext), "activation_code": code, "new_password": CHOSEN});
    f.app.post("/v1/auth/activate", None, body).await
}

async fn reset_with(app: &TestApp, link: &str) -> Reply {
    let token = link.rsplit('/').next().unwrap();
    app.post(
        "/v1/auth/reset",
        None,
        json!({"token": token, "new_password": CHOSEN}),
    )
    .await
}

/// `ext` claims its account with the code of an activation mail.
async fn claimed(f: &Fixture, ext: &str, address: &str) {
    let reply = send_activation(f, &f.admin(), &[ext], false).await;
    assert_eq!(item(f, &reply, ext)["mail"], "sent");
    let mail = mails_to(&f.app, address).pop().unwrap();
    assert_eq!(activate(f, ext, &mail.code()).await.status, 200);
}

#[tokio::test]
async fn a_pending_account_gets_an_activation_mail_whose_code_claims_it() {
    let f = Fixture::new().await;

    let reply = send_activation(&f, &f.admin(), &["PA1"], false).await;

    let pa1 = item(&f, &reply, "PA1");
    assert_eq!((&pa1["status"], &pa1["mail"]), (&json!("ok"), &json!("sent")));
    assert!(pa1.get("error").is_none(), "{pa1:?}");
    assert!(reply.body.get("copy").is_none(), "{:?}", reply.body);
    let mails = mails_to(&f.app, "seb@example.org");
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail.from, TEST_SENDER);
    assert_eq!(mail.subject, "Collège Rive Gauche : activez votre compte");
    assert!(mail.text.contains("Bonjour Sébastien Lefèvre,"), "{}", mail.text);
    assert!(mail.text.contains(f.login_of("PA1")), "{}", mail.text);
    let page = format!(
        "{}/activate?login={}#code={}",
        f.app.base,
        f.login_of("PA1"),
        mail.code()
    );
    assert_eq!(
        mail.link(&format!("{}/activate", f.app.base)),
        page,
        "one secret: the code rides in the fragment"
    );
    assert_eq!(activate(&f, "PA1", &mail.code()).await.status, 200);
    assert_eq!(f.app.login(f.login_of("PA1"), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn a_new_activation_mail_replaces_the_older_code() {
    let f = Fixture::new().await;
    send_activation(&f, &f.admin(), &["PA1"], false).await;
    let first = mails_to(&f.app, "seb@example.org").remove(0).code();

    send_activation(&f, &f.admin(), &["PA1"], false).await;

    let second = mails_to(&f.app, "seb@example.org").remove(1).code();
    assert_ne!(first, second);
    assert_eq!(activate(&f, "PA1", &first).await.status, 400);
    assert_eq!(activate(&f, "PA1", &second).await.status, 200);
}

#[tokio::test]
async fn an_activated_account_gets_its_login_and_a_reset_link_that_sets_a_new_password() {
    let f = Fixture::new().await;
    claimed(&f, "TA", "m.besson@example.org").await;

    let reply = send_activation(&f, &f.admin(), &["TA"], false).await;

    assert_eq!(item(&f, &reply, "TA")["mail"], "sent");
    let mail = mails_to(&f.app, "m.besson@example.org").pop().unwrap();
    assert_eq!(
        mail.subject,
        "Collège Rive Gauche : vos informations de connexion"
    );
    assert!(mail.text.contains(f.login_of("TA")), "{}", mail.text);
    assert!(mail.text.contains("valable 24 heures"), "{}", mail.text);
    let link = mail.link(&format!("{}/reset/", f.app.base));
    assert_eq!(reset_with(&f.app, &link).await.status, 200);
    assert_eq!(f.app.login(f.login_of("TA"), CHOSEN).await.status, 200);
    assert_eq!(
        reset_with(&f.app, &link).await.code(),
        "invalid_link",
        "single use"
    );
}

#[tokio::test]
async fn accounts_without_an_address_are_reported_and_get_nothing() {
    let f = Fixture::new().await;

    let reply = send_activation(&f, &f.admin(), &["SA1", "PA1"], false).await;

    let sa1 = item(&f, &reply, "SA1");
    assert_eq!(
        (&sa1["status"], &sa1["mail"], &sa1["error"]["code"]),
        (&json!("error"), &json!("no_email"), &json!("no_email"))
    );
    assert_eq!(item(&f, &reply, "PA1")["mail"], "sent");
    assert_eq!(outbox(&f.app).len(), 1);
    let school = sesame::domain::SchoolId::parse("riverside").unwrap();
    let id = sesame::domain::AccountId::parse(f.id("SA1")).unwrap();
    let sa1 = f
        .app
        .state
        .sesame
        .accounts
        .get_account(&school, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(sa1.credentials.secret.is_none(), "no code was handed out");
}

#[tokio::test]
async fn teachers_mail_their_own_students_only() {
    let f = Fixture::new().await;
    let extra = "external_id,profile,first_name,last_name,classes,email\n\
                 SA9,student,Élodie,Petit,5A,elodie@example.org\n";
    assert_eq!(f.app.import("riverside", extra).await.status, 200);
    let listed = f.app.get("/v1/accounts?q=elodie", &f.admin()).await;
    let elodie = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    let ids = json!({"account_ids": [elodie, f.id("SA1"), f.id("PA1"), f.id("SB1")]});

    let reply = f
        .app
        .post("/v1/accounts/send-activation", Some(&f.teacher_a()), ids)
        .await;

    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let results = reply.body["results"].as_array().unwrap();
    let status = |i: usize| {
        (
            results[i]["mail"].as_str().unwrap_or("-"),
            results[i]["error"]["code"].as_str().unwrap_or("-"),
        )
    };
    assert_eq!(status(0), ("sent", "-"), "a student of 5A with an address");
    assert_eq!(status(1), ("no_email", "no_email"), "a student of 5A without one");
    assert_eq!(status(2), ("-", "forbidden"), "a parent in 5A: seen, not mailed");
    assert_eq!(status(3), ("-", "not_found"), "a student of 5B");
    assert_eq!(outbox(&f.app).len(), 1);
}

#[tokio::test]
async fn federated_and_disabled_accounts_are_refused() {
    let f = Fixture::new().await;
    let off = json!({"account_ids": [f.id("TA")]});
    assert_eq!(
        f.app
            .post("/v1/accounts/deactivate", Some(&f.admin()), off)
            .await
            .status,
        200
    );

    let reply = send_activation(&f, &f.admin(), &["SAF", "TA"], false).await;

    assert_eq!(item(&f, &reply, "SAF")["error"]["code"], "federated_account");
    assert_eq!(item(&f, &reply, "TA")["error"]["code"], "access_disabled");
    assert!(outbox(&f.app).is_empty());
}

#[tokio::test]
async fn the_admins_copy_names_the_recipient_and_carries_the_same_code() {
    let f = Fixture::new().await;

    let reply = send_activation(&f, &f.admin(), &["PA1", "SA1"], true).await;

    assert_eq!(reply.body["copy"], "sent", "{:?}", reply.body);
    let sent = mails_to(&f.app, "seb@example.org");
    let copies = mails_to(&f.app, "h.garnier@example.org");
    assert_eq!((sent.len(), copies.len()), (1, 1), "one copy per mail sent");
    let copy = &copies[0];
    assert_eq!(
        copy.subject,
        "[Copie] Collège Rive Gauche : activez votre compte (Sébastien Lefèvre)"
    );
    assert!(copy.text.contains("seb@example.org"), "{}", copy.text);
    assert!(copy.text.contains(f.login_of("PA1")), "{}", copy.text);
    assert_eq!(copy.code(), sent[0].code());
}

#[tokio::test]
async fn a_caller_without_an_address_of_their_own_is_told_no_copy_went() {
    let f = Fixture::new().await;

    let reply = send_activation(&f, &f.secondary(), &["PA1"], true).await;

    assert_eq!(reply.body["copy"], "no_email", "{:?}", reply.body);
    assert_eq!(item(&f, &reply, "PA1")["mail"], "sent");
    assert_eq!(outbox(&f.app).len(), 1);
}

#[tokio::test]
async fn the_schools_sender_and_language_are_used() {
    let f = Fixture::new().await;
    // As deployed, the functions may send as the template's identity only (the
    // tests' domain, sesame.test): a sender outside it would fail every mail.
    let (sender, outside) = match f.app.mail_identity() {
        Some(_) => ("secretariat@sesame.test", Some("secretariat@rive-gauche.example")),
        None => ("secretariat@rive-gauche.example", None),
    };
    if let Some(outside) = outside {
        let refused = f
            .app
            .put("/v1/settings", &f.admin(), json!({"sender": outside}))
            .await;
        assert_eq!(
            (refused.status, refused.body["errors"][0]["field"].as_str()),
            (422, Some("sender"))
        );
    }
    let settings = json!({"sender": sender, "language": "en"});
    assert_eq!(f.app.put("/v1/settings", &f.admin(), settings).await.status, 200);

    send_activation(&f, &f.admin(), &["PA1"], false).await;

    let mail = mails_to(&f.app, "seb@example.org").pop().unwrap();
    assert_eq!(mail.from, sender);
    assert_eq!(mail.subject, "Collège Rive Gauche: activate your account");
    assert!(mail.text.contains("Hello Sébastien Lefèvre,"), "{}", mail.text);
    assert!(mail.text.contains("valid for 90 days"), "{}", mail.text);
}

#[tokio::test]
async fn without_any_sender_address_nothing_is_sent_and_each_account_says_why() {
    let app = TestApp::spawn_mailing(None, None).await;
    app.create_school("riverside", "Collège Rive Gauche").await;
    let roster =
        "external_id,profile,first_name,last_name,classes,email\nP1,parent,Jean,Petit,,jean@example.org\n";
    assert_eq!(app.import("riverside", roster).await.status, 200);
    let admin = app.token("riverside", "admin", "fixture", &[]);
    let id = app.get("/v1/accounts", &admin).await.body["items"][0]["id"].clone();

    let reply = app
        .post(
            "/v1/accounts/send-activation",
            Some(&admin),
            json!({"account_ids": [id]}),
        )
        .await;

    let item = &reply.body["results"][0];
    assert_eq!(
        (&item["mail"], &item["error"]["code"]),
        (&json!("failed"), &json!("mail_failed"))
    );
    assert!(
        item["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("SESAME_SENDER"),
        "{item:?}"
    );
    assert!(outbox(&app).is_empty());
}

#[tokio::test]
async fn an_email_link_reset_mails_a_link_and_shows_no_password() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("TA"), f.id("SA1")], "method": "email_link", "copy_to_me": true});

    let reply = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;

    let ta = item(&f, &reply, "TA");
    assert_eq!((&ta["status"], &ta["mail"]), (&json!("ok"), &json!("sent")));
    assert!(ta.get("temporary_password").is_none(), "{ta:?}");
    assert_eq!(item(&f, &reply, "SA1")["mail"], "no_email");
    assert_eq!(reply.body["copy"], "sent");
    let mail = mails_to(&f.app, "m.besson@example.org").pop().unwrap();
    assert_eq!(
        mail.subject,
        "Collège Rive Gauche : choisissez un nouveau mot de passe"
    );
    let link = mail.link(&format!("{}/reset/", f.app.base));
    let copy = mails_to(&f.app, "h.garnier@example.org").pop().unwrap();
    assert_eq!(copy.link(&format!("{}/reset/", f.app.base)), link);
    assert_eq!(reset_with(&f.app, &link).await.status, 200);
    assert_eq!(f.app.login(f.login_of("TA"), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn email_link_resets_follow_the_reset_permissions() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("TA"), f.id("SAF")], "method": "email_link"});

    let by_teacher = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.teacher_a()), body.clone())
        .await;
    let by_admin = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;

    assert_eq!(item(&f, &by_teacher, "TA")["error"]["code"], "not_found");
    assert_eq!(item(&f, &by_admin, "SAF")["error"]["code"], "federated_account");
    assert_eq!(outbox(&f.app).len(), 1);
}

#[tokio::test]
async fn a_replayed_idempotency_key_sends_nothing_again() {
    let f = Fixture::new().await;
    let post = |path: &str, body: Value| {
        f.app
            .client
            .post(format!("{}{path}", f.app.base))
            .bearer_auth(f.admin())
            .header("Idempotency-Key", "mail-once")
            .json(&body)
    };
    let activation = json!({"account_ids": [f.id("PA1")], "copy_to_me": true});
    let reset = json!({"account_ids": [f.id("TA")], "method": "email_link"});

    let first = f
        .app
        .send(post("/v1/accounts/send-activation", activation.clone()))
        .await;
    let again = f.app.send(post("/v1/accounts/send-activation", activation)).await;
    let first_reset = f
        .app
        .send(post("/v1/accounts/reset-password", reset.clone()))
        .await;
    let reset_again = f.app.send(post("/v1/accounts/reset-password", reset)).await;

    assert_eq!(first.body, again.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(first_reset.body, reset_again.body);
    assert_eq!(reset_again.header("idempotent-replayed"), Some("true"));
    assert_eq!(outbox(&f.app).len(), 3, "the mail, its copy, the link: once each");
}

#[tokio::test]
async fn each_mailing_is_audited_by_kind_without_the_secret() {
    let f = Fixture::new().await;
    claimed(&f, "TA", "m.besson@example.org").await;
    send_activation(&f, &f.admin(), &["PA1", "TA", "SA1"], false).await;
    let code = mails_to(&f.app, "seb@example.org").pop().unwrap().code();
    let link = mails_to(&f.app, "m.besson@example.org")
        .pop()
        .unwrap()
        .link(&format!("{}/reset/", f.app.base));
    let token = link.rsplit('/').next().unwrap().to_owned();

    let audit = f.app.get("/v1/audit?action=mail.activation", &f.admin()).await;
    let login_info = f.app.get("/v1/audit?action=mail.login_info", &f.admin()).await;

    let targets = |reply: &Reply| -> Vec<Value> {
        reply.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["targets"].clone())
            .collect()
    };
    // TA's own activation mail, then PA1's.
    assert!(
        targets(&audit).contains(&json!([f.id("PA1")])),
        "{:?}",
        audit.body
    );
    assert_eq!(targets(&login_info), vec![json!([f.id("TA")])]);
    for text in [audit.body.to_string(), login_info.body.to_string(), logs()] {
        assert!(!text.contains(&code), "the code leaked");
        assert!(!text.contains(&token), "the token leaked");
    }
}

#[tokio::test]
async fn the_openapi_description_covers_mailing() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .body;
    let send = &doc["paths"]["/v1/accounts/send-activation"]["post"];
    assert!(send.is_object(), "send-activation is described");
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["MailResults"]["properties"]["copy"].is_object(),
        "{schemas}"
    );
    assert!(schemas["SendActivationRequest"]["properties"]["copy_to_me"].is_object());
    assert!(schemas["ResetRequest"]["properties"]["copy_to_me"].is_object());
    assert!(
        schemas["ResetMethod"].to_string().contains("email_link"),
        "{}",
        schemas["ResetMethod"]
    );
}

/// Mail through a real SMTP server: the sink of scripts/smtp-sink.sh.
#[cfg(feature = "smtp-sink")]
mod smtp {
    use super::*;
    use sesame::adapters::smtp::SmtpMailer;
    use sesame::domain::Email;
    use sesame::ports::{MailError, Mailer, Message};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn sink() -> (String, PathBuf) {
        let url = std::env::var("SESAME_SMTP_SINK").unwrap_or_default();
        let dir = std::env::var("SESAME_SMTP_SINK_DIR").unwrap_or_default();
        assert!(
            !url.is_empty() && !dir.is_empty(),
            "SESAME_SMTP_SINK and SESAME_SMTP_SINK_DIR must name an SMTP sink (source scripts/smtp-sink.sh)"
        );
        (url, PathBuf::from(dir))
    }

    fn unique() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{nanos:x}")
    }

    /// The messages the sink stored for `address`: the raw `.eml` and the `.json`
    /// that Python's MIME parser made of it.
    fn stored_for(dir: &std::path::Path, address: &str) -> Vec<(String, Value)> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if record["rcpt_tos"] == json!([address]) {
                let raw = std::fs::read_to_string(path.with_extension("eml")).unwrap();
                found.push((raw, record));
            }
        }
        found
    }

    /// A school whose roster has `rows` (`ext,profile,first,last,class,email`), on a
    /// server that mails through the sink. Answers the app, an admin token and the ids.
    async fn school(rows: &str) -> (TestApp, String, Vec<String>) {
        let (url, _) = sink();
        let mailer = Arc::new(SmtpMailer::new(&url).unwrap());
        let app = TestApp::spawn_mailing(Some(mailer), Some(TEST_SENDER)).await;
        app.create_school("riverside", "Collège Rive Gauche").await;
        let roster = format!("external_id,profile,first_name,last_name,classes,email\n{rows}");
        let report = app.import("riverside", &roster).await;
        assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
        let admin = app.token("riverside", "admin", "fixture", &[]);
        let mut ids = Vec::new();
        for row in rows.lines() {
            let last = row.split(',').nth(3).unwrap();
            let list = app.get(&format!("/v1/accounts?q={last}"), &admin).await;
            ids.push(list.body["items"][0]["id"].as_str().unwrap().to_owned());
        }
        (app, admin, ids)
    }

    #[tokio::test]
    async fn activation_mail_crosses_smtp_with_its_accents_and_a_code_that_works() {
        let (_, dir) = sink();
        let address = format!("zoe.{}@example.org", unique());
        let (app, admin, ids) = school(&format!("Z1,student,Zoé,Lefèvre,5A,{address}\n")).await;

        let reply = app
            .post(
                "/v1/accounts/send-activation",
                Some(&admin),
                json!({"account_ids": ids}),
            )
            .await;

        assert_eq!(reply.body["results"][0]["mail"], "sent", "{:?}", reply.body);
        let stored = stored_for(&dir, &address);
        assert_eq!(stored.len(), 1, "{stored:?}");
        let (raw, record) = &stored[0];
        assert!(raw.contains("Content-Type: multipart/alternative"), "{raw}");
        assert!(raw.to_lowercase().contains("charset=utf-8"), "{raw}");
        assert!(
            raw.contains("@sesame.test>"),
            "a Message-ID at the sender's domain: {raw}"
        );
        assert_eq!(record["from"], TEST_SENDER);
        assert_eq!(record["to"], address.as_str());
        assert_eq!(record["subject"], "Collège Rive Gauche : activez votre compte");
        let text = record["text"].as_str().unwrap();
        let html = record["html"].as_str().unwrap();
        assert!(text.contains("Bonjour Zoé Lefèvre,"), "{text}");
        assert!(html.contains("Bonjour Zoé Lefèvre,"), "{html}");
        let code = code_in(text);
        let page = format!("{}/activate?login=zoe.lefevre#code={code}", app.base);
        assert_eq!(link_in(text, &format!("{}/activate", app.base)), page);
        assert_eq!(link_in(html, &format!("{}/activate", app.base)), page);
        assert_eq!(code_in(html), code);
        let claim = json!({"login": "zoe.lefevre", "activation_code": code, "new_password": CHOSEN});
        assert_eq!(app.post("/v1/auth/activate", None, claim).await.status, 200);
    }

    #[tokio::test]
    async fn a_busy_or_refusing_smtp_server_is_reported_per_account() {
        let address = format!("noe.{}@example.org", unique());
        let rows = format!(
            "T1,parent,Tom,Occupé,,throttled@example.org\n\
             R1,parent,Rita,Refusée,,rejected@example.org\n\
             N1,parent,Noé,Martin,,{address}\n"
        );
        let (app, admin, ids) = school(&rows).await;

        let reply = app
            .post(
                "/v1/accounts/send-activation",
                Some(&admin),
                json!({"account_ids": ids}),
            )
            .await;

        let results = &reply.body["results"];
        let outcome = |i: usize| (results[i]["mail"].as_str(), results[i]["error"]["code"].as_str());
        assert_eq!(outcome(0), (Some("failed"), Some("mail_failed")), "{results:?}");
        assert!(
            results[0]["error"]["detail"].as_str().unwrap().contains("busy"),
            "{results:?}"
        );
        assert_eq!(outcome(1), (Some("failed"), Some("mail_failed")), "{results:?}");
        assert!(
            results[1]["error"]["detail"]
                .as_str()
                .unwrap()
                .contains("refused"),
            "{results:?}"
        );
        assert_eq!(outcome(2), (Some("sent"), None), "{results:?}");
        let audit = app.get("/v1/audit?action=mail.activation", &admin).await;
        let failed = audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["outcome"] == "error")
            .unwrap_or_else(|| panic!("{:?}", audit.body));
        assert_eq!(failed["targets"], json!([ids[0], ids[1]]));
        assert_eq!(failed["detail"], "not delivered: bounced, throttled");
    }

    /// SPEC §4 "mail state" on the edge: the sink answers `rejected@…`'s
    /// `RCPT TO` with 550 5.1.1.
    #[tokio::test]
    async fn a_refused_recipient_is_marked_bounced_and_gets_no_mail_until_its_address_changes() {
        let (_, dir) = sink();
        let good = format!("rita.{}@example.org", unique());
        let rows = "R1,parent,Rita,Refusée,5A,rejected@example.org\nS1,student,Sam,Suivi,5A,\n";
        let (app, admin, ids) = school(rows).await;
        let (rita, sam) = (&ids[0], &ids[1]);
        let account = app.get(&format!("/v1/accounts/{rita}"), &admin).await;
        assert_eq!(
            account.body["email_state"]["status"], "unknown",
            "{:?}",
            account.body
        );
        let without = app.get(&format!("/v1/accounts/{sam}"), &admin).await;
        assert!(without.body.get("email_state").is_none(), "no address, no state");

        let send = || {
            app.post(
                "/v1/accounts/send-activation",
                Some(&admin),
                json!({"account_ids": [rita]}),
            )
        };
        let first = send().await;
        assert_eq!(first.body["results"][0]["mail"], "failed", "{:?}", first.body);
        let account = app.get(&format!("/v1/accounts/{rita}"), &admin).await;
        let state = &account.body["email_state"];
        assert_eq!(state["status"], "bounced", "{:?}", account.body);
        assert!(state["diagnostic"].as_str().unwrap().contains("550"), "{state}");
        assert!(state["at"].is_string(), "{state}");
        let bounced = app.get("/v1/accounts?email_state=bounced", &admin).await;
        assert_eq!(bounced.body["total"], 1, "{:?}", bounced.body);
        assert_eq!(bounced.body["items"][0]["id"], rita.as_str());
        let follow = app.get("/v1/classes/5A/follow-up", &admin).await;
        assert_eq!(
            follow.body["parents"]["mail_not_delivered"], 1,
            "{:?}",
            follow.body
        );
        let audit = app.get("/v1/audit?action=mail.bounced", &admin).await;
        assert_eq!(
            audit.body["items"][0]["targets"],
            json!([rita]),
            "{:?}",
            audit.body
        );

        // Not sent again, and said so; no code handed out for nothing.
        let again = send().await;
        let item = &again.body["results"][0];
        assert_eq!(item["status"], "error", "{item}");
        assert_eq!(item["mail"], "email_undeliverable", "{item}");
        assert_eq!(item["error"]["code"], "email_undeliverable", "{item}");
        let ledger = app.get(&format!("/v1/accounts/{rita}/credentials"), &admin).await;
        let issued = ledger.body.to_string().matches("activation_code").count();

        // A teacher may not clear or change it; the admin corrects the address.
        let teacher = app.token("riverside", "teacher", "t-5a", &["5A"]);
        let cleared = app
            .post(
                "/v1/accounts/clear-email-state",
                Some(&teacher),
                json!({"account_ids": [rita]}),
            )
            .await;
        assert_ne!(cleared.body["results"][0]["status"], "ok", "{:?}", cleared.body);
        let patched = app
            .patch(&format!("/v1/accounts/{rita}"), &teacher, json!({"email": good}))
            .await;
        assert!(matches!(patched.status, 403 | 404), "{:?}", patched.body);
        let bad = app
            .patch(
                &format!("/v1/accounts/{rita}"),
                &admin,
                json!({"email": "pas-une-adresse"}),
            )
            .await;
        assert_eq!(
            (bad.status, bad.code()),
            (422, "validation_failed"),
            "{:?}",
            bad.body
        );
        assert_eq!(bad.body["errors"][0]["field"], "email", "{:?}", bad.body);
        let patched = app
            .patch(&format!("/v1/accounts/{rita}"), &admin, json!({"email": good}))
            .await;
        assert_eq!(patched.status, 200, "{:?}", patched.body);
        assert_eq!(patched.body["email"], good.as_str());
        assert_eq!(patched.body["email_state"]["status"], "unknown");
        let audit = app.get("/v1/audit?action=account.email", &admin).await;
        assert_eq!(
            audit.body["items"][0]["targets"],
            json!([rita]),
            "{:?}",
            audit.body
        );
        assert_eq!(send().await.body["results"][0]["mail"], "sent");
        assert_eq!(stored_for(&dir, &good).len(), 1);
        assert!(issued <= ledger.body.to_string().matches("activation_code").count());

        // Bounced again at the old address through a later correction, then cleared.
        let back = app
            .patch(
                &format!("/v1/accounts/{rita}"),
                &admin,
                json!({"email": "rejected@example.org"}),
            )
            .await;
        assert_eq!(back.status, 200);
        assert_eq!(send().await.body["results"][0]["mail"], "failed");
        assert_eq!(send().await.body["results"][0]["mail"], "email_undeliverable");
        let cleared = app
            .post(
                "/v1/accounts/clear-email-state",
                Some(&admin),
                json!({"account_ids": [rita]}),
            )
            .await;
        assert_eq!(cleared.body["results"][0]["status"], "ok", "{:?}", cleared.body);
        let account = app.get(&format!("/v1/accounts/{rita}"), &admin).await;
        assert_eq!(account.body["email_state"]["status"], "unknown");
        assert_eq!(
            send().await.body["results"][0]["mail"],
            "failed",
            "mail is tried again"
        );
    }

    /// A copy to an administrator whose own address is refused marks nobody.
    #[tokio::test]
    async fn a_refused_copy_marks_neither_the_account_nor_the_admin() {
        let (_, dir) = sink();
        let parent = format!("paul.{}@example.org", unique());
        let rows = format!("P1,parent,Paul,Parent,5A,{parent}\nA1,staff,Ada,Admin,,rejected@example.org\n");
        let (app, _, ids) = school(&rows).await;
        let admin_login = app
            .get(
                &format!("/v1/accounts/{}", ids[1]),
                &app.token("riverside", "admin", "fixture", &[]),
            )
            .await
            .body["login"]
            .as_str()
            .unwrap()
            .to_owned();
        let admin = app.token("riverside", "admin", &admin_login, &[]);
        let reply = app
            .post(
                "/v1/accounts/send-activation",
                Some(&admin),
                json!({"account_ids": [ids[0]], "copy_to_me": true}),
            )
            .await;
        assert_eq!(reply.body["results"][0]["mail"], "sent", "{:?}", reply.body);
        assert_eq!(reply.body["copy"], "failed", "{:?}", reply.body);
        assert_eq!(stored_for(&dir, &parent).len(), 1);
        for id in &ids {
            let account = app.get(&format!("/v1/accounts/{id}"), &admin).await;
            assert_eq!(
                account.body["email_state"]["status"], "unknown",
                "{:?}",
                account.body
            );
        }
    }

    #[tokio::test]
    async fn the_smtp_mailer_tells_throttling_from_refusal_from_an_unreachable_server() {
        let (url, _) = sink();
        let mailer = SmtpMailer::new(&url).unwrap();
        let to = |address: &str| Message {
            to: Email::parse(address).unwrap(),
            from: Email::parse(TEST_SENDER).unwrap(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            tags: Vec::new(),
        };
        let nobody = SmtpMailer::new("smtp://127.0.0.1:9").unwrap();

        let throttled = mailer.send(&to("throttled@example.org")).await;
        let rejected = mailer.send(&to("rejected@example.org")).await;
        let unreachable = nobody.send(&to("zoe@example.org")).await;

        assert!(matches!(throttled, Err(MailError::Throttled)), "{throttled:?}");
        assert!(
            matches!(&rejected, Err(MailError::Bounced(why)) if why.contains("550")),
            "{rejected:?}"
        );
        assert!(
            matches!(unreachable, Err(MailError::Backend(_))),
            "{unreachable:?}"
        );
    }
}

/// Mail through SES v2 on the emulator (moto), read back from the emulator's state.
#[cfg(feature = "aws")]
mod ses {
    use super::*;
    use sesame::adapters::ses::SesMailer;
    use std::sync::Arc;

    fn endpoint() -> String {
        let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
        assert!(
            !endpoint.is_empty(),
            "AWS_ENDPOINT_URL must name an emulator (scripts/moto.sh)"
        );
        endpoint
    }

    fn unique() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{nanos:x}")
    }

    async fn sdk() -> aws_config::SdkConfig {
        endpoint();
        aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
    }

    /// A sender identity, created (and so verified, on moto) for this test.
    async fn verified_sender() -> String {
        let sender = format!("ecole-{}@rive-gauche.example", unique());
        aws_sdk_sesv2::Client::new(&sdk().await)
            .create_email_identity()
            .email_identity(&sender)
            .send()
            .await
            .expect("the emulator creates the identity");
        sender
    }

    async fn sent_to(address: &str) -> Vec<Value> {
        endpoint();
        sesame_tests::ses_messages_to(address).await
    }

    async fn school(sender: &str, address: &str) -> (TestApp, String, String) {
        let mailer = Arc::new(SesMailer::from_config(&sdk().await));
        let app = TestApp::spawn_mailing(Some(mailer), Some(sender)).await;
        app.create_school("riverside", "Collège Rive Gauche").await;
        let roster = format!(
            "external_id,profile,first_name,last_name,classes,email\nT1,teacher,Marion,Besson,5A,{address}\n"
        );
        assert_eq!(app.import("riverside", &roster).await.status, 200);
        let admin = app.token("riverside", "admin", "fixture", &[]);
        let id = app.get("/v1/accounts", &admin).await.body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (app, admin, id)
    }

    async fn send(app: &TestApp, admin: &str, id: &str) -> Value {
        let reply = app
            .post(
                "/v1/accounts/send-activation",
                Some(admin),
                json!({"account_ids": [id]}),
            )
            .await;
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        reply.body["results"][0].clone()
    }

    #[tokio::test]
    async fn activation_then_login_information_go_through_ses_with_a_code_and_a_link_that_work() {
        let sender = verified_sender().await;
        let address = format!("marion.{}@example.org", unique());
        let (app, admin, id) = school(&sender, &address).await;

        assert_eq!(send(&app, &admin, &id).await["mail"], "sent");
        let activation = sent_to(&address).await;
        assert_eq!(activation.len(), 1, "{activation:?}");
        assert_eq!(activation[0]["source"], sender.as_str());
        assert_eq!(
            activation[0]["subject"],
            "Collège Rive Gauche : activez votre compte"
        );
        let code = code_in(activation[0]["body"].as_str().unwrap());
        let claim = json!({"login": "marion.besson", "activation_code": code, "new_password": CHOSEN});
        assert_eq!(app.post("/v1/auth/activate", None, claim).await.status, 200);

        assert_eq!(send(&app, &admin, &id).await["mail"], "sent");
        let mails = sent_to(&address).await;
        assert_eq!(mails.len(), 2, "{mails:?}");
        let info = &mails[1];
        assert_eq!(
            info["subject"],
            "Collège Rive Gauche : vos informations de connexion"
        );
        let body = info["body"].as_str().unwrap();
        assert!(body.contains("Bonjour Marion Besson,"), "{body}");
        let link = link_in(body, &format!("{}/reset/", app.base));
        let reset =
            json!({"token": link.rsplit('/').next().unwrap(), "new_password": "un-tout-autre-secret"});
        assert_eq!(app.post("/v1/auth/reset", None, reset).await.status, 200);
        assert_eq!(
            app.login("marion.besson", "un-tout-autre-secret").await.status,
            200
        );
    }

    #[tokio::test]
    async fn a_sender_ses_does_not_know_is_reported_as_failed() {
        let address = format!("marion.{}@example.org", unique());
        let unverified = format!("inconnu-{}@nowhere.example", unique());
        let (app, admin, id) = school(&unverified, &address).await;

        let item = send(&app, &admin, &id).await;

        assert_eq!(
            (&item["mail"], &item["error"]["code"]),
            (&json!("failed"), &json!("mail_failed"))
        );
        assert!(
            item["error"]["detail"].as_str().unwrap().contains("refused"),
            "{item:?}"
        );
        assert!(sent_to(&address).await.is_empty());
    }
}

#[tokio::test]
async fn mail_and_pages_keep_names_in_every_script() {
    let f = Fixture::new().await;
    let roster = "external_id,profile,first_name,last_name,classes,email\n\
                  AR1,student,محمد,العلي,5A,mohamed@example.org\n\
                  ZH1,student,伟,王,5A,wei@example.org\n";
    let report = f.app.import("riverside", roster).await;
    assert_eq!(report.body["errors"], json!([]), "{:?}", report.body);
    let list = f
        .app
        .get("/v1/accounts?class=5A&email=present&limit=500", &f.admin())
        .await;
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["email"]
                .as_str()
                .is_some_and(|e| e.starts_with("mohamed") || e.starts_with("wei"))
        })
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{:?}", list.body);
    let sent = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": ids}),
        )
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let arabic = mails_to(&f.app, "mohamed@example.org");
    assert!(arabic[0].text.contains("محمد العلي"), "{}", arabic[0].text);
    let chinese = mails_to(&f.app, "wei@example.org");
    assert!(chinese[0].text.contains("伟 王"), "{}", chinese[0].text);
    // The activation page the mail links to shows the login as typed.
    let link = link_in(&arabic[0].text, &format!("{}/activate?", f.app.base));
    let page = f
        .app
        .client
        .get(link.split('#').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}
