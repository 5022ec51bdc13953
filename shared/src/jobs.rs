//! The edge's job queue: queued exports and send-activations go through a channel
//! to a background task, which runs them one at a time (imports each in a task of
//! their own) and sweeps old credential files, counters and idempotency records
//! every ten minutes.

use crate::domain::SchoolId;
use crate::ops::Sesame;
use crate::ports::JobQueue;
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::mpsc;

const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_EVERY_DURATION: chrono::Duration = chrono::Duration::minutes(10);

pub struct LocalJobs {
    sender: mpsc::UnboundedSender<(SchoolId, String)>,
}

/// The receiving end, to be started once the services exist.
pub struct LocalWorker {
    receiver: mpsc::UnboundedReceiver<(SchoolId, String)>,
    sweeps: bool,
}

pub fn local_jobs() -> (LocalJobs, LocalWorker) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (
        LocalJobs { sender },
        LocalWorker {
            receiver,
            sweeps: true,
        },
    )
}

#[async_trait]
impl JobQueue for LocalJobs {
    async fn enqueue(&self, school: &SchoolId, id: &str) -> anyhow::Result<()> {
        self.sender
            .send((school.clone(), id.to_owned()))
            .map_err(|_| anyhow::anyhow!("the export worker has stopped"))
    }
}

async fn run(sesame: &Sesame, school: &SchoolId, id: &str) {
    if let Err(e) = sesame.run_job(school, id).await {
        tracing::error!(job = id, error = %e, "a background job could not run");
    }
}

impl LocalWorker {
    /// A worker that runs jobs only, as the cloud's export worker does: there the
    /// sweep is a function of its own, with its own permissions.
    pub fn without_sweep(self) -> Self {
        Self {
            sweeps: false,
            ..self
        }
    }

    /// Runs the worker until every sender is gone.
    pub fn spawn(mut self, sesame: Sesame) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut sweep = tokio::time::interval(SWEEP_EVERY);
            loop {
                tokio::select! {
                    job = self.receiver.recv() => match job {
                        // An import may take minutes: it runs beside the queue.
                        Some((school, id)) if id.starts_with("imp_") => {
                            let sesame = sesame.clone();
                            tokio::spawn(async move { run(&sesame, &school, &id).await });
                        }
                        Some((school, id)) => run(&sesame, &school, &id).await,
                        None => break,
                    },
                    _ = sweep.tick(), if self.sweeps => {
                        match sesame.sweep_exports(SWEEP_EVERY_DURATION).await {
                            Ok(0) => {}
                            Ok(removed) => tracing::info!(removed, "swept old credential files"),
                            Err(e) => tracing::error!(error = %e, "sweeping credential files failed"),
                        }
                        // Brute-force counters and idempotency records past their expiry.
                        if let Err(e) = sesame.guards.sweep_expired(sesame.now()).await {
                            tracing::error!(error = %e, "sweeping expired records failed");
                        }
                    }
                }
            }
        })
    }
}
