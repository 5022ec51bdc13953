//! Each row of the permission matrix (SPEC §2), allowed and refused.

use serde_json::json;
use sesame_tests::Fixture;

async fn access(f: &Fixture, token: &str, action: &str, ext: &str) -> (u16, String) {
    let reply = f
        .app
        .post(
            &format!("/v1/accounts/{action}"),
            Some(token),
            json!({"account_ids": [f.id(ext)]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let item = &reply.body["results"][0];
    (
        reply.status,
        item["error"]["code"].as_str().unwrap_or("ok").to_owned(),
    )
}

fn reset_code(reply: &sesame_tests::Reply) -> String {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["results"][0]["error"]["code"]
        .as_str()
        .unwrap_or("ok")
        .to_owned()
}

#[tokio::test]
async fn admins_see_every_account_of_their_school() {
    let f = Fixture::new().await;
    for token in [f.admin(), f.secondary()] {
        let list = f.app.get("/v1/accounts?limit=500", &token).await;
        assert_eq!(list.body["total"], 11);
        assert_eq!(
            f.app
                .get(&format!("/v1/accounts/{}", f.id("STF")), &token)
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn teachers_see_students_of_their_classes_and_those_students_parents_only() {
    let f = Fixture::new().await;
    let list = f.app.get("/v1/accounts?limit=500", &f.teacher_a()).await;
    let mut logins: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["login"].as_str().unwrap())
        .collect();
    logins.sort();
    let mut expected = vec![
        f.login_of("SA1"),
        f.login_of("SA2"),
        f.login_of("SAF"),
        f.login_of("PA1"),
    ];
    expected.sort();
    assert_eq!(logins, expected);
    assert_eq!(list.body["total"], 4);
}

#[tokio::test]
async fn a_teacher_gets_404_for_an_account_outside_their_classes() {
    let f = Fixture::new().await;
    for ext in ["SB1", "PB1", "TB", "ADM"] {
        let reply = f
            .app
            .get(&format!("/v1/accounts/{}", f.id(ext)), &f.teacher_a())
            .await;
        assert_eq!(reply.status, 404, "{ext}");
        assert_eq!(reply.code(), "not_found");
    }
}

#[tokio::test]
async fn another_schools_account_answers_404_exactly_like_a_missing_one() {
    let f = Fixture::new().await;
    let foreign = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("H1")), &f.admin())
        .await;
    let missing = f.app.get("/v1/accounts/acc_doesnotexist", &f.admin()).await;
    assert_eq!((foreign.status, &foreign.body), (missing.status, &missing.body));
    assert_eq!(reset_code(&f.reset(&f.admin(), "H1").await), "not_found");
    assert_eq!(access(&f, &f.admin(), "deactivate", "H1").await.1, "not_found");
}

#[tokio::test]
async fn admins_reset_students_parents_teachers_and_staff() {
    let f = Fixture::new().await;
    for ext in ["SA1", "PA1", "TA", "STF", "SEC"] {
        assert_eq!(reset_code(&f.reset(&f.admin(), ext).await), "ok", "{ext}");
    }
}

#[tokio::test]
async fn secondary_admins_reset_everyone_except_local_admins() {
    let f = Fixture::new().await;
    for ext in ["SA1", "PA1", "TA", "STF"] {
        assert_eq!(reset_code(&f.reset(&f.secondary(), ext).await), "ok", "{ext}");
    }
    assert_eq!(reset_code(&f.reset(&f.secondary(), "ADM").await), "forbidden");
}

#[tokio::test]
async fn teachers_reset_students_of_their_classes_only() {
    let f = Fixture::new().await;
    let teacher = f.teacher_a();
    assert_eq!(reset_code(&f.reset(&teacher, "SA1").await), "ok");
    assert_eq!(reset_code(&f.reset(&teacher, "PA1").await), "forbidden");
    assert_eq!(reset_code(&f.reset(&teacher, "SB1").await), "not_found");
    assert_eq!(reset_code(&f.reset(&teacher, "TB").await), "not_found");
}

#[tokio::test]
async fn federated_accounts_get_no_password_operation_and_name_their_directory() {
    let f = Fixture::new().await;
    let reply = f.reset(&f.admin(), "SAF").await;
    assert_eq!(reset_code(&reply), "federated_account");
    assert!(
        reply.body["results"][0]["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("ENT Académie")
    );
    let body = json!({"password": "tortue-violette-nuage", "confirmation": "tortue-violette-nuage"});
    let set = f
        .app
        .put(
            &format!("/v1/accounts/{}/password", f.id("SAF")),
            &f.admin(),
            body,
        )
        .await;
    assert_eq!((set.status, set.code()), (409, "federated_account"));
}

#[tokio::test]
async fn admins_activate_and_deactivate_anyone_but_themselves() {
    let f = Fixture::new().await;
    for ext in ["SA1", "TA", "SEC"] {
        assert_eq!(access(&f, &f.admin(), "deactivate", ext).await.1, "ok", "{ext}");
        assert_eq!(access(&f, &f.admin(), "activate", ext).await.1, "ok", "{ext}");
    }
    assert_eq!(
        access(&f, &f.admin(), "deactivate", "ADM").await.1,
        "cannot_deactivate_self"
    );
}

#[tokio::test]
async fn secondary_admins_cannot_deactivate_admins() {
    let f = Fixture::new().await;
    assert_eq!(access(&f, &f.secondary(), "deactivate", "TA").await.1, "ok");
    assert_eq!(
        access(&f, &f.secondary(), "deactivate", "ADM").await.1,
        "forbidden"
    );
    assert_eq!(
        access(&f, &f.secondary(), "deactivate", "SEC").await.1,
        "cannot_deactivate_self"
    );
}

#[tokio::test]
async fn teachers_cannot_change_access() {
    let f = Fixture::new().await;
    assert_eq!(
        access(&f, &f.teacher_a(), "deactivate", "SA1").await.1,
        "forbidden"
    );
    assert_eq!(access(&f, &f.teacher_a(), "activate", "SB1").await.1, "not_found");
}

#[tokio::test]
async fn only_administrators_import_and_read_the_audit_log() {
    let f = Fixture::new().await;
    for token in [f.admin(), f.secondary()] {
        assert_eq!(f.app.get("/v1/audit", &token).await.status, 200);
    }
    assert_eq!(f.app.get("/v1/audit", &f.teacher_a()).await.code(), "forbidden");
    let request = f
        .app
        .client
        .post(format!("{}/v1/imports", f.app.base))
        .bearer_auth(f.teacher_a())
        .header("content-type", "text/csv")
        .body("profile,first_name,last_name\nstudent,A,B\n");
    assert_eq!(f.app.send(request).await.status, 403);
}

#[tokio::test]
async fn a_teachers_class_list_holds_only_their_classes() {
    let f = Fixture::new().await;
    let classes = f.app.get("/v1/classes", &f.teacher_a()).await;
    assert_eq!(
        classes.body["items"],
        json!([{"name": "5A", "level": null, "student_count": 3}])
    );
    let all = f.app.get("/v1/classes", &f.admin()).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn birth_dates_are_shown_to_administrators_only() {
    let f = Fixture::new().await;
    let path = format!("/v1/accounts/{}", f.id("SA1"));
    assert_eq!(
        f.app.get(&path, &f.admin()).await.body["birth_date"],
        "2013-03-09"
    );
    assert!(
        f.app
            .get(&path, &f.teacher_a())
            .await
            .body
            .get("birth_date")
            .is_none()
    );
}
