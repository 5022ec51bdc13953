//! The store contract, run against the SQLite adapter: each test on a new database
//! in its own temporary directory.

use sesame::adapters::sqlite::SqliteStore;

async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("sesame.db")).expect("a new SQLite store");
    (dir, store)
}

sesame::store_contract_tests!(fresh_store());

/// Beyond the contract: expired secrets leave the database.
mod sweep {
    use super::fresh_store;
    use sesame::contract::{a_secret_to_expire, day};
    use sesame::ports::{AccountStore, GuardStore};

    #[tokio::test]
    async fn the_sweep_deletes_an_expired_temporary_passwords_row() {
        let (dir, store) = fresh_store().await;
        let account = a_secret_to_expire(&store).await;
        let rows = || {
            rusqlite::Connection::open(dir.path().join("sesame.db"))
                .and_then(|c| {
                    c.query_row(
                        "SELECT COUNT(*) FROM secrets WHERE account_id = ?1",
                        [account.id.as_str()],
                        |row| row.get::<_, i64>(0),
                    )
                })
                .expect("count the secret rows")
        };
        assert_eq!(rows(), 1);

        store
            .sweep_expired(day(10))
            .await
            .expect("sweep before the expiry");
        let kept = rows();
        store
            .sweep_expired(day(11))
            .await
            .expect("sweep after the expiry");

        assert_eq!(kept, 1, "kept while valid");
        assert_eq!(rows(), 0, "no row of it once expired");
        let read = store
            .get_account(&account.school, &account.id)
            .await
            .expect("get");
        assert_eq!(read.expect("the account").credentials.secret, None);
    }
}

/// Beyond the contract: ended sessions leave the database.
mod session_sweep {
    use super::fresh_store;
    use sesame::contract::{account, day};
    use sesame::domain::{Profile, Session};
    use sesame::ports::{GuardStore, SessionStore};

    #[tokio::test]
    async fn the_sweep_deletes_ended_sessions_only() {
        let (_dir, store) = fresh_store().await;
        let admin = account("north", "h.garnier", "Hélène", "Garnier", Profile::Staff, &[]);
        let old = Session::begin("o".repeat(64), &admin, day(0));
        let new = Session::begin("n".repeat(64), &admin, day(1));
        store.put_session(&old).await.unwrap();
        store.put_session(&new).await.unwrap();
        store.sweep_expired(day(1)).await.unwrap();
        assert_eq!(store.get_session(&old.key).await.unwrap(), None);
        assert!(store.get_session(&new.key).await.unwrap().is_some());
    }
}
