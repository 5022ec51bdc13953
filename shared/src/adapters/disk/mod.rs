//! The edge's file store: files in `<data-dir>/files/`, readable by their owner
//! only, downloaded through links signed with HMAC-SHA256 that say until when they
//! are valid. `sesame` serves and verifies them (`http::files`): a tampered or
//! expired link answers 403. Upload links (`PUT`, keys under `uploads/`) are
//! signed the same way, for another purpose, so neither kind stands for the other.

use crate::ports::FileStore;
use crate::ports::files::created_at_of;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::{Component, Path, PathBuf};

pub struct DiskFiles {
    root: PathBuf,
    key: Vec<u8>,
    /// The public base URL of the server, e.g. `http://127.0.0.1:8080`.
    base_url: String,
    /// Held while an upload is kept or sealed, so that a `PUT` never slips past
    /// the seal it races with.
    uploading: tokio::sync::Mutex<()>,
}

impl DiskFiles {
    pub fn new(root: impl Into<PathBuf>, key: &[u8], base_url: &str) -> anyhow::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            root,
            key: key.to_vec(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            uploading: tokio::sync::Mutex::new(()),
        })
    }

    /// The path of `key`, refusing anything that could leave the root.
    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        let relative = Path::new(key);
        let plain = relative.components().all(|c| matches!(c, Component::Normal(_)));
        anyhow::ensure!(plain && !key.is_empty(), "invalid file key");
        Ok(self.root.join(relative))
    }

    /// The signature of a link for `purpose` (`download` or `upload`): neither kind
    /// of link can stand for the other.
    fn signature(&self, purpose: &str, key: &str, filename: &str, expires: i64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(format!("{purpose}\n{key}\n{filename}\n{expires}").as_bytes());
        crate::credentials::hex(&mac.finalize().into_bytes())
    }

    fn upload_signature(&self, key: &str, expires: i64) -> String {
        self.signature("upload", key, "", expires)
    }

    /// Whether a link's parts are authentic and still valid at `now`.
    pub fn verify(
        &self,
        key: &str,
        filename: &str,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> bool {
        key.starts_with("exports/")
            && valid(
                &self.signature("download", key, filename, expires),
                signature,
                expires,
                now,
            )
    }

    /// Whether an upload link's parts are authentic and still valid at `now`.
    pub fn verify_upload(&self, key: &str, expires: i64, signature: &str, now: DateTime<Utc>) -> bool {
        key.starts_with("uploads/") && valid(&self.upload_signature(key, expires), signature, expires, now)
    }

    /// Keeps an upload's bytes at `key`, unless its upload was sealed (a job read
    /// it): then `false`, and nothing is written.
    pub async fn keep_upload(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<bool> {
        let sealed = self.path(&crate::ports::files::sealed(key))?;
        let _turn = self.uploading.lock().await;
        if tokio::fs::try_exists(&sealed).await? {
            return Ok(false);
        }
        self.put(key, bytes, "").await?;
        Ok(true)
    }

    pub async fn read(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match tokio::fs::read(self.path(key)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl FileStore for DiskFiles {
    /// Written whole or not at all: into a `.part` file, synced, then renamed.
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // A name of its own: two writes of one key never share a file.
            let mut part = path.clone().into_os_string();
            part.push(format!(".{}.part", uuid::Uuid::new_v4().simple()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&part)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&part, &path)?;
            Ok(())
        })
        .await?
    }

    async fn link(
        &self,
        key: &str,
        filename: &str,
        _now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.path(key)?;
        let expires = expires_at.timestamp();
        let signature = self.signature("download", key, filename, expires);
        let filename_q: String = form_urlencode(filename);
        Ok(format!(
            "{}/files/{key}?filename={filename_q}&expires={expires}&signature={signature}",
            self.base_url
        ))
    }

    async fn upload_link(
        &self,
        key: &str,
        _now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        anyhow::ensure!(key.starts_with("uploads/"), "uploads are kept under uploads/");
        self.path(key)?;
        let expires = expires_at.timestamp();
        let signature = self.upload_signature(key, expires);
        Ok(format!(
            "{}/files/{key}?expires={expires}&signature={signature}",
            self.base_url
        ))
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, key: &str, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        let file = match tokio::fs::File::open(self.path(key)?).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1)).read_to_end(&mut bytes).await?;
        Ok(Some(bytes))
    }

    async fn seal(&self, key: &str) -> anyhow::Result<Option<String>> {
        let sealed = crate::ports::files::sealed(key);
        let (from, to) = (self.path(key)?, self.path(&sealed)?);
        let _turn = self.uploading.lock().await;
        if tokio::fs::try_exists(&to).await? {
            return Ok(Some(sealed));
        }
        match tokio::fs::rename(&from, &to).await {
            Ok(()) => Ok(Some(sealed)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A sealed upload is emptied rather than removed: it keeps refusing its
    /// link's `PUT` until the sweep takes it with the rest of the day's files.
    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        if key.ends_with(".sealed") {
            return match tokio::fs::File::options()
                .write(true)
                .truncate(true)
                .open(self.path(key)?)
                .await
            {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            };
        }
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn sweep(&self, cutoff: DateTime<Utc>) -> anyhow::Result<usize> {
        let root = self.root.clone();
        let cutoff = cutoff.timestamp();
        tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut removed = 0;
            let mut stack = vec![root];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let entry = entry?;
                    let path = entry.path();
                    if entry.file_type()?.is_dir() {
                        stack.push(path);
                    } else if path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(created_at_of)
                        .is_some_and(|created| created < cutoff)
                    {
                        std::fs::remove_file(&path)?;
                        removed += 1;
                    }
                }
            }
            Ok(removed)
        })
        .await?
    }
}

/// Whether `signature` is `expected` (in constant time) and `expires` is still ahead.
fn valid(expected: &str, signature: &str, expires: i64, now: DateTime<Utc>) -> bool {
    use subtle::ConstantTimeEq;
    let authentic: bool = expected.as_bytes().ct_eq(signature.as_bytes()).into();
    authentic && now.timestamp() < expires
}

fn form_urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .unwrap_or_default()
        .trim_start_matches('=')
        .to_owned()
}
