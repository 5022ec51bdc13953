//! The job port: how a queued export reaches a worker. On the edge, a channel to a
//! background task; in the cloud, the job's own record in the table, whose stream
//! starts the worker function (so enqueueing there is the write itself).

use crate::domain::SchoolId;
use async_trait::async_trait;

#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Asks a worker to run export `id` of `school` (already stored as queued).
    async fn enqueue(&self, school: &SchoolId, id: &str) -> anyhow::Result<()>;
}

/// The cloud's queue: the stored job record is the message (DynamoDB Streams
/// starts the worker), so there is nothing more to send.
pub struct StoredJobs;

#[async_trait]
impl JobQueue for StoredJobs {
    async fn enqueue(&self, _: &SchoolId, _: &str) -> anyhow::Result<()> {
        Ok(())
    }
}
