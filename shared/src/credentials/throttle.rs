//! Brute-force protection: 10 failures on one path for one login within 15 minutes
//! lock that path for 15 minutes. The counters live in the store, so they hold
//! across processes and restarts.

use crate::ports::Throttle;
use chrono::{DateTime, Duration, Utc};

pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::minutes(15);
pub const LOCK: Duration = Duration::minutes(15);

/// The seconds left on a lock, if `throttle` is locked at `now`.
pub fn locked_for(throttle: Option<&Throttle>, now: DateTime<Utc>) -> Option<u64> {
    let until = throttle?.locked_until?;
    (until > now).then(|| (until - now).num_seconds().max(1) as u64)
}

/// The counter after one more failure at `now`.
pub fn after_failure(previous: Option<Throttle>, key: &str, now: DateTime<Utc>) -> Throttle {
    let (version, mut failures, mut window_start) = match &previous {
        Some(t) if now - t.window_start < WINDOW && t.locked_until.is_none_or(|u| u > now) => {
            (t.version, t.failures, t.window_start)
        }
        Some(t) => (t.version, 0, now),
        None => (0, 0, now),
    };
    if failures == 0 {
        window_start = now;
    }
    failures += 1;
    let locked_until = (failures >= MAX_FAILURES).then(|| now + LOCK);
    let expires_at = locked_until
        .unwrap_or(window_start + WINDOW)
        .max(window_start + WINDOW);
    Throttle {
        key: key.to_owned(),
        failures,
        window_start,
        locked_until,
        expires_at,
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenth_failure_within_the_window_locks() {
        let start = Utc::now();
        let mut t = None;
        for i in 0..MAX_FAILURES {
            let next = after_failure(t, "login:x", start + Duration::seconds(i64::from(i)));
            assert_eq!(locked_for(Some(&next), start).is_some(), i + 1 == MAX_FAILURES);
            t = Some(next);
        }
        let t = t.unwrap();
        assert_eq!(locked_for(Some(&t), start + LOCK + Duration::seconds(10)), None);
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let start = Utc::now();
        let first = after_failure(None, "k", start);
        let later = after_failure(Some(first), "k", start + WINDOW + Duration::seconds(1));
        assert_eq!(later.failures, 1);
    }
}
