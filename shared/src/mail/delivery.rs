//! Delivery of one message. A throttling service is asked again after a pause that
//! doubles each time (with jitter, so that concurrent senders do not retry in step),
//! a bounded number of times; a refusal or a failure of the service is reported at
//! once. Nothing is dropped silently: the caller gets a [`Failure`].

use crate::ports::{MailError, Mailer, Message};
use rand::Rng;
use std::time::Duration;

/// How long to keep asking a throttling service.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause before the second attempt; each next pause doubles, up to `max`.
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// Six attempts, pausing about 0.2, 0.4, 0.8, 1.6 and 3.2 s: at most ~6 s.
    fn default() -> Self {
        Self {
            attempts: 6,
            first: Duration::from_millis(200),
            max: Duration::from_millis(3200),
        }
    }
}

/// Why a message was not delivered. What the service said goes to the log, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The service still throttled after every attempt.
    Throttled,
    /// The service refused the message (the address, the sender…).
    Rejected,
    /// The service failed or could not be reached.
    Unavailable,
    /// Neither the school nor the deployment names a sender address: nothing was sent.
    NoSender,
    /// The recipient's address was refused for good: it is marked bounced.
    Bounced,
}

impl Failure {
    /// What an administrator is told.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Throttled => "the mail service is busy and kept refusing to send; try again later",
            Self::Rejected => {
                "the mail service refused this message: check the address, and that the sender may send"
            }
            Self::Unavailable => "the mail service failed; try again later",
            Self::Bounced => "the recipient's mail server refused this address for good: correct the address",
            Self::NoSender => {
                "no sender address: set the school's sender (PUT /v1/settings) or the deployment's SESAME_SENDER"
            }
        }
    }
}

/// Sends `message`, retrying while the service throttles.
pub async fn deliver(mailer: &dyn Mailer, message: &Message, backoff: Backoff) -> Result<(), Failure> {
    deliver_noting(mailer, message, backoff)
        .await
        .map_err(|(failure, _)| failure)
}

/// [`deliver`], with what the service said when it refused the recipient for
/// good (a bounce's diagnostic, for the account's mail state).
pub async fn deliver_noting(
    mailer: &dyn Mailer,
    message: &Message,
    backoff: Backoff,
) -> Result<(), (Failure, Option<String>)> {
    let mut pause = backoff.first;
    let mut attempt = 1;
    loop {
        match mailer.send(message).await {
            Ok(()) => return Ok(()),
            Err(MailError::Throttled) if attempt < backoff.attempts => {
                tracing::debug!(attempt, "the mail service is throttling; retrying");
                tokio::time::sleep(jittered(pause)).await;
                pause = (pause * 2).min(backoff.max);
                attempt += 1;
            }
            Err(MailError::Throttled) => {
                tracing::warn!(attempts = attempt, "the mail service kept throttling; giving up");
                return Err((Failure::Throttled, None));
            }
            Err(MailError::Rejected(reason)) => {
                tracing::warn!(reason, "the mail service refused a message");
                return Err((Failure::Rejected, None));
            }
            Err(MailError::Bounced(diagnostic)) => {
                tracing::warn!(diagnostic, "the recipient's address was refused for good");
                return Err((Failure::Bounced, Some(diagnostic)));
            }
            Err(MailError::Backend(e)) => {
                tracing::error!(error = format!("{e:#}"), "the mail service failed");
                return Err((Failure::Unavailable, None));
            }
        }
    }
}

/// Between half the pause and the whole of it.
fn jittered(pause: Duration) -> Duration {
    let half = pause / 2;
    half + half.mul_f64(rand::rng().random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;
    use async_trait::async_trait;
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use tokio::time::Instant;

    /// Answers from a script, then succeeds; counts the calls.
    struct Scripted {
        answers: Mutex<VecDeque<MailError>>,
        calls: Mutex<u32>,
    }

    impl Scripted {
        fn new(answers: impl IntoIterator<Item = MailError>) -> Self {
            Self {
                answers: Mutex::new(answers.into_iter().collect()),
                calls: Mutex::new(0),
            }
        }

        fn calls(&self) -> u32 {
            *self.calls.lock().unwrap()
        }
    }

    #[async_trait]
    impl Mailer for Scripted {
        async fn send(&self, _: &Message) -> Result<(), MailError> {
            *self.calls.lock().unwrap() += 1;
            self.answers.lock().unwrap().pop_front().map_or(Ok(()), Err)
        }
    }

    fn message() -> Message {
        Message {
            to: Email::parse("zoe@example.org").unwrap(),
            from: Email::parse("ecole@example.org").unwrap(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            tags: Vec::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_retried_after_growing_pauses_until_the_message_goes() {
        let mailer = Scripted::new([MailError::Throttled, MailError::Throttled]);
        let start = Instant::now();
        assert_eq!(deliver(&mailer, &message(), Backoff::default()).await, Ok(()));
        assert_eq!(mailer.calls(), 3);
        let waited = start.elapsed();
        // 0.2 s then 0.4 s, each between half and the whole.
        assert!(
            waited >= Duration::from_millis(300) && waited <= Duration::from_millis(600),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_that_keeps_throttling_is_given_up_on_after_a_bounded_time() {
        let mailer = Scripted::new((0..100).map(|_| MailError::Throttled));
        let start = Instant::now();
        assert_eq!(
            deliver(&mailer, &message(), Backoff::default()).await,
            Err(Failure::Throttled)
        );
        assert_eq!(mailer.calls(), 6);
        assert!(
            start.elapsed() <= Duration::from_millis(6200),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_or_a_broken_service_is_reported_at_once() {
        let rejected = Scripted::new([MailError::Rejected("550 no such user".into())]);
        let broken = Scripted::new([MailError::Backend(anyhow::anyhow!("connection refused"))]);
        let start = Instant::now();
        assert_eq!(
            deliver(&rejected, &message(), Backoff::default()).await,
            Err(Failure::Rejected)
        );
        assert_eq!(
            deliver(&broken, &message(), Backoff::default()).await,
            Err(Failure::Unavailable)
        );
        assert_eq!((rejected.calls(), broken.calls()), (1, 1));
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
