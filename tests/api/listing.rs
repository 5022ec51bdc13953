//! Filters, sort orders and keyset paging of the account list, on the demo school.

use serde_json::Value;
use sesame::demo::ensure_demo_school;
use sesame_tests::TestApp;
use std::collections::HashSet;

async fn demo() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let info = ensure_demo_school(&app.state.sesame).await.unwrap();
    let token = app.token("demo", "admin", &info.admin_id, &[]);
    (app, token)
}

async fn all(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/v1/accounts?limit=500&{query}"), token).await;
    assert_eq!(reply.status, 200, "{query}: {:?}", reply.body);
    let items = reply.body["items"].as_array().unwrap().clone();
    assert_eq!(reply.body["total"], items.len(), "{query}: total");
    items
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_filter_selects_exactly_the_accounts_it_describes() {
    let (app, token) = demo().await;
    let everyone = all(&app, &token, "").await;
    assert!(everyone.len() > 120);
    type Predicate = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, Predicate)> = vec![
        ("profile=student", Box::new(|a| a["profile"] == "student")),
        (
            "profile=parent,teacher",
            Box::new(|a| a["profile"] == "parent" || a["profile"] == "teacher"),
        ),
        (
            "class=CM1-A",
            Box::new(|a| a["classes"].as_array().unwrap().iter().any(|c| c == "CM1-A")),
        ),
        ("level=CM2", Box::new(|a| a["level"] == "CM2")),
        (
            "group=Foot",
            Box::new(|a| a["groups"].as_array().unwrap().iter().any(|g| g == "Foot")),
        ),
        ("access=disabled", Box::new(|a| a["access"] == "disabled")),
        (
            "activation=activated",
            Box::new(|a| a["activation"] == "activated"),
        ),
        (
            "activation=pending&profile=student",
            Box::new(|a| a["activation"] == "pending" && a["profile"] == "student"),
        ),
        ("email=absent", Box::new(|a| a["email"].is_null())),
        ("email=present", Box::new(|a| a["email"].is_string())),
        ("local_admin=admin", Box::new(|a| a["local_admin"] == "admin")),
        (
            "disabled_within_days=7",
            Box::new(|a| a["disabled_at"].is_string()),
        ),
        ("pre_deletion=false", Box::new(|a| a["pre_deletion"] == false)),
        (
            "q=LEFEVRE",
            Box::new(|a| {
                let text = format!("{} {} {}", a["first_name"], a["last_name"], a["login"]).to_lowercase();
                text.contains("lefèvre") || text.contains("lefevre")
            }),
        ),
        ("q=h%C3%A9l%C3%A8ne", Box::new(|a| a["first_name"] == "Hélène")),
    ];
    for (query, predicate) in cases {
        let expected: HashSet<String> = ids(&everyone
            .iter()
            .filter(|a| predicate(a))
            .cloned()
            .collect::<Vec<_>>())
        .into_iter()
        .collect();
        let got: HashSet<String> = ids(&all(&app, &token, query).await).into_iter().collect();
        assert!(
            !expected.is_empty() || query.starts_with("pre_deletion"),
            "{query} selects something"
        );
        assert_eq!(got, expected, "{query}");
    }
}

#[tokio::test]
async fn every_class_has_activated_and_pending_students_and_their_parents_share_it() {
    let (app, token) = demo().await;
    for class in ["CM1-A", "CM2-B", "6e-1"] {
        let students = all(&app, &token, &format!("class={class}&profile=student")).await;
        assert!(students.iter().any(|a| a["activation"] == "activated"), "{class}");
        assert!(students.iter().any(|a| a["activation"] == "pending"), "{class}");
        let parents = all(&app, &token, &format!("class={class}&profile=parent")).await;
        assert!(!parents.is_empty());
    }
}

#[tokio::test]
async fn sorting_by_name_orders_by_last_name_then_first_name_ignoring_accents() {
    let (app, token) = demo().await;
    let items = all(&app, &token, "sort=name").await;
    let keys: Vec<String> = items
        .iter()
        .map(|a| {
            sesame::domain::text::fold(&format!(
                "{}\u{1f}{}",
                a["last_name"].as_str().unwrap(),
                a["first_name"].as_str().unwrap()
            ))
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test]
async fn sorting_by_profile_and_by_class_groups_accounts() {
    let (app, token) = demo().await;
    let by_profile = all(&app, &token, "sort=profile").await;
    let profiles: Vec<&str> = by_profile
        .iter()
        .map(|a| a["profile"].as_str().unwrap())
        .collect();
    let mut runs = profiles.clone();
    runs.dedup();
    assert_eq!(runs, ["student", "parent", "teacher", "staff"]);
    let by_class = all(&app, &token, "sort=class&profile=student").await;
    let classes: Vec<&str> = by_class
        .iter()
        .map(|a| a["classes"][0].as_str().unwrap())
        .collect();
    let mut runs = classes.clone();
    runs.dedup();
    assert_eq!(runs, ["6e-1", "CM1-A", "CM2-B"]);
}

#[tokio::test]
async fn paging_with_a_cursor_visits_every_account_once_in_order() {
    let (app, token) = demo().await;
    for sort in ["name", "profile", "class"] {
        let whole = ids(&all(&app, &token, &format!("sort={sort}")).await);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/accounts?limit=7&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path, &token).await;
            assert_eq!(page.body["total"], whole.len());
            seen.extend(ids(page.body["items"].as_array().unwrap()));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, whole, "sort={sort}");
    }
}

#[tokio::test]
async fn a_class_lists_with_its_level_and_student_count() {
    let (app, token) = demo().await;
    let classes = app.get("/v1/classes", &token).await;
    let items = classes.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for class in items {
        assert_eq!(class["student_count"], 20, "{class}");
        assert!(class["level"].is_string());
    }
}

#[tokio::test]
async fn generated_logins_fold_accents_and_number_homonyms() {
    let (app, token) = demo().await;
    let items = all(&app, &token, "").await;
    let logins: Vec<&str> = items.iter().map(|a| a["login"].as_str().unwrap()).collect();
    assert!(logins.iter().all(|l| l.is_ascii()));
    assert!(logins.contains(&"zoe.lefevre"));
    assert!(
        logins.iter().any(|l| l.ends_with(char::is_numeric)),
        "a homonym got a number"
    );
    let unique: HashSet<&&str> = logins.iter().collect();
    assert_eq!(unique.len(), logins.len());
}
