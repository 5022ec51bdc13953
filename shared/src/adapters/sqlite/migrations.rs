//! The schema, as an ordered list of migrations compiled into the binary;
//! `PRAGMA user_version` counts those applied.

use anyhow::Context;
use rusqlite::{Connection, TransactionBehavior};

/// Append only: a migration, once released, never changes.
const MIGRATIONS: &[&str] = &[INITIAL, EXPORTS, SECRETS, DISTRIBUTIONS, SESSIONS, IMPORTS];

/// Imports of uploaded rosters run in the background: their progress and report
/// (never a secret); the sweep deletes them after `expires_at`.
const IMPORTS: &str = "
CREATE TABLE imports (
    school     TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (school, id)
) WITHOUT ROWID;
";

/// Console sessions by the hash of their cookie; the sweep deletes them once ended.
const SESSIONS: &str = "
CREATE TABLE sessions (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
) WITHOUT ROWID;
";

/// Every hand-out of secrets, newest first by school; `classes` holds the classes
/// it covers as `|a|b|` for a `LIKE` filter; the sweep deletes it after `purge_at`.
const DISTRIBUTIONS: &str = "
CREATE TABLE distributions (
    school     TEXT NOT NULL,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    classes    TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL,
    PRIMARY KEY (school, id)
) WITHOUT ROWID;
CREATE INDEX distributions_by_time ON distributions (school, created_at, id);
";

/// Each account's outstanding secret (hash, issuer, validity, distribution) in a
/// row of its own, deleted by the sweep once expired (SPEC §8).
const SECRETS: &str = "
CREATE TABLE secrets (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    school     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    body       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX secrets_by_expiry ON secrets (expires_at);
";

/// Export jobs: their status and the key of their file (never a secret).
const EXPORTS: &str = "
CREATE TABLE exports (
    school  TEXT NOT NULL,
    id      TEXT NOT NULL,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (school, id)
) WITHOUT ROWID;
";

/// Instants are integer nanoseconds since the epoch (see `nanos`); `body` columns
/// hold the whole item as JSON, the other columns what queries need.
const INITIAL: &str = "
CREATE TABLE schools (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body    TEXT NOT NULL
);

CREATE TABLE classes (
    school TEXT NOT NULL,
    name   TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (school, name)
) WITHOUT ROWID;

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    school       TEXT NOT NULL,
    login        TEXT NOT NULL UNIQUE,
    profile      TEXT NOT NULL,
    level        TEXT,
    access       TEXT NOT NULL,
    activation   TEXT NOT NULL,
    has_email    INTEGER NOT NULL,
    local_admin  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    disabled_at  INTEGER,
    search       TEXT NOT NULL,
    sort_name    TEXT NOT NULL,
    sort_profile TEXT NOT NULL,
    sort_class   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX accounts_by_name ON accounts (school, sort_name, id);
CREATE INDEX accounts_by_profile ON accounts (school, sort_profile, id);
CREATE INDEX accounts_by_class ON accounts (school, sort_class, id);
CREATE INDEX accounts_by_search ON accounts (school, search, id);

CREATE TABLE account_classes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    school     TEXT NOT NULL,
    class      TEXT NOT NULL,
    PRIMARY KEY (account_id, class)
) WITHOUT ROWID;
CREATE INDEX account_classes_by_class ON account_classes (school, class, account_id);

CREATE TABLE account_groups (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    school     TEXT NOT NULL,
    grp        TEXT NOT NULL,
    PRIMARY KEY (account_id, grp)
) WITHOUT ROWID;
CREATE INDEX account_groups_by_group ON account_groups (school, grp, account_id);

CREATE TABLE throttles (
    key        TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    body       TEXT NOT NULL
);

CREATE TABLE idempotency (
    key        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    body       TEXT NOT NULL
);

CREATE TABLE audit_events (
    id     TEXT PRIMARY KEY,
    school TEXT NOT NULL,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    body   TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events (school, at, id);

CREATE TABLE audit_targets (
    event_id   TEXT NOT NULL REFERENCES audit_events (id) ON DELETE CASCADE,
    school     TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (event_id, account_id)
) WITHOUT ROWID;
CREATE INDEX audit_targets_by_account ON audit_targets (school, account_id, event_id);
";

/// Refuses a schema version newer than this binary knows.
pub(super) fn ensure_known(applied: i64) -> anyhow::Result<()> {
    let applied = usize::try_from(applied).context("negative schema version")?;
    anyhow::ensure!(
        applied <= MIGRATIONS.len(),
        "the database is at schema version {applied}, newer than this binary's {}: \
         use a newer sesame",
        MIGRATIONS.len()
    );
    Ok(())
}

/// Applies the migrations this database lacks, each in its own transaction. The
/// version is read inside the write transaction, so two processes opening the
/// same file at once do not both migrate.
pub(super) fn apply(connection: &mut Connection) -> anyhow::Result<()> {
    loop {
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        ensure_known(applied)?;
        let applied = usize::try_from(applied)?;
        let Some(migration) = MIGRATIONS.get(applied) else {
            return Ok(());
        };
        tx.execute_batch(migration)
            .with_context(|| format!("applying migration {}", applied + 1))?;
        tx.pragma_update(None, "user_version", i64::try_from(applied + 1)?)?;
        tx.commit()?;
    }
}
