//! The cloud's file store: S3, every object encrypted at rest (SSE-S3), downloaded
//! through presigned GET links, rosters uploaded through presigned PUT links; the
//! sweep lists `exports/` and `uploads/` and deletes what the keys say is older
//! than the cutoff (a lifecycle rule is only a backstop).

use crate::ports::FileStore;
use crate::ports::files::{attachment, created_at_of};
use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Delete, ObjectIdentifier, ServerSideEncryption};
use chrono::{DateTime, Utc};

pub struct S3Files {
    client: Client,
    bucket: String,
}

impl S3Files {
    pub fn new(config: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        Self::from_client(Client::from_conf(Self::client_config(config).build()), bucket)
    }

    /// The S3 client's configuration: path-style addressing, which works with every
    /// endpoint, emulators included.
    pub fn client_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
        aws_sdk_s3::config::Builder::from(config).force_path_style(true)
    }

    /// A file store on a client configured by the caller (interceptors, retries).
    pub fn from_client(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl FileStore for S3Files {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(bytes.into())
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
            .context("S3 PutObject")?;
        Ok(())
    }

    async fn link(
        &self,
        key: &str,
        filename: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(attachment(filename))
            .presigned(presigning(now, expires_at)?)
            .await
            .context("presigning S3 GetObject")?;
        Ok(presigned.uri().to_owned())
    }

    async fn upload_link(
        &self,
        key: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        // Signed headers would have to be sent exactly: the bucket's default
        // encryption covers the object instead of an SSE header.
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(now, expires_at)?)
            .await
            .context("presigning S3 PutObject")?;
        Ok(presigned.uri().to_owned())
    }

    async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(head.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(anyhow::Error::new(e).context("S3 HeadObject")),
        }
    }

    async fn get(&self, key: &str, limit: u64) -> anyhow::Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(format!("bytes=0-{limit}"))
            .send()
            .await
        {
            Ok(object) => {
                let bytes = object.body.collect().await.context("reading an S3 object")?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            // A range of an empty object is not satisfiable: the object is empty.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 416) => Ok(Some(Vec::new())),
            Err(e) => Err(anyhow::Error::new(e).context("S3 GetObject")),
        }
    }

    async fn seal(&self, key: &str) -> anyhow::Result<Option<String>> {
        let sealed = crate::ports::files::sealed(key);
        if self.size(&sealed).await?.is_some() {
            return Ok(Some(sealed));
        }
        if self.size(key).await?.is_none() {
            return Ok(None);
        }
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{key}", self.bucket))
            .key(&sealed)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await;
        if let Err(e) = copied {
            // Another request sealed it between our look and our copy, and deleted
            // the original (404, or 403 where the caller may not list): its seal is
            // ours too.
            if self.size(&sealed).await?.is_some() {
                return Ok(Some(sealed));
            }
            return Err(anyhow::Error::new(e).context("S3 CopyObject"));
        }
        self.delete(key).await?;
        Ok(Some(sealed))
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .context("S3 DeleteObject")?;
        Ok(())
    }

    async fn sweep(&self, cutoff: DateTime<Utc>) -> anyhow::Result<usize> {
        let cutoff = cutoff.timestamp();
        let mut old = Vec::new();
        for prefix in ["exports/", "uploads/"] {
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.context("S3 ListObjectsV2")?;
                for object in page.contents() {
                    if let Some(key) = object.key()
                        && created_at_of(key).is_some_and(|created| created < cutoff)
                    {
                        old.push(ObjectIdentifier::builder().key(key).build()?);
                    }
                }
            }
        }
        let removed = old.len();
        for chunk in old.chunks(1000) {
            let delete = Delete::builder()
                .set_objects(Some(chunk.to_vec()))
                .quiet(true)
                .build()?;
            self.client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .context("S3 DeleteObjects")?;
        }
        Ok(removed)
    }
}

/// Presigning for a link valid from `now` until `expires_at`.
fn presigning(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> anyhow::Result<PresigningConfig> {
    let valid_for = (expires_at - now)
        .to_std()
        .context("the link would already be expired")?;
    Ok(PresigningConfig::expires_in(valid_for)?)
}
