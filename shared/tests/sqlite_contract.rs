//! The store contract, run against the SQLite adapter: each test on a new database
//! in its own temporary directory.

use sesame::adapters::sqlite::SqliteStore;

async fn fresh_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&dir.path().join("sesame.db")).expect("a new SQLite store");
    (dir, store)
}

sesame::store_contract_tests!(fresh_store());
