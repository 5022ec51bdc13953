//! Brute-force protection (SPEC §3), the one module that owns attempt counting:
//! what is counted on which key, and the rule. 10 attempts on one path for one login within
//! 15 minutes lock that path for 15 minutes. An attempt is counted *before* its
//! verification runs, atomically in the store, so a burst of simultaneous guesses
//! evaluates at most 10 of them; a success clears the counter. A lock in force is
//! never shortened nor extended by a later attempt. The counters live in the store,
//! so they hold across processes and restarts.
//!
//! The rule is [`admit`]; a store applies it atomically (SQLite in its one write
//! transaction, DynamoDB as conditional updates that encode the same cases).

use super::ids::Login;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The paths whose attempts are counted apart. Login and change share one counter.
#[derive(Debug, Clone, Copy)]
pub enum Path {
    Login,
    Change,
    Activate,
    /// Reset links, keyed by the client's address (see [`client_subject`]).
    Reset,
}

impl Path {
    /// The paths locked per account (by its login), with their names: what an
    /// account's ledger shows and `unlock` lifts. Reset links are limited per
    /// client address instead.
    pub const OF_AN_ACCOUNT: [(Path, &'static str); 2] =
        [(Path::Login, "login"), (Path::Activate, "activate")];

    pub fn key(self, subject: &str) -> String {
        let path = match self {
            Self::Login | Self::Change => "login",
            Self::Activate => "activate",
            Self::Reset => "reset",
        };
        format!("{path}:{}", subject.trim().to_lowercase())
    }
}

/// What attempts with a typed login are counted on: the login, or, for anything
/// that cannot be one, a single shared counter (no account is hurt by its lock, and
/// keys stay short: DynamoDB bounds their size).
pub fn login_subject(login: Option<&Login>) -> &str {
    login.map_or("!not-a-login", Login::as_str)
}

/// What wrong reset links are counted on: the client's address (an IPv6 client by
/// its /64, which one subscriber usually holds whole), or one shared counter for
/// clients whose address is unknown.
pub fn client_subject(client: Option<std::net::IpAddr>) -> String {
    match client {
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "!unknown-client".to_owned(),
    }
}

pub const MAX_ATTEMPTS: u32 = 10;
pub const WINDOW: Duration = Duration::minutes(15);
pub const LOCK: Duration = Duration::minutes(15);

/// Attempts counted on one path for one subject (a login, or a reset link's account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throttle {
    pub key: String,
    /// Attempts in the current window, verified or still being verified.
    pub attempts: u32,
    pub window_start: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Throttle {
    /// When the record may be forgotten (a TTL for stores that have one).
    pub fn expires_at(&self) -> DateTime<Utc> {
        let window_end = self.window_start + WINDOW;
        self.locked_until
            .map_or(window_end, |until| until.max(window_end))
    }

    /// The lock in force at `now`, if any.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Whether the window this record counts in is still open at `now`.
    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        now - self.window_start < WINDOW
    }
}

/// The verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Counted: the verification may run.
    Admitted,
    /// Refused without verification until then.
    Locked { until: DateTime<Utc> },
}

impl Attempt {
    /// The whole seconds to wait (at least one), for `Retry-After`.
    pub fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
        u64::try_from((until - now).num_seconds()).unwrap_or(0).max(1)
    }
}

/// Counts one attempt on `previous` at `now`: the record to store (`None`: nothing
/// changes) and the verdict. The tenth attempt of a window is admitted and sets the
/// lock; the ones after it are refused until the lock ends.
pub fn admit(previous: Option<&Throttle>, key: &str, now: DateTime<Utc>) -> (Option<Throttle>, Attempt) {
    match previous {
        Some(t) if t.locked_at(now).is_some() => {
            let until = t.locked_until.unwrap_or(now);
            (None, Attempt::Locked { until })
        }
        Some(t) if t.window_open(now) && t.attempts >= MAX_ATTEMPTS => {
            // Full window whose lock is not (yet) written: refuse as locked.
            let until = t.locked_until.unwrap_or(now + LOCK);
            (
                None,
                Attempt::Locked {
                    until: until.max(now),
                },
            )
        }
        Some(t) if t.window_open(now) => {
            let attempts = t.attempts + 1;
            let next = Throttle {
                key: key.to_owned(),
                attempts,
                window_start: t.window_start,
                locked_until: (attempts >= MAX_ATTEMPTS).then(|| now + LOCK),
            };
            (Some(next), Attempt::Admitted)
        }
        _ => {
            let next = Throttle {
                key: key.to_owned(),
                attempts: 1,
                window_start: now,
                locked_until: None,
            };
            (Some(next), Attempt::Admitted)
        }
    }
}

/// Gives back one attempt of `previous` at `now` (`None`: nothing changes): an
/// attempt that turned out genuine, on a path counted per client rather than per
/// account, so that genuine uses never use up a client's allowance. A lock in
/// force is never lifted by it, and a window that has closed is left alone.
pub fn refund(previous: &Throttle, now: DateTime<Utc>) -> Option<Throttle> {
    (previous.attempts > 0 && previous.locked_at(now).is_none() && previous.window_open(now)).then(|| {
        Throttle {
            attempts: previous.attempts - 1,
            ..previous.clone()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(count: u32, start: DateTime<Utc>) -> (Option<Throttle>, Vec<Attempt>) {
        let mut t = None;
        let mut verdicts = Vec::new();
        for i in 0..count {
            let (next, verdict) = admit(t.as_ref(), "login:x", start + Duration::seconds(i64::from(i)));
            verdicts.push(verdict);
            if next.is_some() {
                t = next;
            }
        }
        (t, verdicts)
    }

    #[test]
    fn ten_attempts_are_admitted_and_the_eleventh_is_locked() {
        let start = Utc::now();
        let (t, verdicts) = run(11, start);
        assert!(verdicts[..10].iter().all(|v| *v == Attempt::Admitted));
        assert!(matches!(verdicts[10], Attempt::Locked { .. }));
        let t = t.unwrap();
        assert_eq!(t.locked_until, Some(start + Duration::seconds(9) + LOCK));
    }

    #[test]
    fn a_lock_is_neither_shortened_nor_extended_by_later_attempts() {
        let start = Utc::now();
        let (t, _) = run(10, start);
        let t = t.unwrap();
        let until = t.locked_until.unwrap();
        let (next, verdict) = admit(Some(&t), "login:x", until - Duration::seconds(1));
        assert_eq!(next, None);
        assert_eq!(verdict, Attempt::Locked { until });
    }

    #[test]
    fn after_the_lock_a_new_window_starts() {
        let start = Utc::now();
        let (t, _) = run(10, start);
        let t = t.unwrap();
        let after = t.locked_until.unwrap() + Duration::seconds(1);
        let (next, verdict) = admit(Some(&t), "login:x", after);
        assert_eq!(verdict, Attempt::Admitted);
        assert_eq!(next.map(|n| (n.attempts, n.window_start)), Some((1, after)));
    }

    #[test]
    fn a_refund_gives_back_one_attempt_but_never_lifts_a_lock() {
        let start = Utc::now();
        let (t, _) = run(3, start);
        let t = t.unwrap();
        assert_eq!(refund(&t, start).map(|r| r.attempts), Some(2));
        let (locked, _) = run(10, start);
        assert_eq!(refund(&locked.unwrap(), start + Duration::seconds(10)), None);
    }

    #[test]
    fn attempts_outside_the_window_start_over() {
        let start = Utc::now();
        let (first, _) = admit(None, "k", start);
        let (later, _) = admit(first.as_ref(), "k", start + WINDOW + Duration::seconds(1));
        assert_eq!(later.unwrap().attempts, 1);
    }
}
