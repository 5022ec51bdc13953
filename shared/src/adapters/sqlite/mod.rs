//! The SQLite store of the edge deployment: one database file in WAL mode, one
//! writer connection and a few readers, every call run on tokio's blocking pool.

mod accounts;
mod audit;
mod distributions;
mod exports;
mod listing;
mod migrations;
mod other;
mod sessions;
mod store;

use crate::ports::{StoreError, StoreResult};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::Duration;

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_CACHE: usize = 64;

/// A [`Store`](crate::ports::Store) in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
}

struct Pool {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let mut writer =
            Connection::open(path).with_context(|| format!("opening the database {}", path.display()))?;
        configure(&writer)?;
        let mode: String = writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "the database refused WAL mode (it is in {mode} mode)"
        );
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        migrations::apply(&mut writer).context("migrating the database")?;
        let readers = (0..READERS)
            .map(|_| {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let reader = Connection::open_with_flags(path, flags)
                    .with_context(|| format!("opening the database {} to read", path.display()))?;
                configure(&reader)?;
                Ok(Mutex::new(reader))
            })
            .collect::<anyhow::Result<_>>()?;
        let pool = Pool {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        };
        Ok(Self { pool: Arc::new(pool) })
    }

    /// Export jobs left queued or running (by a crash or a restart).
    pub async fn unfinished_exports(&self) -> StoreResult<Vec<crate::domain::ExportJob>> {
        self.read(|c| unfinished(c, "exports")).await
    }

    /// Imports of uploaded rosters left queued or running.
    pub async fn unfinished_imports(&self) -> StoreResult<Vec<crate::domain::ImportJob>> {
        self.read(|c| unfinished(c, "imports")).await
    }

    /// Send-activations a crash or a restart interrupted, to run again.
    pub async fn unfinished_distributions(&self) -> StoreResult<Vec<crate::domain::Distribution>> {
        self.read(|c| unfinished(c, "distributions")).await
    }

    /// Runs `work` on a reader connection, off the async executor.
    async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        blocking(move || work(&mut pool.reader())).await
    }

    /// Runs `work` on the writer connection, off the async executor.
    async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        blocking(move || work(&mut lock(&pool.writer))).await
    }
}

impl Pool {
    /// A free reader if there is one, otherwise the next in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in &self.readers {
            match reader.try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let turn = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        lock(&self.readers[turn])
    }
}

/// Copies the live database at `database` to `destination` through SQLite's online
/// backup API: a consistent snapshot while a server keeps writing. The copy is
/// private to its owner and checked (`PRAGMA integrity_check`).
pub fn backup(database: &Path, destination: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !destination.exists(),
        "{} exists already: name a new file",
        destination.display()
    );
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening the database {}", database.display()))?;
    configure(&source)?;
    source
        .backup(rusqlite::MAIN_DB, destination, None)
        .with_context(|| format!("copying the database to {}", destination.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(destination, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    check(destination)
}

/// A database file that SQLite finds intact and this binary can migrate forward.
pub fn check(path: &Path) -> anyhow::Result<()> {
    let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .with_context(|| format!("{} is not a SQLite database", path.display()))?;
    anyhow::ensure!(verdict == "ok", "{} is damaged: {verdict}", path.display());
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    migrations::ensure_known(version)
}

/// Replaces the database at `database` by the backup `source` (checked first),
/// dropping the old write-ahead log. The caller makes sure no server uses it.
pub fn restore(source: &Path, database: &Path) -> anyhow::Result<()> {
    check(source)?;
    let staged = database.with_extension("db.restoring");
    std::fs::copy(source, &staged).with_context(|| format!("copying {}", source.display()))?;
    #[cfg(unix)]
    std::fs::set_permissions(&staged, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    for suffix in ["-wal", "-shm"] {
        let path = format!("{}{suffix}", database.display());
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {path}")),
        }
    }
    std::fs::rename(&staged, database).with_context(|| format!("replacing {}", database.display()))?;
    Ok(())
}

/// A panic while a connection was held leaves it usable: an open transaction is
/// rolled back when its guard drops, so a poisoned lock is taken over.
fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

fn configure(connection: &Connection) -> anyhow::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

async fn blocking<T, F>(work: F) -> StoreResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(StoreError::backend)?
}

/// Instants are stored as integer nanoseconds since the epoch: exact (the domain
/// compares full-precision instants) and ordered. Instants beyond the years
/// 1677–2262 saturate, which keeps every comparison with a stored instant right.
fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(StoreError::backend)
}

fn from_json<T: serde::de::DeserializeOwned>(body: &str) -> StoreResult<T> {
    serde_json::from_str(body).map_err(StoreError::backend)
}

/// The JSON bodies (first column) of the rows `select` reads, decoded.
fn bodies<T: serde::de::DeserializeOwned>(
    connection: &rusqlite::Connection,
    select: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<T>> {
    let mut select = connection.prepare_cached(select).map_err(StoreError::backend)?;
    let bodies = select
        .query_map(params, |row| row.get::<_, String>(0))
        .map_err(StoreError::backend)?;
    bodies
        .map(|body| from_json(&body.map_err(StoreError::backend)?))
        .collect()
}

/// The jobs of `table` (exports, imports, distributions) still queued or running.
fn unfinished<T: serde::de::DeserializeOwned>(
    connection: &rusqlite::Connection,
    table: &'static str,
) -> StoreResult<Vec<T>> {
    let select =
        format!("SELECT body FROM {table} WHERE json_extract(body, '$.status') IN ('queued', 'running')");
    bodies(connection, &select, [])
}

/// Versions are `u64` in the domain and `INTEGER` (i64) here.
fn version(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(StoreError::backend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{School, SchoolId, Settings};
    use crate::ports::SchoolStore;

    #[tokio::test]
    async fn reopening_a_database_keeps_its_data_in_wal_mode() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sesame.db");
        let id = SchoolId::parse("north").expect("school id");
        let school = School {
            id: id.clone(),
            name: "Nord".to_owned(),
            settings: Settings::default(),
            version: 0,
        };
        SqliteStore::open(&path)
            .expect("open")
            .put_school(&school)
            .await
            .expect("put_school");

        let reopened = SqliteStore::open(&path).expect("reopen");

        let found = reopened.get_school(&id).await.expect("get_school");
        assert_eq!(found.map(|s| (s.name, s.version)), Some(("Nord".to_owned(), 1)));
        let mode: String = lock(&reopened.pool.writer)
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn only_queued_and_running_jobs_are_unfinished() {
        use crate::domain::{Caller, Distribution, DistributionKind, ImportJob, Role, RunStatus};
        use crate::ports::{DistributionStore, ExportStore};
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&dir.path().join("sesame.db")).expect("open");
        let school = SchoolId::parse("north").expect("school id");
        let admin = Caller {
            sub: "admin".into(),
            school: school.clone(),
            role: Role::Admin,
            classes: vec![],
        };
        let statuses = [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Done,
            RunStatus::Failed,
        ];
        for (n, status) in statuses.into_iter().enumerate() {
            let mut import = ImportJob::queued(
                format!("imp_{n}"),
                admin.clone(),
                None,
                format!("uploads/north/{n}"),
                false,
                chrono::Utc::now(),
            );
            import.status = status;
            store.put_import(&import).await.expect("put_import");
            let mut run = Distribution::done(
                format!("dst_{n}"),
                school.clone(),
                DistributionKind::SendActivation,
                "admin",
                chrono::Utc::now(),
                365,
            );
            run.status = status;
            store.put_distribution(&run).await.expect("put_distribution");
        }

        let imports = store.unfinished_imports().await.expect("imports");
        let runs = store.unfinished_distributions().await.expect("distributions");

        let mut ids: Vec<String> = imports.into_iter().map(|j| j.id).collect();
        ids.extend(runs.into_iter().map(|d| d.id));
        ids.sort();
        assert_eq!(ids, ["dst_0", "dst_1", "imp_0", "imp_1"]);
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("sesame.db");
        drop(SqliteStore::open(&path).expect("open"));
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", 99))
            .expect("bump");

        let reopened = SqliteStore::open(&path);

        let message = format!("{:#}", reopened.err().expect("a refusal"));
        assert!(message.contains("newer than this binary"), "{message}");
    }
}
