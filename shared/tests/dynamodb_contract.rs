//! The store contract, run against the DynamoDB adapter on the emulator that
//! `AWS_ENDPOINT_URL` names (moto's server, started by `scripts/moto.sh`): each test
//! on a new table of its own.

use sesame::adapters::dynamodb::DynamoStore;

/// A store on a new table. Without an emulator endpoint the test fails: it never
/// skips, and never creates tables in a real account by accident.
async fn fresh_store() -> ((), DynamoStore) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.trim().is_empty(),
        "AWS_ENDPOINT_URL is not set: the DynamoDB contract tests need an emulator; \
         run them after `source scripts/moto.sh` (scripts/test.sh does)"
    );
    let table = format!("sesame-test-{}", uuid::Uuid::new_v4().simple());
    let store = match DynamoStore::connect(&table).await {
        Ok(store) => store,
        Err(error) => panic!("connecting to the emulator at {endpoint} failed: {error:#}"),
    };
    if let Err(error) = store.create_table().await {
        panic!("creating the table {table} on {endpoint} failed: {error:#}");
    }
    ((), store)
}

sesame::store_contract_tests!(fresh_store());

/// Beyond the contract: the limits of DynamoDB this adapter works around.
mod limits {
    use super::fresh_store;
    use chrono::Duration;
    use sesame::contract::{account, class, day, event, id_of, school_id};
    use sesame::domain::{Account, ClassName, Profile, Sort};
    use sesame::ports::{
        AccountFilter, AccountQuery, AccountStore, AuditQuery, AuditStore, GuardStore, IdempotencyRecord,
        StoreError, StoredResponse,
    };

    fn in_class(name: &str) -> AccountFilter {
        AccountFilter {
            classes: vec![class(name)],
            ..Default::default()
        }
    }

    fn classes(prefix: &str, count: usize) -> Vec<ClassName> {
        (0..count).map(|n| class(&format!("{prefix}{n:03}"))).collect()
    }

    #[tokio::test]
    async fn a_batch_larger_than_a_transaction_is_created_whole() {
        let (_guard, store) = fresh_store().await;
        // 150 accounts in two classes each: 600 items, at least six transactions.
        let students: Vec<Account> = (0..150)
            .map(|n| {
                let classes: &[&str] = if n % 2 == 0 {
                    &["6A", "LV2"]
                } else {
                    &["5B", "LV2"]
                };
                account(
                    "north",
                    &format!("s{n:03}.x"),
                    "S",
                    &format!("X{n:03}"),
                    Profile::Student,
                    classes,
                )
            })
            .collect();

        store.create_accounts(&students).await.expect("create_accounts");

        let north = school_id("north");
        let count = |filter: AccountFilter| {
            let (store, north) = (&store, &north);
            async move { store.count_accounts(north, &filter).await.expect("count") }
        };
        assert_eq!(count(AccountFilter::default()).await, 150);
        assert_eq!(count(in_class("6A")).await, 75);
        assert_eq!(count(in_class("LV2")).await, 150);
        let last = students.last().expect("a student");
        assert_eq!(
            store
                .find_by_login(&last.login)
                .await
                .expect("find")
                .map(|a| a.id),
            Some(last.id.clone())
        );
    }

    #[tokio::test]
    async fn a_batch_refused_by_a_later_transaction_leaves_nothing() {
        let (_guard, store) = fresh_store().await;
        // Two items per account: the first transaction holds the first 50.
        let mut batch: Vec<Account> = (0..80)
            .map(|n| account("north", &format!("b{n:03}.y"), "B", "Y", Profile::Student, &[]))
            .collect();
        // Over DynamoDB's 400 KB per item: refused, after the check, by the second.
        batch[70].last_name = "Y".repeat(500_000);

        let result = store.create_accounts(&batch).await;

        assert!(matches!(result, Err(StoreError::Backend(_))), "got {result:?}");
        let north = school_id("north");
        assert_eq!(
            store
                .count_accounts(&north, &AccountFilter::default())
                .await
                .expect("count"),
            0
        );
        assert_eq!(store.find_by_login(&batch[0].login).await.expect("find"), None);
        let again = store.create_accounts(&batch[..10]).await;
        assert!(again.is_ok(), "the logins are free again, got {again:?}");
    }

    #[tokio::test]
    async fn an_account_in_more_classes_than_a_transaction_holds_keeps_its_rosters() {
        let (_guard, store) = fresh_store().await;
        let mut many = account("north", "many.classes", "Many", "Classes", Profile::Teacher, &[]);
        many.classes = classes("A", 120);
        store
            .create_accounts(std::slice::from_ref(&many))
            .await
            .expect("create_accounts");
        let moved = Account {
            classes: classes("B", 110),
            version: 1,
            ..many.clone()
        };

        let results = store.update_accounts(&[moved]).await.expect("update_accounts");

        assert!(matches!(results[..], [Ok(())]), "got {results:?}");
        let north = school_id("north");
        for (name, members) in [("A000", 0), ("A119", 0), ("B000", 1), ("B109", 1)] {
            let count = store
                .count_accounts(&north, &in_class(name))
                .await
                .expect("count");
            assert_eq!(count, members, "members of {name}");
        }
        let query = AccountQuery {
            filter: in_class("B050"),
            sort: Sort::Class,
            after: None,
            limit: 10,
        };
        let page = store.list_accounts(&north, &query).await.expect("list");
        assert_eq!(page.items.first().map(|a| a.version), Some(2));
    }

    #[tokio::test]
    async fn more_audit_events_than_a_transaction_holds_are_appended_and_paged() {
        let (_guard, store) = fresh_store().await;
        let events: Vec<_> = (0..130)
            .map(|n| {
                let at = day(0) + Duration::minutes(n);
                let targets: &[&str] = if n % 10 == 0 {
                    &["zoe.lefevre"]
                } else {
                    &["adam.bernard"]
                };
                event(
                    "north",
                    &format!("ev-{n:03}"),
                    at,
                    "admin-1",
                    "password.reset",
                    targets,
                )
            })
            .collect();

        store.append_audit(&events).await.expect("append_audit");

        let north = school_id("north");
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let query = AuditQuery {
                before: before.clone(),
                limit: 50,
                ..Default::default()
            };
            let page = store.list_audit(&north, &query).await.expect("list_audit");
            seen.extend(page.items.iter().map(|e| e.id.clone()));
            match page.items.last() {
                Some(last) if page.more => before = Some((last.at, last.id.clone())),
                _ => break,
            }
        }
        let expected: Vec<String> = (0..130).rev().map(|n| format!("ev-{n:03}")).collect();
        assert_eq!(seen, expected, "every event once, newest first");
        let zoe = AuditQuery {
            account_id: Some(id_of("zoe.lefevre")),
            limit: 5,
            ..Default::default()
        };
        let page = store.list_audit(&north, &zoe).await.expect("list_audit");
        let ids: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ev-120", "ev-110", "ev-100", "ev-090", "ev-080"]);
        assert!(page.more);
    }

    #[tokio::test]
    async fn a_large_response_is_remembered_whole() {
        let (_guard, store) = fresh_store().await;
        let record = IdempotencyRecord {
            key: "bulk-large".to_owned(),
            fingerprint: "f".to_owned(),
            response: None,
            created_at: day(0),
            expires_at: day(1),
        };
        // 300 kB: as JSON numbers it would not fit in a 400 KB item.
        let response = StoredResponse {
            status: 207,
            sealed_body: (0..300_000u32).map(|n| (n % 251) as u8).collect(),
        };
        store.claim_idempotency(&record, day(0)).await.expect("claim");

        store
            .complete_idempotency("bulk-large", &response)
            .await
            .expect("complete");

        let answer = store.claim_idempotency(&record, day(0)).await.expect("claim");
        assert_eq!(answer.and_then(|r| r.response), Some(response));
    }

    #[tokio::test]
    async fn creating_the_table_again_changes_nothing() {
        let (_guard, store) = fresh_store().await;
        let zoe = account("north", "zoe.lefevre", "Zoé", "Lefèvre", Profile::Student, &[]);
        store
            .create_accounts(std::slice::from_ref(&zoe))
            .await
            .expect("create");

        store.create_table().await.expect("create_table again");

        let found = store.get_account(&zoe.school, &zoe.id).await.expect("get");
        assert_eq!(found.map(|a| a.login), Some(zoe.login));
    }
}

/// Beyond the contract: DynamoDB expires handed-out secrets by itself (SPEC §8).
mod expiry {
    use super::fresh_store;
    use aws_sdk_dynamodb::types::AttributeValue;
    use sesame::contract::a_secret_to_expire;

    #[tokio::test]
    async fn a_temporary_passwords_item_carries_its_expiry_as_ttl_and_the_account_no_hash() {
        let (_guard, store) = fresh_store().await;
        let account = a_secret_to_expire(&store).await;
        let secret = account.credentials.secret.clone().expect("a secret");
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&config);
        let item = |sk: String| {
            client
                .get_item()
                .table_name(store.table())
                .key("pk", AttributeValue::S(format!("SCHOOL#{}", account.school)))
                .key("sk", AttributeValue::S(sk))
                .consistent_read(true)
                .send()
        };

        let secret_item = item(format!("ACCOUNT#{}#SECRET", account.id))
            .await
            .expect("get")
            .item;
        let account_item = item(format!("ACCOUNT#{}", account.id)).await.expect("get").item;

        let secret_item = secret_item.expect("the secret is an item of its own");
        assert_eq!(
            secret_item.get("ttl"),
            Some(&AttributeValue::N(secret.expires_at.timestamp().to_string()))
        );
        let body = format!("{:?}", account_item.expect("the account item"));
        assert!(
            !body.contains(&secret.hash),
            "the account item holds no hash: {body}"
        );
    }
}
