//! The file port: where credential files are kept, behind links that expire.
//! S3 with presigned URLs in the cloud; the data folder with HMAC-signed links on
//! the edge. Keys carry their creation time (`exports/<school>/<unix>-<id>.<ext>`),
//! so a sweep can delete what is older than a day whatever the store. Rosters too
//! large for one request are uploaded the same way, behind a link that accepts a
//! `PUT` (`uploads/<school>/<unix>-<id>`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The largest file an upload link accepts (a roster of several hundred thousand rows).
pub const MAX_UPLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// The `Content-Disposition` that downloads a file as `filename` (quotes, backslashes
/// and line breaks replaced, so the name cannot break out of its header).
pub fn attachment(filename: &str) -> String {
    format!(
        "attachment; filename=\"{}\"",
        filename.replace(['"', '\\', '\r', '\n'], "_")
    )
}

/// Where a sealed upload is kept (see [`FileStore::seal`]).
pub fn sealed(key: &str) -> String {
    format!("{key}.sealed")
}

/// The creation time (unix seconds) a key carries: `…/<unix seconds>-<rest>`.
pub fn created_at_of(key: &str) -> Option<i64> {
    key.rsplit('/').next()?.split_once('-')?.0.parse().ok()
}

#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores `bytes` at `key` (encrypted at rest where the store offers it).
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()>;
    /// A link that downloads `key` as `filename` until `expires_at`.
    async fn link(
        &self,
        key: &str,
        filename: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String>;
    /// A link that accepts a `PUT` of the file to keep at `key` until `expires_at`
    /// (an upload too large for one API request).
    async fn upload_link(
        &self,
        key: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String>;
    /// The size of the file at `key`; `None` when there is none.
    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>>;
    /// The bytes of the file at `key`, at most `limit + 1` of them (so that a file
    /// larger than `limit` shows it without being read whole); `None` when there is none.
    async fn get(&self, key: &str, limit: u64) -> anyhow::Result<Option<Vec<u8>>>;
    /// Takes the upload at `key` out of its link's reach, once (SPEC §2: an upload
    /// link carries one file): the first call moves it to [`sealed`]`(key)`, where
    /// jobs read it; later calls find it there. `None`: nothing was uploaded. On
    /// the edge the link then refuses another `PUT`; an S3 presigned `PUT` cannot
    /// be revoked, but what it writes afterwards is never read.
    async fn seal(&self, key: &str) -> anyhow::Result<Option<String>>;
    /// Deletes `key`; deleting a missing key is not an error.
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Deletes every file created before `cutoff`; answers how many.
    async fn sweep(&self, cutoff: DateTime<Utc>) -> anyhow::Result<usize>;
}

/// The file store of a deployment that keeps no files (a Lambda function whose
/// endpoints never export): any attempt fails loudly.
pub struct NoFiles;

#[async_trait]
impl FileStore for NoFiles {
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn link(&self, _: &str, _: &str, _: DateTime<Utc>, _: DateTime<Utc>) -> anyhow::Result<String> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn upload_link(&self, _: &str, _: DateTime<Utc>, _: DateTime<Utc>) -> anyhow::Result<String> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn size(&self, _: &str) -> anyhow::Result<Option<u64>> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn get(&self, _: &str, _: u64) -> anyhow::Result<Option<Vec<u8>>> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn seal(&self, _: &str) -> anyhow::Result<Option<String>> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn delete(&self, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("this deployment is not configured to store files")
    }
    async fn sweep(&self, _: DateTime<Utc>) -> anyhow::Result<usize> {
        anyhow::bail!("this deployment is not configured to store files")
    }
}
