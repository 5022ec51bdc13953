//! The table's keys and the mapping between items and domain values. Every item
//! has a string partition key `pk` and sort key `sk`; the domain value is kept
//! whole as JSON in `body`, next to the few attributes conditions and keys need.

use super::batch::Write;
use crate::domain::{Account, AccountId, ClassName, Login, ParseError, SchoolId};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) const PK: &str = "pk";
pub(super) const SK: &str = "sk";
pub(super) const BODY: &str = "body";
pub(super) const VERSION: &str = "version";
/// Epoch seconds after which DynamoDB's TTL may delete the item.
pub(super) const TTL: &str = "ttl";
/// A random token each conditional write leaves in its item, so that a write
/// retried after its answer was lost (a time-out after the commit) recognises its
/// own success in the item that refuses it (SPEC §8).
pub(super) const WRITE_TOKEN: &str = "write_token";

/// A fresh [`WRITE_TOKEN`] value.
pub(super) fn write_token() -> AttributeValue {
    AttributeValue::S(uuid::Uuid::new_v4().simple().to_string())
}

/// Whether `item` was left by the write that carried `token`.
pub(super) fn written_by(item: Option<&Item>, token: &AttributeValue) -> bool {
    item.and_then(|i| i.get(WRITE_TOKEN)) == Some(token)
}

/// A login reservation's school and account id.
pub(super) const SCHOOL: &str = "school";
pub(super) const ACCOUNT: &str = "account";

/// The sort-key prefix of a school's accounts in its partition.
pub(super) const ACCOUNT_PREFIX: &str = "ACCOUNT#";
/// The sort-key suffix of an account's outstanding secret: one item of its own,
/// right after its account in the school's partition (`ACCOUNT#<id>#SECRET`), with
/// a `ttl` (SPEC §8), so that one `Query` reads an account with its secret.
const SECRET_SUFFIX: &str = "#SECRET";
/// The sort-key prefix of a school's classes in its partition.
pub(super) const CLASS_PREFIX: &str = "CLASSDEF#";

const SCHOOL_PREFIX: &str = "SCHOOL#";
const EXPORT_PREFIX: &str = "EXPORT#";
const IMPORT_PREFIX: &str = "IMPORT#";
/// The sort-key prefix of a school's distributions in its partition.
pub(super) const DISTRIBUTION_PREFIX: &str = "DIST#";

pub(super) fn school_pk(school: &SchoolId) -> String {
    format!("{SCHOOL_PREFIX}{school}")
}

/// Work that a new item of the table asks of the stream worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamJob {
    /// A queued export job.
    Export(SchoolId, String),
    /// A distribution (a background send-activation runs; any other is left).
    Distribution(SchoolId, String),
    /// A queued import of an uploaded roster.
    Import(SchoolId, String),
}

/// The job whose item has these keys, if it is one.
pub fn job_of(pk: &str, sk: &str) -> Option<StreamJob> {
    let school = SchoolId::parse(pk.strip_prefix(SCHOOL_PREFIX)?).ok()?;
    if let Some(id) = sk.strip_prefix(EXPORT_PREFIX) {
        return Some(StreamJob::Export(school, id.to_owned()));
    }
    if let Some(id) = sk.strip_prefix(IMPORT_PREFIX) {
        return Some(StreamJob::Import(school, id.to_owned()));
    }
    let id = sk.strip_prefix(DISTRIBUTION_PREFIX)?;
    Some(StreamJob::Distribution(school, id.to_owned()))
}

pub(super) fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk)),
    ])
}

pub(super) fn school_key(school: &SchoolId) -> Item {
    key(school_pk(school), "SCHOOL".to_owned())
}

pub(super) fn class_key(school: &SchoolId, class: &ClassName) -> Item {
    key(school_pk(school), format!("{CLASS_PREFIX}{class}"))
}

/// An export job, in its school's partition.
pub(super) fn export_key(school: &SchoolId, id: &str) -> Item {
    key(school_pk(school), format!("{EXPORT_PREFIX}{id}"))
}

/// An import job, in its school's partition.
pub(super) fn import_key(school: &SchoolId, id: &str) -> Item {
    key(school_pk(school), format!("{IMPORT_PREFIX}{id}"))
}

pub(super) fn account_key(school: &SchoolId, id: &AccountId) -> Item {
    key(school_pk(school), format!("{ACCOUNT_PREFIX}{id}"))
}

/// The item of an account's outstanding secret, sorted right after the account.
pub(super) fn secret_key(school: &SchoolId, id: &AccountId) -> Item {
    key(school_pk(school), format!("{ACCOUNT_PREFIX}{id}{SECRET_SUFFIX}"))
}

/// The account id whose secret's item has this sort key, if it is one.
fn secret_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(ACCOUNT_PREFIX)?.strip_suffix(SECRET_SUFFIX)
}

/// Whether the item is an account's (not its secret's, nor anything else's).
pub(super) fn is_account_item(item: &Item) -> bool {
    string(item, SK).is_ok_and(|sk| sk.starts_with(ACCOUNT_PREFIX) && secret_of(sk).is_none())
}

/// The sort-key range of one account and its secret, for a `Query`'s `BETWEEN`:
/// no other account's key falls in it, as ids hold no `#`.
pub(super) fn account_range(id: &AccountId) -> (String, String) {
    (
        format!("{ACCOUNT_PREFIX}{id}"),
        format!("{ACCOUNT_PREFIX}{id}{SECRET_SUFFIX}"),
    )
}

/// The item that reserves a login across the deployment.
pub(super) fn login_key(login: &Login) -> Item {
    key(format!("LOGIN#{login}"), "LOGIN".to_owned())
}

/// The partition of a class roster: one item per member, its sort key the account id.
pub(super) fn member_pk(school: &SchoolId, class: &ClassName) -> String {
    format!("CLASS#{school}#{class}")
}

pub(super) fn member_key(school: &SchoolId, class: &ClassName, id: &AccountId) -> Item {
    key(member_pk(school, class), id.to_string())
}

pub(super) fn throttle_key(key_: &str) -> Item {
    key(format!("THROTTLE#{key_}"), "THROTTLE".to_owned())
}

pub(super) fn idempotency_key(key_: &str) -> Item {
    key(format!("IDEMPOTENCY#{key_}"), "IDEMPOTENCY".to_owned())
}

pub(super) fn audit_pk(school: &SchoolId) -> String {
    format!("AUDIT#{school}")
}

/// The partition of the pointers to one account's audit events.
pub(super) fn audit_target_pk(school: &SchoolId, account: &AccountId) -> String {
    format!("AUDITACC#{school}#{account}")
}

/// Instants as integer nanoseconds since the epoch, as the SQLite store keeps them:
/// exact and ordered; instants beyond the years 1677–2262 saturate.
pub(super) fn nanos(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt()
        .unwrap_or(if at.timestamp() < 0 { i64::MIN } else { i64::MAX })
}

/// `nanos(at)` as 20 digits that sort as the instants do (the sign bit flipped).
pub(super) fn instant_prefix(nanos: i64) -> String {
    format!("{:020}", nanos.cast_unsigned() ^ (1 << 63))
}

/// The sort key of an audit event: its instant, then its id, both ordered.
pub(super) fn event_sk(at: DateTime<Utc>, id: &str) -> String {
    format!("{}#{id}", instant_prefix(nanos(at)))
}

/// The TTL attribute for an item that may be forgotten after `expires_at`.
pub(super) fn ttl(expires_at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::N(expires_at.timestamp().max(0).to_string())
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn json(value: &impl Serialize) -> StoreResult<AttributeValue> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(StoreError::backend)
}

/// An item's key attributes, e.g. to delete it.
pub(super) fn key_of(item: &Item) -> Item {
    item.iter()
        .filter(|(name, _)| *name == PK || *name == SK)
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A malformed item: the table holds something this code did not write.
#[derive(Debug, thiserror::Error)]
pub(super) enum ItemError {
    #[error("the item lacks the {1} attribute {0}")]
    Missing(&'static str, &'static str),
    #[error("the attribute {0} is not a valid {1}")]
    Invalid(&'static str, &'static str),
}

pub(super) fn string<'a>(item: &'a Item, name: &'static str) -> StoreResult<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value),
        _ => Err(StoreError::backend(ItemError::Missing(name, "string"))),
    }
}

pub(super) fn number(item: &Item, name: &'static str) -> StoreResult<u64> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map_err(|_| StoreError::backend(ItemError::Invalid(name, "number"))),
        _ => Err(StoreError::backend(ItemError::Missing(name, "number"))),
    }
}

/// The domain value an item holds in `body`.
pub(super) fn body<T: DeserializeOwned>(item: &Item) -> StoreResult<T> {
    serde_json::from_str(string(item, BODY)?).map_err(StoreError::backend)
}

/// An account's item: its body, and its version for the conditions on it. Its
/// outstanding secret is an item of its own ([`secret_write`]).
pub(super) fn account_item(account: &Account) -> StoreResult<Item> {
    let mut item = account_key(&account.school, &account.id);
    item.insert(VERSION.to_owned(), n(account.version));
    let mut body = account.clone();
    body.credentials.secret = None;
    item.insert(BODY.to_owned(), json(&body)?);
    Ok(item)
}

/// Whether a class row's account has a secret item (written with the row, from
/// the same account value, so the two never disagree).
pub(super) const HAS_SECRET: &str = "has_secret";

/// A class's row of one of its members: the account's item again (without its
/// secret, which stays an item of its own), under the class's roster, so that a
/// class page is one `Query`. Written in the account's transactions
/// ([`row_writes`]).
pub(super) fn member_item(account: &Account, class: &ClassName) -> StoreResult<Item> {
    let mut item = account_item(account)?;
    item.extend(member_key(&account.school, class, &account.id));
    item.insert(
        HAS_SECRET.to_owned(),
        AttributeValue::Bool(account.credentials.secret.is_some()),
    );
    Ok(item)
}

/// Class rows hold their account for an account in at most this many classes (a
/// pupil's class and options, a parent's children's classes). The rows of an
/// account in more (a teacher's, a staff member's) hold its key only, and a class
/// page reads that account by key: an account change then rewrites at most a few
/// KB of rows, not one copy per class.
pub(super) const ROW_CLASSES: usize = 4;

/// What writing `after` over `before` (none: a creation) does to its class rows:
/// deleted from the classes it left; rewritten with the account in each of its
/// classes while it has few; else put as keys where they are new (or held the
/// account before).
pub(super) fn row_writes(before: Option<&Account>, after: &Account) -> StoreResult<Vec<Write>> {
    let old: BTreeSet<&ClassName> = before.map(|a| a.classes.iter().collect()).unwrap_or_default();
    let new: BTreeSet<&ClassName> = after.classes.iter().collect();
    let mut writes: Vec<Write> = old
        .difference(&new)
        .map(|class| Write::Delete(member_key(&after.school, class, &after.id)))
        .collect();
    for class in &new {
        if new.len() <= ROW_CLASSES {
            writes.push(Write::Put(member_item(after, class)?));
        } else if !old.contains(class) || old.len() <= ROW_CLASSES {
            writes.push(Write::Put(member_key(&after.school, class, &after.id)));
        }
    }
    Ok(writes)
}

/// The account a class row holds, if it holds one (the row of an account in many
/// classes holds its key only); its key must agree with its body.
pub(super) fn member_of(item: &Item, school: &SchoolId, class: &ClassName) -> StoreResult<Option<Account>> {
    if !item.contains_key(BODY) {
        return Ok(None);
    }
    let account: Account = body(item)?;
    if key_of(item) != member_key(school, class, &account.id) || account.school != *school {
        return Err(StoreError::backend(ItemError::Invalid(
            BODY,
            "account of this class row",
        )));
    }
    Ok(Some(account))
}

/// The write that leaves the account's secret item as the account says: put
/// (with `ttl` = its expiry, so that DynamoDB deletes it once expired) or deleted.
pub(super) fn secret_write(account: &Account) -> StoreResult<Write> {
    let key = secret_key(&account.school, &account.id);
    Ok(match &account.credentials.secret {
        Some(secret) => {
            let mut item = key;
            item.insert(TTL.to_owned(), ttl(secret.expires_at));
            item.insert(BODY.to_owned(), json(secret)?);
            Write::Put(item)
        }
        None => Write::Delete(key),
    })
}

/// `accounts` with the secrets among `items` (secret items of their school).
pub(super) fn with_secrets(mut accounts: Vec<Account>, items: &[Item]) -> StoreResult<Vec<Account>> {
    let mut secrets: HashMap<&str, &Item> = HashMap::with_capacity(items.len());
    for item in items {
        if let Some(id) = secret_of(string(item, SK)?) {
            secrets.insert(id, item);
        }
    }
    for account in &mut accounts {
        if let Some(item) = secrets.get(account.id.as_str()) {
            account.credentials.secret = Some(body(item)?);
        }
    }
    Ok(accounts)
}

/// The account an item holds; its key must agree with its body.
pub(super) fn account_of(item: &Item) -> StoreResult<Account> {
    let account: Account = body(item)?;
    let expected = account_key(&account.school, &account.id);
    if expected.get(PK) != item.get(PK) || expected.get(SK) != item.get(SK) {
        return Err(StoreError::backend(ItemError::Invalid(
            BODY,
            "account of this key",
        )));
    }
    Ok(account)
}

/// Parses an identifier read from an item.
pub(super) fn parsed<T>(
    raw: &str,
    name: &'static str,
    parse: fn(&str) -> Result<T, ParseError>,
) -> StoreResult<T> {
    parse(raw).map_err(|_| StoreError::backend(ItemError::Invalid(name, "identifier")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instant_prefixes_sort_as_the_instants() {
        let instants = [i64::MIN, -1_000, -1, 0, 1, 1_000, i64::MAX];
        let prefixes: Vec<String> = instants.iter().map(|&n| instant_prefix(n)).collect();

        assert!(prefixes.windows(2).all(|w| w[0] < w[1]), "{prefixes:?}");
        assert!(prefixes.iter().all(|p| p.len() == 20));
    }

    #[test]
    fn event_sort_keys_order_by_instant_then_id() {
        let at = Utc
            .with_ymd_and_hms(2024, 9, 1, 8, 0, 0)
            .single()
            .expect("a date");
        let later = at + chrono::Duration::nanoseconds(1);

        assert!(event_sk(at, "ev-9") < event_sk(later, "ev-1"));
        assert!(event_sk(at, "ev-1") < event_sk(at, "ev-10"));
        assert!(event_sk(at, "ev-10") < event_sk(at, "ev-2"));
    }
}
