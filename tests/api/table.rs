//! Every road against the one table (SPEC §2). For each road to an account, each
//! role and each kind of account of the fixture, the road answers what the
//! domain's table (`Caller::may`) says: the expectations are generated from the
//! table itself, with the caller and the account as the server holds them, so
//! that no road can decide on its own.

use super::console_pages::{csrf, staff};
use crate::exports::{download, export, finished};
use serde_json::{Value, json};
use sesame::domain::{Account, AccountId, Action, Caller, ClassName, Role, SchoolId};
use sesame_tests::{Fixture, Reply};

/// One of each kind: an administrator, a secondary admin, a staff member, a
/// teacher, a pupil of 5A and one of 5B, a parent of a 5A pupil.
const TARGETS: [&str; 7] = ["ADM", "SEC", "STF", "TA", "SA1", "SB1", "PA1"];

/// A caller of the API: its token, and who it is for the table.
struct Who {
    name: &'static str,
    token: String,
    caller: Caller,
}

fn callers(f: &Fixture) -> Vec<Who> {
    let caller = |ext: &str, role: Role, classes: &[&str]| Caller {
        sub: f.id(ext).to_owned(),
        school: SchoolId::parse("riverside").unwrap(),
        role,
        classes: classes.iter().map(|c| ClassName::parse(c).unwrap()).collect(),
    };
    vec![
        Who {
            name: "admin",
            token: f.admin(),
            caller: caller("ADM", Role::Admin, &[]),
        },
        Who {
            name: "secondary",
            token: f.secondary(),
            caller: caller("SEC", Role::SecondaryAdmin, &[]),
        },
        Who {
            name: "teacher",
            token: f.teacher_a(),
            caller: caller("TA", Role::Teacher, &["5A"]),
        },
    ]
}

/// The account `ext` as the server holds it now.
async fn held(f: &Fixture, ext: &str) -> Account {
    let school = SchoolId::parse("riverside").unwrap();
    let id = AccountId::parse(f.id(ext)).unwrap();
    f.app
        .state
        .sesame
        .accounts
        .get_account(&school, &id)
        .await
        .unwrap()
        .unwrap()
}

/// The roads to an account, each with the actions of the table it needs.
#[derive(Debug, Clone, Copy)]
enum Road {
    View,
    BirthDateShown,
    Temporary,
    BirthDatePassword,
    EmailLinkWithCopy,
    SetPassword,
    SendActivationWithCopy,
    Credentials,
    ActivationCodes,
    Identifiers,
    Unlock,
    Ledger,
    Activate,
    ImportChange,
    /// A credentials file made under the caller's `sub` as an admin, then asked
    /// for with the caller's own token (the role at the time of use).
    LaterDownload,
}

impl Road {
    const ALL: [Road; 15] = [
        Self::View,
        Self::BirthDateShown,
        Self::Temporary,
        Self::BirthDatePassword,
        Self::EmailLinkWithCopy,
        Self::SetPassword,
        Self::SendActivationWithCopy,
        Self::Credentials,
        Self::ActivationCodes,
        Self::Identifiers,
        Self::Unlock,
        Self::Ledger,
        Self::Activate,
        Self::ImportChange,
        Self::LaterDownload,
    ];

    fn needs(self) -> &'static [Action] {
        match self {
            Self::View => &[Action::View],
            Self::BirthDateShown => &[Action::SeeBirthDate],
            Self::Temporary | Self::EmailLinkWithCopy | Self::SetPassword => &[Action::Reset],
            Self::Unlock | Self::Ledger => &[Action::Reset],
            Self::BirthDatePassword => &[Action::ResetToBirthDate],
            Self::SendActivationWithCopy => &[Action::SendMail],
            Self::Credentials | Self::ActivationCodes | Self::LaterDownload => {
                &[Action::ExportIdentifiers, Action::Reset]
            }
            Self::Identifiers => &[Action::ExportIdentifiers],
            Self::Activate => &[Action::SetAccess],
            Self::ImportChange => &[Action::Change],
        }
    }
}

/// Whether a per-account answer went through (anything but a refusal: an
/// account without an address answers `no_email`, which is no refusal).
fn per_account(road: Road, reply: &Reply) -> bool {
    assert_eq!(reply.status, 200, "{road:?}: {:?}", reply.body);
    let code = reply.body["results"][0]["error"]["code"].as_str().unwrap_or("ok");
    !matches!(code, "forbidden" | "not_found")
}

/// Whether `status` answers a one-account route that went through.
fn through(road: Road, reply: &Reply) -> bool {
    match reply.status {
        200 => true,
        403 | 404 => false,
        other => panic!("{road:?}: {other} {:?}", reply.body),
    }
}

/// Whether the export `body` asked by `token` hands `target`'s line out.
async fn exported(f: &Fixture, token: &str, body: Value, target: &str) -> bool {
    let queued = export(f, token, body).await;
    if queued.status != 202 {
        assert_eq!(queued.status, 422, "{:?}", queued.body);
        return false;
    }
    let done = finished(f, token, queued.body["id"].as_str().unwrap()).await;
    let (_, bytes) = download(f, done["download_url"].as_str().unwrap()).await;
    String::from_utf8_lossy(&bytes).contains(f.login_of(target))
}

/// What `road` gave `who` of `target`.
async fn drive(f: &Fixture, who: &Who, road: Road, target: &str) -> bool {
    let token = who.token.as_str();
    let id = f.id(target);
    let ids = json!([id]);
    match road {
        Road::View => through(road, &f.app.get(&format!("/v1/accounts/{id}"), token).await),
        Road::BirthDateShown => {
            let reply = f.app.get(&format!("/v1/accounts/{id}"), token).await;
            reply.body["birth_date"].is_string()
        }
        Road::Temporary | Road::BirthDatePassword | Road::EmailLinkWithCopy => {
            let method = match road {
                Road::Temporary => "temporary",
                Road::BirthDatePassword => "birth_date",
                _ => "email_link",
            };
            let body = json!({"account_ids": ids, "method": method, "copy_to_me": method == "email_link"});
            let reply = f.app.post("/v1/accounts/reset-password", Some(token), body).await;
            per_account(road, &reply)
        }
        Road::SetPassword => {
            let body =
                json!({"password": "une-phrase-bien-solide-42", "confirmation": "une-phrase-bien-solide-42"});
            through(
                road,
                &f.app
                    .put(&format!("/v1/accounts/{id}/password"), token, body)
                    .await,
            )
        }
        Road::SendActivationWithCopy => {
            let body = json!({"account_ids": ids, "copy_to_me": true});
            per_account(
                road,
                &f.app
                    .post("/v1/accounts/send-activation", Some(token), body)
                    .await,
            )
        }
        Road::Credentials | Road::ActivationCodes | Road::Identifiers => {
            let content = match road {
                Road::Credentials => "credentials",
                Road::ActivationCodes => "activation",
                _ => "identifiers",
            };
            let body = json!({"account_ids": ids, "content": content, "format": "csv"});
            exported(f, token, body, target).await
        }
        Road::Unlock => per_account(
            road,
            &f.app
                .post("/v1/accounts/unlock", Some(token), json!({"account_ids": ids}))
                .await,
        ),
        Road::Ledger => through(
            road,
            &f.app.get(&format!("/v1/accounts/{id}/credentials"), token).await,
        ),
        Road::Activate => per_account(
            road,
            &f.app
                .post("/v1/accounts/activate", Some(token), json!({"account_ids": ids}))
                .await,
        ),
        Road::ImportChange => {
            let account = held(f, target).await;
            let csv = format!(
                "external_id,profile,first_name,last_name\n{target},{},{},{}\n",
                account.profile.as_str(),
                account.first_name,
                account.last_name,
            );
            let request = f
                .app
                .client
                .post(format!("{}/v1/imports", f.app.base))
                .bearer_auth(token)
                .header("content-type", "text/csv")
                .body(csv);
            let reply = f.app.send(request).await;
            match reply.status {
                403 => false,
                200 => reply.body["errors"].as_array().unwrap().is_empty(),
                other => panic!("{road:?}: {other} {:?}", reply.body),
            }
        }
        Road::LaterDownload => {
            let made_as_admin = f.app.token("riverside", "admin", &who.caller.sub, &[]);
            let body = json!({"account_ids": ids, "content": "credentials", "format": "csv"});
            let queued = export(f, &made_as_admin, body).await;
            assert_eq!(queued.status, 202, "{:?}", queued.body);
            let export_id = queued.body["id"].as_str().unwrap();
            finished(f, &made_as_admin, export_id).await;
            let now = f.app.get(&format!("/v1/exports/{export_id}"), token).await;
            match now.status {
                200 => {
                    let (_, bytes) = download(f, now.body["download_url"].as_str().unwrap()).await;
                    String::from_utf8_lossy(&bytes).contains(f.login_of(target))
                }
                404 => false,
                other => panic!("{road:?}: {other} {:?}", now.body),
            }
        }
    }
}

/// The mails in the outbox.
fn mails(f: &Fixture) -> usize {
    std::fs::read_dir(f.app.outbox()).map(|d| d.count()).unwrap_or(0)
}

#[tokio::test]
async fn every_road_answers_what_the_table_says_for_every_role_and_kind_of_account() {
    let f = Fixture::new().await;
    let settings = f
        .app
        .put("/v1/settings", &f.admin(), json!({"birth_date_mode": true}))
        .await;
    assert_eq!(settings.status, 200, "{:?}", settings.body);
    let mut wrong = Vec::new();
    let mut allowed_and_refused = std::collections::HashMap::new();
    for road in Road::ALL {
        for who in callers(&f) {
            for target in TARGETS {
                let account = held(&f, target).await;
                let mut expected = road.needs().iter().all(|a| who.caller.may(*a, &account).is_ok());
                if matches!(road, Road::BirthDateShown) {
                    expected &= account.birth_date.is_some();
                }
                let mailed_before = mails(&f);
                let got = drive(&f, &who, road, target).await;
                if got != expected {
                    wrong.push(format!(
                        "{road:?} by {} on {target}: {got}, the table says {expected}",
                        who.name
                    ));
                }
                if !got && mails(&f) != mailed_before {
                    wrong.push(format!("{road:?} by {} on {target}: a mail went out", who.name));
                }
                let seen: &mut (bool, bool) = allowed_and_refused.entry((road as u8, who.name)).or_default();
                if expected {
                    seen.0 = true;
                } else {
                    seen.1 = true;
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Each road met, for each role, at least one target it allows and one it
    // refuses, except where the role may do it to everyone.
    for ((road, role), (allowed, refused)) in allowed_and_refused {
        assert!(allowed || refused, "road {road} for {role}");
        if role == "teacher" {
            assert!(refused, "road {road}: the teacher is refused somewhere");
        }
    }
}

#[tokio::test]
async fn the_consoles_reset_answers_what_the_table_says() {
    let f = Fixture::new().await;
    let mut wrong = Vec::new();
    for (ext, who) in ["ADM", "SEC", "TA"].into_iter().zip(callers(&f)) {
        let mut browser = staff(&f, ext).await;
        let (_, page, _) = browser.get("/console/accounts").await;
        let token = csrf(&page);
        // Their own account last: resetting it ends their session.
        let mut targets: Vec<&str> = TARGETS.into_iter().filter(|t| *t != ext).collect();
        targets.push(ext);
        for target in targets {
            let account = held(&f, target).await;
            let expected = who.caller.may(Action::Reset, &account).is_ok();
            let form = [
                ("csrf", token.as_str()),
                ("action", "reset_temporary"),
                ("confirmed", "yes"),
                ("id", f.id(target)),
            ];
            let (_, shown, _, _) = browser.post("/console/accounts/act", &form).await;
            let got = shown.contains("<code class=\"secret\">");
            if got != expected {
                wrong.push(format!(
                    "console reset by {ext} on {target}: {got}, the table says {expected}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
