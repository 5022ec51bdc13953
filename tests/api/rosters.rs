//! Rosters from where schools keep them (SPEC §4): OneRoster bundles (1.1 and 1.2,
//! bulk and delta, with parents), and the sync that closes the accounts of those
//! who left, after its preview, only as far as the caller confirmed.

use serde_json::{Value, json};
use sesame_tests::oneroster::{
    CLASSES_11, DEMOGRAPHICS_11, ENROLLMENTS_11, ORGS, ROLES_12, USERS_11, USERS_12, manifest, user_11, zip,
};
use sesame_tests::uploads::{finished, upload};
use sesame_tests::{Fixture, Reply, TestApp};
use std::collections::HashMap;

/// A new school `id` whose OneRoster org is `org` (unset when `None`); its admin's token.
async fn school(app: &TestApp, id: &str, org: Option<&str>) -> String {
    app.create_school(id, "Collège des Chênes").await;
    let admin = app.token(id, "admin", "secretariat", &[]);
    if let Some(org) = org {
        let set = app
            .put("/v1/settings", &admin, json!({"oneroster_org": org}))
            .await;
        assert_eq!(set.status, 200, "{:?}", set.body);
        assert_eq!(set.body["oneroster_org"], org);
    }
    admin
}

/// Posts `bytes` to `/v1/imports` with `query`, as `content_type`.
async fn post(app: &TestApp, token: &str, query: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
    let request = app
        .client
        .post(format!("{}/v1/imports{query}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes);
    app.send(request).await
}

async fn bundle(app: &TestApp, token: &str, query: &str, bytes: Vec<u8>) -> Reply {
    post(app, token, query, "application/zip", bytes).await
}

/// The school's accounts by external id, as its admin sees them.
async fn accounts(app: &TestApp, token: &str) -> HashMap<String, Value> {
    let list = app.get("/v1/accounts?limit=500", token).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| Some((a["external_id"].as_str()?.to_owned(), a.clone())))
        .collect()
}

fn users_11(rows: &[String]) -> String {
    format!("{USERS_11}\n{}\n", rows.join("\n"))
}

/// The `users.csv` row of a user of s1 in [`district_11`]: two students (u2
/// disabled), a parent, a guardian (whose row carries a password), a teacher and an
/// administrator.
fn s1_user(id: &str) -> String {
    let (enabled, role, username, given, family, email, agents, grades, password) = match id {
        "u1" => (
            true,
            "student",
            "zoe.lefevre",
            "Zoé",
            "Lefèvre",
            "",
            "p1",
            "06",
            "",
        ),
        "u2" => (false, "student", "", "Noé", "Martin", "", "", "06", ""),
        "p1" => (
            true,
            "parent",
            "",
            "Sébastien",
            "Lefèvre",
            "seb@example.org",
            "u1",
            "",
            "",
        ),
        "g1" => (true, "guardian", "", "Anne", "Martin", "", "u2", "", "hunter2"),
        "t1" => (
            true,
            "teacher",
            "m.besson",
            "Marion",
            "Besson",
            "m.besson@example.org",
            "",
            "",
            "",
        ),
        "a1" => (true, "administrator", "", "Hélène", "Garnier", "", "", "", ""),
        other => panic!("no user {other} in s1"),
    };
    user_11(
        id, enabled, "s1", role, username, given, family, email, agents, grades, password,
    )
}

/// A OneRoster 1.1 bulk bundle of a district with two schools: s1 (ours) has two
/// students, a parent, a guardian, a teacher and an administrator; s2 one student.
fn district_11() -> Vec<u8> {
    let mut users: Vec<String> = ["u1", "u2", "p1", "g1", "t1", "a1"].map(s1_user).into();
    users.push(user_11(
        "x1", true, "s2", "student", "", "Autre", "École", "", "", "06", "",
    ));
    let users = users_11(&users);
    zip(&[
        (
            "manifest.csv",
            manifest(
                "1.1",
                "bulk",
                &["orgs", "users", "classes", "enrollments", "demographics"],
            ),
        ),
        (
            "orgs.csv",
            format!(
                "{ORGS}\nd1,,,Rectorat,district,,\ns1,,,Collège des Chênes,school,0750001A,d1\ns2,,,Lycée Voisin,school,0750002B,d1\n"
            ),
        ),
        ("users.csv", users),
        (
            "classes.csv",
            format!(
                "{CLASSES_11}\nc1,,,6e A,06,,,scheduled,,s1,t1,,,\nc2,,,6e B,06,,,scheduled,,s1,t1,,,\nc9,,,2nde 1,10,,,scheduled,,s2,t1,,,\n"
            ),
        ),
        (
            "enrollments.csv",
            format!(
                "{ENROLLMENTS_11}\ne1,,,c1,s1,u1,student,false,,\ne2,,,c2,s1,u2,student,false,,\ne3,,,c1,s1,t1,teacher,true,,\ne4,,,c2,s1,t1,teacher,true,,\ne9,,,c9,s2,x1,student,false,,\n"
            ),
        ),
        (
            "demographics.csv",
            format!("{DEMOGRAPHICS_11}\nu1,,,2013-03-09,female,,,,,,,,,,,\n"),
        ),
    ])
}

#[tokio::test]
async fn a_oneroster_1_1_bulk_bundle_imports_the_schools_users_with_their_parents_classes_and_dates() {
    let app = TestApp::spawn().await;
    // Two schools in the bundle and no org set: which one is ours is asked.
    let unset = school(&app, "sans-org", None).await;
    let refused = bundle(&app, &unset, "", district_11()).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "oneroster_org");

    let admin = school(&app, "chenes", Some("s1")).await;
    let preview = bundle(&app, &admin, "?dry_run=true", district_11()).await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["created"], 6, "{:?}", preview.body);
    assert_eq!(preview.body["mode"], "sync", "a bulk bundle is the whole roster");
    assert_eq!(preview.body["sync"]["deactivations"], 0);
    assert_eq!(
        preview.body["oneroster"],
        json!({"version": "1.1", "delta": false, "other_orgs": 1, "passwords": 1})
    );
    assert!(
        accounts(&app, &admin).await.is_empty(),
        "a dry run writes nothing"
    );

    let done = bundle(&app, &admin, "", district_11()).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]));
    assert_eq!(
        (done.body["created"].as_u64(), done.body["dry_run"].as_bool()),
        (Some(6), Some(false))
    );
    let all = accounts(&app, &admin).await;
    assert_eq!(all.len(), 6, "{:?}", all.keys());
    assert!(!all.contains_key("x1"), "another org's student is left out");
    let u1 = &all["u1"];
    assert_eq!(u1["login"], "zoe.lefevre", "the username is kept");
    assert_eq!(u1["profile"], "student");
    assert_eq!(u1["classes"], json!(["6e A"]));
    assert_eq!(u1["level"], "06");
    assert_eq!(u1["birth_date"], "2013-03-09");
    assert_eq!(u1["parents"], json!([all["p1"]["id"]]));
    assert_eq!(all["p1"]["children"], json!([u1["id"]]));
    assert_eq!(
        all["p1"]["classes"],
        json!(["6e A"]),
        "a parent follows their child"
    );
    assert_eq!(all["g1"]["profile"], "parent", "a guardian is a parent");
    assert_eq!(all["g1"]["children"], json!([all["u2"]["id"]]));
    assert_eq!(all["u2"]["access"], "disabled", "enabledUser false");
    assert_eq!(all["t1"]["classes"], json!(["6e A", "6e B"]));
    assert_eq!(all["t1"]["login"], "m.besson");
    assert_eq!(all["a1"]["profile"], "staff", "an administrator is staff…");
    assert_eq!(all["a1"]["local_admin"], "none", "…never a Sésame administrator");
    // The password of the file set nothing: the guardian still has to activate.
    assert_eq!(all["g1"]["activation"], "pending");
    let login = app.login(all["g1"]["login"].as_str().unwrap(), "hunter2").await;
    assert_eq!(login.status, 401);

    // The same bundle again changes nothing and closes no one.
    let again = bundle(&app, &admin, "", district_11()).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        (again.body["created"].as_u64(), again.body["unchanged"].as_u64()),
        (Some(0), Some(6)),
        "{:?}",
        again.body
    );
    assert_eq!(again.body["sync"]["deactivations"], 0);
}

/// A OneRoster 1.2 bulk bundle: roles in `roles.csv`, orgs by `primaryOrgSourcedId`.
fn school_12(students: &[(&str, &str, &str)]) -> Vec<u8> {
    let user = |id: &str, username: &str, given: &str, family: &str, agents: &str, org: &str| {
        format!("{id},,,true,{username},,{given},{family},,,,,,{agents},,,,,,,,{org},")
    };
    let mut users = vec![USERS_12.to_owned()];
    let mut roles = vec![ROLES_12.to_owned()];
    let mut enrollments = vec![ENROLLMENTS_11.to_owned()];
    for (id, given, family) in students {
        users.push(user(id, "", given, family, "", "s1"));
        roles.push(format!("r{id},,,{id},primary,student,,,s1,"));
        enrollments.push(format!("e{id},,,c1,s1,{id},student,false,,"));
    }
    users.push(user("t1", "", "Marion", "Besson", "", "s1"));
    roles.push("rt1,,,t1,primary,teacher,,,s1,".to_owned());
    roles.push("rt1b,,,t1,secondary,administrator,,,s1,".to_owned());
    users.push(user("k1", "", "Karim", "Principal", "", "s1"));
    roles.push("rk1,,,k1,primary,principal,,,s1,".to_owned());
    users.push(user("m1", "", "Mère", "Alpha", "s-a", "s1"));
    roles.push("rm1,,,m1,primary,guardian,,,s1,".to_owned());
    zip(&[
        (
            "manifest.csv",
            manifest(
                "1.2",
                "bulk",
                &["orgs", "users", "roles", "classes", "enrollments"],
            ),
        ),
        ("orgs.csv", format!("{ORGS}\ns1,,,École Un,school,,\n")),
        ("users.csv", users.join("\n") + "\n"),
        ("roles.csv", roles.join("\n") + "\n"),
        (
            "classes.csv",
            format!("{CLASSES_11}\nc1,,,CM1,04,,,scheduled,,s1,t1,,,\n"),
        ),
        ("enrollments.csv", enrollments.join("\n") + "\n"),
    ])
}

#[tokio::test]
async fn a_oneroster_1_2_bundle_reads_the_primary_role_and_a_sync_closes_leavers_after_its_preview() {
    let app = TestApp::spawn().await;
    // One school in orgs.csv: no setting needed.
    let admin = school(&app, "un", None).await;
    let everyone = [
        ("s-a", "Ana", "Alpha"),
        ("s-b", "Bea", "Beta"),
        ("s-c", "Cid", "Gamma"),
        ("s-d", "Dan", "Delta"),
    ];
    let first = bundle(&app, &admin, "", school_12(&everyone)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["errors"], json!([]));
    assert_eq!(first.body["created"], 7);
    assert_eq!(first.body["oneroster"]["version"], "1.2");
    let all = accounts(&app, &admin).await;
    assert_eq!(
        all["t1"]["profile"], "teacher",
        "the primary role, not the secondary"
    );
    assert_eq!(all["k1"]["profile"], "staff");
    assert_eq!(all["k1"]["local_admin"], "none");
    assert_eq!(all["m1"]["profile"], "parent");
    assert_eq!(all["m1"]["children"], json!([all["s-a"]["id"]]));
    assert_eq!(all["s-c"]["classes"], json!(["CM1"]));

    // Two pupils left: the preview lists them by class and profile.
    let stayed = [everyone[0], everyone[1]];
    let preview = bundle(&app, &admin, "?dry_run=true", school_12(&stayed)).await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    let sync = &preview.body["sync"];
    assert_eq!(sync["deactivations"], 2, "{sync:?}");
    assert_eq!(sync["by_class"][0]["class"], "CM1");
    assert_eq!(sync["by_class"][0]["profile"], "student");
    assert_eq!(sync["by_class"][0]["count"], 2);
    let names: Vec<&str> = sync["by_class"][0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["last_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Delta", "Gamma"]);
    assert_eq!(accounts(&app, &admin).await["s-c"]["access"], "enabled");

    // The real run needs the number confirmed…
    let unconfirmed = bundle(&app, &admin, "", school_12(&stayed)).await;
    assert_eq!(unconfirmed.status, 422, "{:?}", unconfirmed.body);
    assert_eq!(unconfirmed.body["errors"][0]["field"], "expect_deactivations");
    // …and a truncated export that would close more is refused whole.
    let truncated = bundle(&app, &admin, "?expect_deactivations=2", school_12(&stayed[..1])).await;
    assert_eq!(truncated.status, 422, "{:?}", truncated.body);
    assert_eq!(truncated.body["errors"][0]["field"], "expect_deactivations");
    assert!(
        truncated.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("would close 3"),
        "{:?}",
        truncated.body
    );
    let all = accounts(&app, &admin).await;
    assert!(
        ["s-a", "s-b", "s-c", "s-d"]
            .iter()
            .all(|s| all[*s]["access"] == "enabled"),
        "a refused sync closes no one"
    );

    let done = bundle(&app, &admin, "?expect_deactivations=2", school_12(&stayed)).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["sync"]["deactivations"], 2);
    let all = accounts(&app, &admin).await;
    for (ext, access) in [
        ("s-a", "enabled"),
        ("s-b", "enabled"),
        ("s-c", "disabled"),
        ("s-d", "disabled"),
    ] {
        assert_eq!(all[ext]["access"], access, "{ext}");
    }
    assert!(all["s-c"]["disabled_at"].is_string());
    // Never deleted: the recently disabled list holds them.
    let recent = app
        .get("/v1/accounts?disabled_within_days=1&limit=50", &admin)
        .await;
    assert_eq!(recent.body["total"], 2, "{:?}", recent.body);
    let audit = app.get("/v1/audit?action=account.deactivate", &admin).await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    assert!(
        audit.body["items"].as_array().is_some_and(|i| !i.is_empty()),
        "{:?}",
        audit.body
    );
}

#[tokio::test]
async fn a_delta_bundle_applies_only_what_it_carries() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    assert_eq!(bundle(&app, &admin, "", district_11()).await.status, 200);
    let before = accounts(&app, &admin).await;

    // u1 changes name, t1 leaves 6e B, u2 moves to 6e A, a1 is to be deleted, n1 is new.
    let users = format!(
        "{USERS_11}\nu1,active,2026-09-01T00:00:00Z,true,s1,student,zoe.lefevre,,Zoé,Lefèvre-Martin,,,,,,p1,06,\n\
         a1,tobedeleted,2026-09-01T00:00:00Z,true,s1,administrator,,,Hélène,Garnier,,,,,,,,\n\
         n1,active,2026-09-01T00:00:00Z,true,s1,student,,,Nina,Neuve,,,,,,,06,\n"
    );
    let delta = zip(&[
        (
            "manifest.csv",
            manifest("1.1", "delta", &["users", "enrollments"]),
        ),
        ("users.csv", users),
        (
            "enrollments.csv",
            format!(
                "{ENROLLMENTS_11}\ne4,tobedeleted,2026-09-01T00:00:00Z,c2,s1,t1,teacher,true,,\n\
                 e2,tobedeleted,2026-09-01T00:00:00Z,c2,s1,u2,student,false,,\n\
                 e5,active,2026-09-01T00:00:00Z,c1,s1,u2,student,false,,\n\
                 e6,active,2026-09-01T00:00:00Z,c1,s1,n1,student,false,,\n"
            ),
        ),
        (
            "classes.csv",
            format!("{CLASSES_11}\nc1,,,6e A,06,,,scheduled,,s1,t1,,,\nc2,,,6e B,06,,,scheduled,,s1,t1,,,\n"),
        ),
    ]);
    let sync = bundle(&app, &admin, "?mode=sync", delta.clone()).await;
    assert_eq!(sync.status, 422, "a delta never syncs: {:?}", sync.body);
    assert_eq!(sync.body["errors"][0]["field"], "mode");

    let done = bundle(&app, &admin, "", delta).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]), "{:?}", done.body);
    assert_eq!(done.body["mode"], "merge");
    assert_eq!(done.body["oneroster"]["delta"], true);
    assert_eq!(done.body["created"], 1);
    let after = accounts(&app, &admin).await;
    assert_eq!(after.len(), 7);
    assert_eq!(after["u1"]["last_name"], "Lefèvre-Martin");
    assert_eq!(
        after["u1"]["birth_date"], "2013-03-09",
        "a delta without demographics keeps the date"
    );
    assert_eq!(after["u1"]["parents"], before["u1"]["parents"]);
    assert_eq!(after["t1"]["classes"], json!(["6e A"]));
    assert_eq!(after["u2"]["classes"], json!(["6e A"]));
    assert_eq!(
        after["a1"]["access"], "disabled",
        "tobedeleted closes the account"
    );
    assert_eq!(after["n1"]["classes"], json!(["6e A"]));
    for untouched in ["p1", "g1"] {
        assert_eq!(after[untouched], before[untouched], "{untouched}");
    }
}

#[tokio::test]
async fn a_username_taken_or_invalid_becomes_a_login_of_ours_and_the_report_says_so() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    let other = school(&app, "ailleurs", None).await;
    let taken = app
        .import(
            "ailleurs",
            "login,profile,first_name,last_name\nzoe.lefevre,student,Zoé,Lefèvre\n",
        )
        .await;
    assert_eq!(taken.status, 200, "{:?}", taken.body);
    let users = users_11(&[
        user_11(
            "u1",
            true,
            "s1",
            "student",
            "zoe.lefevre",
            "Zoé",
            "Lefèvre",
            "",
            "",
            "06",
            "",
        ),
        user_11(
            "u2",
            true,
            "s1",
            "student",
            "no spaces allowed",
            "Noé",
            "Martin",
            "",
            "",
            "06",
            "",
        ),
    ]);
    let bytes = zip(&[
        ("manifest.csv", manifest("1.1", "bulk", &["users"])),
        ("users.csv", users),
    ]);
    let done = bundle(&app, &admin, "?mode=merge", bytes).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]));
    assert_eq!(done.body["created"], 2);
    let notices = done.body["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 2, "{notices:?}");
    for notice in notices {
        assert_eq!(
            (notice["file"].as_str(), notice["field"].as_str()),
            (Some("users.csv"), Some("username"))
        );
    }
    let all = accounts(&app, &admin).await;
    assert_ne!(all["u1"]["login"], "zoe.lefevre");
    assert_eq!(
        accounts(&app, &other).await.len(),
        0,
        "the other school's account is not ours"
    );
}

#[tokio::test]
async fn a_bundle_that_cannot_be_read_whole_is_refused_naming_file_row_and_column() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    let manifest = || {
        (
            "manifest.csv",
            manifest("1.1", "bulk", &["users", "classes", "enrollments"]),
        )
    };
    let user = |id: &str| user_11(id, true, "s1", "student", "", "Zoé", "Lefèvre", "", "", "06", "");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![manifest()], "users.csv"),
        (
            vec![
                manifest(),
                ("users.csv", "sourcedId,givenName\nu1,Zoé\n".to_owned()),
            ],
            "users.csv row 1 column familyName",
        ),
        (
            vec![manifest(), ("users.csv", users_11(&[user("u1"), user("u1")]))],
            "users.csv row 3 column sourcedId",
        ),
        (
            vec![
                manifest(),
                ("users.csv", users_11(&[user("u1")])),
                (
                    "classes.csv",
                    format!("{CLASSES_11}\nc1,,,6e A,06,,,scheduled,,s1,t1,,,\n"),
                ),
                (
                    "enrollments.csv",
                    format!("{ENROLLMENTS_11}\ne1,,,c1,s1,u9,student,false,,\n"),
                ),
            ],
            "enrollments.csv row 2 column userSourcedId",
        ),
        (
            vec![
                manifest(),
                ("users.csv", users_11(&[user("u1")])),
                (
                    "classes.csv",
                    format!("{CLASSES_11}\nc1,,,6e A,06,,,scheduled,,s1,t1,,,\n"),
                ),
                (
                    "enrollments.csv",
                    format!("{ENROLLMENTS_11}\ne1,,,c7,s1,u1,student,false,,\n"),
                ),
            ],
            "enrollments.csv row 2 column classSourcedId",
        ),
    ];
    for (files, field) in cases {
        let refused = bundle(&app, &admin, "", zip(&files)).await;
        assert_eq!(refused.status, 422, "{field}: {:?}", refused.body);
        let fields: Vec<&str> = refused.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.iter().any(|f| f.starts_with(field)), "{field}: {fields:?}");
    }
    // Text in Latin-1 is refused; a UTF-8 BOM is fine.
    use std::io::Write;
    let mut files = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    files
        .start_file("manifest.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    files.write_all(manifest().1.as_bytes()).unwrap();
    files
        .start_file("users.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    let mut users = users_11(&[user("u1")]).replace("Zoé", "Zo").into_bytes();
    users.insert(users.len() - 20, 0xE9);
    files.write_all(&users).unwrap();
    let refused = bundle(&app, &admin, "", files.finish().unwrap().into_inner()).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "users.csv");
    let bom = zip(&[
        manifest(),
        ("users.csv", format!("\u{feff}{}", users_11(&[user("u1")]))),
    ]);
    let read = bundle(&app, &admin, "?dry_run=true", bom).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["created"], 1);
    // A zip bomb is refused before it inflates.
    let bomb = zip(&[
        manifest(),
        ("users.csv", format!("{USERS_11}\n{}", " ".repeat(60 << 20))),
    ]);
    let refused = bundle(&app, &admin, "", bomb).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "file");
    // A bad value in a row is that row's error, named in its file.
    let bad = zip(&[
        manifest(),
        (
            "users.csv",
            users_11(&[
                user("u1"),
                user_11(
                    "u2",
                    true,
                    "s1",
                    "student",
                    "",
                    "",
                    "Sansprénom",
                    "",
                    "",
                    "06",
                    "",
                ),
            ]),
        ),
    ]);
    let report = bundle(&app, &admin, "?mode=merge&dry_run=true", bad).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(
        report.body["errors"],
        json!([{"row": 3, "field": "givenName", "message": "must be 1 to 100 characters", "file": "users.csv"}])
    );
}

#[tokio::test]
async fn a_csv_sync_closes_only_local_accounts_without_local_admin_and_refuses_a_file_with_errors() {
    let f = Fixture::new().await;
    let csv = |rows: &str| format!("external_id,profile,first_name,last_name,classes\n{rows}");
    // Every student but SA2 (and the federated SAF), a row in error.
    let with_error =
        csv("SA1,student,Zoé,Lefèvre,5A\nSB1,student,Léa,Dubois,5B\nBAD,student,,Sansprénom,5A\n");
    let token = f.admin();
    f.temporary_password("SA2").await;
    let preview = post(
        &f.app,
        &token,
        "?mode=sync&dry_run=true",
        "text/csv",
        with_error.clone().into_bytes(),
    )
    .await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["sync"]["profiles"], json!(["student"]));
    assert_eq!(preview.body["sync"]["deactivations"], 1);
    assert_eq!(preview.body["sync"]["kept"], 1, "the federated pupil is kept");
    assert_eq!(
        preview.body["sync"]["by_class"][0]["accounts"][0]["id"],
        f.id("SA2")
    );
    let refused = post(
        &f.app,
        &token,
        "?mode=sync&expect_deactivations=1",
        "text/csv",
        with_error.into_bytes(),
    )
    .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "file");
    assert_eq!(refused.body["errors"][1]["field"], "row 4 first_name");
    let sa2 = f.app.get(&format!("/v1/accounts/{}", f.id("SA2")), &token).await;
    assert_eq!(sa2.body["access"], "enabled", "a refused sync closes no one");

    // Staff named by sync_profiles: the local admins are never closed, STF is.
    let staff = csv("SA1,student,Zoé,Lefèvre,5A\nSB1,student,Léa,Dubois,5B\n");
    let preview = post(
        &f.app,
        &token,
        "?mode=sync&sync_profiles=student,staff&dry_run=true",
        "text/csv",
        staff.clone().into_bytes(),
    )
    .await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["sync"]["profiles"], json!(["student", "staff"]));
    assert_eq!(preview.body["sync"]["deactivations"], 2, "{:?}", preview.body);
    assert_eq!(preview.body["sync"]["kept"], 3, "SAF, ADM and SEC");
    let done = post(
        &f.app,
        &token,
        "?mode=sync&sync_profiles=student,staff&expect_deactivations=2",
        "text/csv",
        staff.into_bytes(),
    )
    .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["sync"]["deactivations"], 2);
    for (ext, access) in [
        ("SA2", "disabled"),
        ("STF", "disabled"),
        ("SAF", "enabled"),
        ("ADM", "enabled"),
        ("SEC", "enabled"),
        ("TA", "enabled"),
    ] {
        let account = f.app.get(&format!("/v1/accounts/{}", f.id(ext)), &token).await;
        assert_eq!(account.body["access"], access, "{ext}");
    }
    // A closed account's secrets end with its access.
    let ledger = f
        .app
        .get(&format!("/v1/accounts/{}/credentials", f.id("SA2")), &token)
        .await;
    assert!(ledger.body["outstanding"].is_null(), "{:?}", ledger.body);

    // A merge takes no sync options.
    let merge = post(
        &f.app,
        &token,
        "?expect_deactivations=2",
        "text/csv",
        csv("").into_bytes(),
    )
    .await;
    assert_eq!(merge.status, 422, "{:?}", merge.body);
    assert_eq!(merge.body["errors"][0]["field"], "expect_deactivations");
    // Teachers import nothing, and so close no one.
    let teacher = post(
        &f.app,
        &f.teacher_a(),
        "?mode=sync&dry_run=true",
        "text/csv",
        csv("").into_bytes(),
    )
    .await;
    assert_eq!(teacher.status, 403, "{:?}", teacher.body);
}

#[tokio::test]
async fn an_uploaded_bundle_syncs_in_the_background_after_its_preview() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    assert_eq!(bundle(&app, &admin, "", district_11()).await.status, 200);
    // The same school without u1 (and so without p1's child link).
    let without = {
        // p1's child left with u1: p1 names no agent any more.
        let users: Vec<String> = ["u2", "p1", "g1", "t1", "a1"]
            .map(|id| match id {
                "p1" => s1_user(id).replace(",u1,", ",,"),
                _ => s1_user(id),
            })
            .into();
        let users = users_11(&users);
        zip(&[
            ("manifest.csv", manifest("1.1", "bulk", &["users"])),
            ("users.csv", users),
        ])
    };
    let upload_id = upload(&app.client, &app.base, &admin, without).await;
    let start = |body: Value| {
        let request = app
            .client
            .post(format!("{}/v1/imports/jobs", app.base))
            .bearer_auth(&admin)
            .json(&body);
        app.send(request)
    };
    let queued = start(json!({"upload_id": upload_id, "dry_run": true})).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let preview = finished(
        &app.client,
        &app.base,
        &admin,
        queued.body["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(preview["status"], "done", "{preview:?}");
    assert_eq!(preview["report"]["sync"]["deactivations"], 1, "{preview:?}");

    let refused = start(json!({"upload_id": upload_id, "expect_deactivations": 0})).await;
    assert_eq!(refused.status, 202, "{:?}", refused.body);
    let failed = finished(
        &app.client,
        &app.base,
        &admin,
        refused.body["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed:?}");
    assert!(
        failed["error"].as_str().unwrap().contains("expect_deactivations"),
        "{failed:?}"
    );
    assert_eq!(accounts(&app, &admin).await["u1"]["access"], "enabled");

    // The real run's id is the upload's: a refused run ends it; upload again.
    let upload_id = upload(&app.client, &app.base, &admin, {
        let users = users_11(&[user_11(
            "u2", false, "s1", "student", "", "Noé", "Martin", "", "", "06", "",
        )]);
        zip(&[
            ("manifest.csv", manifest("1.1", "bulk", &["users"])),
            ("users.csv", users),
        ])
    })
    .await;
    let queued = start(json!({"upload_id": upload_id, "mode": "sync", "sync_profiles": ["student"], "expect_deactivations": 1})).await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    let done = finished(
        &app.client,
        &app.base,
        &admin,
        queued.body["id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(done["status"], "done", "{done:?}");
    assert_eq!(done["report"]["sync"]["deactivations"], 1);
    let all = accounts(&app, &admin).await;
    assert_eq!(all["u1"]["access"], "disabled");
    assert_eq!(all["p1"]["access"], "enabled", "sync_profiles: students only");
}

/// A console upload of `file` with the `mode` the form's radio gives.
fn console_upload(csrf: &str, name: &str, mode: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sesame-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n{mode}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"roster\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The value of the hidden field `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    let prefix = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + prefix.len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_console_previews_a_sync_with_its_leavers_then_applies_it_as_confirmed() {
    use super::console_pages::{csrf, staff};
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (status, page, _) = admin.get("/console/imports").await;
    assert_eq!(status, 200);
    assert!(page.contains("value=\"sync\"") && page.contains(".zip"), "{page}");

    let roster = "external_id,profile,first_name,last_name,classes\nSA1,student,Zoé,Lefèvre,5A\nSB1,student,Léa,Dubois,5B\n";
    let (content_type, body) = console_upload(&csrf(&page), "eleves.csv", "sync", roster.as_bytes());
    let (status, preview) = admin
        .post_raw("/console/imports/preview", &content_type, body)
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(preview.contains("<dd id=\"deactivations\">1</dd>"), "{preview}");
    assert!(
        preview.contains("Martin") && preview.contains("5A"),
        "the leaver is named: {preview}"
    );
    assert!(preview.contains("Appliquer et désactiver 1 compte"), "{preview}");
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA2")), &f.admin())
        .await;
    assert_eq!(account.body["access"], "enabled", "a preview closes no one");

    let form = [
        ("csrf", csrf(&preview)),
        ("roster", hidden(&preview, "roster")),
        ("mode", hidden(&preview, "mode")),
        ("expect_deactivations", hidden(&preview, "expect_deactivations")),
    ];
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, applied, _, _) = admin.post("/console/imports/apply", &fields).await;
    assert_eq!(status, 200, "{applied}");
    assert!(applied.contains("Import appliqué"), "{applied}");
    assert!(applied.contains("<dd id=\"deactivations\">1</dd>"), "{applied}");
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA2")), &f.admin())
        .await;
    assert_eq!(account.body["access"], "disabled");

    // A OneRoster bundle is known by its bytes; the school's org picks its users.
    let set = f
        .app
        .put("/v1/settings", &f.admin(), json!({"oneroster_org": "s1"}))
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let (content_type, body) = console_upload(&csrf(&applied), "oneroster.zip", "merge", &district_11());
    let (status, preview) = admin
        .post_raw("/console/imports/preview", &content_type, body)
        .await;
    assert_eq!(status, 200, "{preview}");
    // Its u1 asks for Zoé's login (another person of the school): that row's error, named in its file.
    assert!(preview.contains("<dd id=\"created\">5</dd>"), "{preview}");
    assert!(
        preview.contains("<td>users.csv</td><td>2</td><td><code>username</code>"),
        "{preview}"
    );
    assert!(
        !preview.contains("id=\"deactivations\""),
        "a merge closes no one: {preview}"
    );
}

#[tokio::test]
async fn a_file_closes_accounts_as_a_sync_counts_them_and_reopens_only_what_a_roster_closed() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    assert_eq!(bundle(&app, &admin, "", district_11()).await.status, 200);
    // The guardian g1 is closed by the school's administrator, by hand.
    let g1 = accounts(&app, &admin).await["g1"]["id"].clone();
    let closed = app
        .post(
            "/v1/accounts/deactivate",
            Some(&admin),
            json!({"account_ids": [g1]}),
        )
        .await;
    assert_eq!(closed.status, 200, "{:?}", closed.body);
    // The next year's export disables u1, enables u2 (which the first file closed)
    // and still has g1 enabled: one closure, which the sync counts and must be
    // confirmed, one reopening, and g1 kept closed.
    let next_year = |u1_enabled: bool| {
        let users: Vec<String> = ["u1", "u2", "p1", "g1", "t1", "a1"]
            .map(|id| match id {
                "u1" if !u1_enabled => s1_user(id).replacen(",true,", ",false,", 1),
                "u2" => s1_user(id).replacen(",false,", ",true,", 1),
                _ => s1_user(id),
            })
            .into();
        zip(&[
            ("manifest.csv", manifest("1.1", "bulk", &["users"])),
            ("users.csv", users_11(&users)),
        ])
    };
    let next = next_year(false);
    let preview = bundle(&app, &admin, "?dry_run=true", next.clone()).await;
    assert_eq!(preview.status, 200, "{:?}", preview.body);
    assert_eq!(preview.body["sync"]["deactivations"], 1, "{:?}", preview.body);
    assert_eq!(preview.body["reactivated"], 1, "{:?}", preview.body);
    assert_eq!(
        preview.body["sync"]["by_class"][0]["accounts"][0]["login"],
        "zoe.lefevre"
    );
    // g1 (row 5) is closed here by an administrator: the file does not reopen it.
    let notices = preview.body["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n["field"] == "enabledUser" && n["row"] == 5),
        "{notices:?}"
    );
    let refused = bundle(&app, &admin, "?expect_deactivations=0", next.clone()).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    // Confirmed by its fingerprint: the very accounts of the preview.
    let digest = preview.body["sync"]["digest"].as_str().unwrap();
    let wrong = bundle(
        &app,
        &admin,
        "?expect_deactivations=1&expect_digest=0000000000000000",
        next.clone(),
    )
    .await;
    assert_eq!(wrong.status, 422, "{:?}", wrong.body);
    assert_eq!(wrong.body["errors"][0]["field"], "expect_digest");
    let done = bundle(
        &app,
        &admin,
        &format!("?expect_deactivations=1&expect_digest={digest}"),
        next,
    )
    .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        (
            done.body["deactivated"].as_u64(),
            done.body["reactivated"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let all = accounts(&app, &admin).await;
    assert_eq!(all["u1"]["access"], "disabled");
    assert_eq!(
        all["u2"]["access"], "enabled",
        "a roster reopens what a roster closed"
    );
    assert_eq!(
        all["g1"]["access"], "disabled",
        "never what an administrator closed"
    );
    let audit = app.get("/v1/audit?action=account.deactivate", &admin).await;
    let targets = audit.body["items"].to_string();
    assert!(targets.contains(all["u1"]["id"].as_str().unwrap()), "{targets}");
    let audit = app.get("/v1/audit?action=account.activate", &admin).await;
    let targets = audit.body["items"].to_string();
    assert!(targets.contains(all["u2"]["id"].as_str().unwrap()), "{targets}");

    // u1 comes back the year after: the sync closed it, the file reopens it.
    let back = bundle(&app, &admin, "", next_year(true)).await;
    assert_eq!(back.status, 200, "{:?}", back.body);
    assert_eq!(back.body["reactivated"], 1, "{:?}", back.body);
    let all = accounts(&app, &admin).await;
    assert_eq!(all["u1"]["access"], "enabled");
    assert_eq!(all["g1"]["access"], "disabled");
    // Once an administrator reopens g1, it is theirs again: a file may close it.
    let opened = app
        .post(
            "/v1/accounts/activate",
            Some(&admin),
            json!({"account_ids": [g1]}),
        )
        .await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
}

#[tokio::test]
async fn any_other_role_is_staff_a_class_title_keeps_its_semicolons_and_a_deletion_may_carry_its_id_alone() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    let teacher = app.token("chenes", "teacher", "prof", &["Latin; groupe 1"]);
    let refused = post(&app, &teacher, "", "text/plain", b"anything".to_vec()).await;
    assert_eq!(
        refused.status, 403,
        "who may import is asked first: {:?}",
        refused.body
    );

    let users = users_11(&[
        s1_user("u1"),
        s1_user("p1"),
        user_11(
            "l1",
            true,
            "s1",
            "ext:librarian",
            "",
            "Lou",
            "Livre",
            "",
            "",
            "",
            "",
        ),
    ]);
    let first = zip(&[
        (
            "manifest.csv",
            manifest("1.1", "bulk", &["users", "classes", "enrollments"]),
        ),
        ("users.csv", users),
        (
            "classes.csv",
            format!("{CLASSES_11}\nc1,,,Latin; groupe 1|bis,06,,,scheduled,,s1,t1,,,\n"),
        ),
        (
            "enrollments.csv",
            format!("{ENROLLMENTS_11}\ne1,,,c1,s1,u1,student,false,,\n"),
        ),
    ]);
    let done = bundle(&app, &admin, "", first).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]), "{:?}", done.body);
    let all = accounts(&app, &admin).await;
    assert_eq!(all["l1"]["profile"], "staff", "a role outside the list is staff");
    assert_eq!(all["l1"]["local_admin"], "none");
    assert_eq!(all["u1"]["classes"], json!(["Latin; groupe 1|bis"]));
    assert_eq!(all["p1"]["classes"], json!(["Latin; groupe 1|bis"]));

    // A delta whose deletions carry their ids alone: u1 is closed, zz (no account
    // of the school) is noted, an enrollment without its class is passed over.
    let blank = |id: &str, columns: usize| {
        format!("{id},tobedeleted,2026-09-01T00:00:00Z{}", ",".repeat(columns - 3))
    };
    let delta = zip(&[
        (
            "manifest.csv",
            manifest("1.1", "delta", &["users", "classes", "enrollments"]),
        ),
        (
            "users.csv",
            format!("{USERS_11}\n{}\n{}\n", blank("u1", 18), blank("zz", 18)),
        ),
        (
            "classes.csv",
            format!(
                "{CLASSES_11}\nc1,active,2026-09-01T00:00:00Z,Latin; groupe 1|bis,06,,,scheduled,,s1,t1,,,\n"
            ),
        ),
        (
            "enrollments.csv",
            format!("{ENROLLMENTS_11}\n{}\n", blank("e1", 10)),
        ),
    ]);
    let done = bundle(&app, &admin, "", delta).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]), "{:?}", done.body);
    assert_eq!(done.body["deactivated"], 1, "{:?}", done.body);
    let notices = done.body["notices"].as_array().unwrap();
    assert!(
        notices.iter().any(|n| n["field"] == "sourcedId" && n["row"] == 3),
        "{notices:?}"
    );
    let after = accounts(&app, &admin).await;
    assert_eq!(after["u1"]["access"], "disabled");
    assert_eq!(
        after["u1"]["last_name"], all["u1"]["last_name"],
        "nothing else changes"
    );
    assert_eq!(after["u1"]["classes"], all["u1"]["classes"]);
    assert_eq!(after["l1"], all["l1"]);
}

#[tokio::test]
async fn sections_that_share_a_title_stay_apart_and_another_schools_classes_are_not_read() {
    let app = TestApp::spawn().await;
    let admin = school(&app, "chenes", Some("s1")).await;
    let users = users_11(&[
        user_11(
            "u1", true, "s1", "student", "", "Zoé", "Lefèvre", "", "", "06", "",
        ),
        user_11("u2", true, "s1", "student", "", "Noé", "Martin", "", "", "06", ""),
        user_11(
            "t1", true, "s1,s2", "teacher", "", "Marion", "Besson", "", "", "", "",
        ),
    ]);
    let bytes = zip(&[
        (
            "manifest.csv",
            manifest("1.1", "bulk", &["users", "classes", "enrollments"]),
        ),
        ("users.csv", users),
        (
            "classes.csv",
            format!(
                "{CLASSES_11}\nc1,,,Maths 6,06,,M6-1,scheduled,,s1,t1,,,\nc2,,,Maths 6,06,,M6-2,scheduled,,s1,t1,,,\n\
                 c9,,,Maths 6,06,,M6-1,scheduled,,s2,t1,,,\n"
            ),
        ),
        (
            "enrollments.csv",
            format!(
                "{ENROLLMENTS_11}\ne1,,,c1,s1,u1,student,false,,\ne2,,,c2,s1,u2,student,false,,\n\
                 e3,,,c1,s1,t1,teacher,true,,\ne9,,,c9,s2,t1,teacher,true,,\n"
            ),
        ),
    ]);
    let done = bundle(&app, &admin, "", bytes).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["errors"], json!([]));
    let all = accounts(&app, &admin).await;
    assert_eq!(all["u1"]["classes"], json!(["Maths 6 (M6-1)"]));
    assert_eq!(all["u2"]["classes"], json!(["Maths 6 (M6-2)"]));
    assert_eq!(
        all["t1"]["classes"],
        json!(["Maths 6 (M6-1)"]),
        "the other school's section is not ours"
    );
    // The teacher of one section sees its pupils only.
    let teacher = app.token(
        "chenes",
        "teacher",
        all["t1"]["id"].as_str().unwrap(),
        &["Maths 6 (M6-1)"],
    );
    let seen = app.get("/v1/accounts?limit=50", &teacher).await;
    let seen: Vec<&str> = seen.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["external_id"].as_str())
        .collect();
    assert_eq!(seen, ["u1"]);
}

#[tokio::test]
async fn a_1_2_user_with_a_secondary_role_at_the_school_belongs_to_it_and_a_delta_without_roles_keeps_profiles()
 {
    let app = TestApp::spawn().await;
    let admin = school(&app, "un", Some("s1")).await;
    let user = |id: &str, given: &str, family: &str, org: &str| {
        format!("{id},,,true,,,{given},{family},,,,,,,,,,,,,,{org},")
    };
    let users = format!(
        "{USERS_12}\n{}\n{}\n",
        user("t1", "Marion", "Besson", "s2"),
        user("s1u", "Zoé", "Lefèvre", "s1")
    );
    let roles = format!(
        "{ROLES_12}\nr1,,,t1,primary,teacher,,,s2,\nr2,,,t1,secondary,teacher,,,s1,\nr3,,,s1u,primary,student,,,s1,\n"
    );
    let bytes = zip(&[
        ("manifest.csv", manifest("1.2", "bulk", &["users", "roles"])),
        (
            "orgs.csv",
            format!("{ORGS}\ns1,,,École Un,school,,\ns2,,,École Deux,school,,\n"),
        ),
        ("users.csv", users),
        ("roles.csv", roles),
    ]);
    let done = bundle(&app, &admin, "", bytes).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["created"], 2, "{:?}", done.body);
    assert_eq!(done.body["oneroster"]["other_orgs"], 0);
    let all = accounts(&app, &admin).await;
    assert_eq!(all["t1"]["profile"], "teacher");

    // A 1.2 delta that renames a user without their roles: the profile stays.
    let delta = zip(&[
        ("manifest.csv", manifest("1.2", "delta", &["users"])),
        (
            "users.csv",
            format!("{USERS_12}\n{}\n", user("s1u", "Zoé", "Lefèvre-Martin", "s1")),
        ),
    ]);
    let renamed = bundle(&app, &admin, "", delta).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["errors"], json!([]), "{:?}", renamed.body);
    let all = accounts(&app, &admin).await;
    assert_eq!(
        (all["s1u"]["profile"].as_str(), all["s1u"]["last_name"].as_str()),
        (Some("student"), Some("Lefèvre-Martin"))
    );
}

#[tokio::test]
async fn a_username_that_is_the_login_of_another_person_of_the_school_is_the_rows_error() {
    let f = Fixture::new().await;
    // Zoé (SA1) has an external id; a bundle names someone else with her login.
    let set = f
        .app
        .put("/v1/settings", &f.admin(), json!({"oneroster_org": "s1"}))
        .await;
    assert_eq!(set.status, 200);
    let users = users_11(&[user_11(
        "NEW",
        true,
        "s1",
        "student",
        f.login_of("SA1"),
        "Zoé",
        "Autre",
        "",
        "",
        "06",
        "",
    )]);
    let bytes = zip(&[
        ("manifest.csv", manifest("1.1", "bulk", &["users"])),
        ("users.csv", users),
    ]);
    let report = bundle(&f.app, &f.admin(), "?mode=merge", bytes).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["created"], 0, "{:?}", report.body);
    assert_eq!(report.body["errors"][0]["field"], "username");
    assert_eq!(report.body["errors"][0]["file"], "users.csv");
}
