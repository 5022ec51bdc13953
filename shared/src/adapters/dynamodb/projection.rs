//! The school's projection: per account, what a list filters, sorts and counts
//! on, packed in 256 shards per school (`SCHOOL#<school>` / `INDEX#<shard>`, the
//! shard by a hash of the account id), each a deflated JSON array of rows. A list
//! reads the shards in one `Query` (about 50 bytes per account), filters, sorts
//! and counts their rows, then fetches only its page's accounts by key.
//!
//! Every account write rewrites the shard of its row in the same transaction, at
//! the shard's version as read: a transaction refused because a shard changed
//! since (another account of it was written) is tried again with the shard read
//! afresh. A shard holds a few dozen rows of a school of thousands (under 8 KB up
//! to about 25,000 accounts), and no item is rewritten by every write of a school.

use super::batch::{get_items, query_prefix};
use super::item::{BODY, Item, PK, SK, VERSION, key, n, nanos, number, school_pk, string};
use super::{DynamoStore, Refusal, transact};
use crate::domain::{
    Access, Account, AccountId, Activation, ClassName, Email, EmailStatus, LocalAdmin, Login, Profile,
    SchoolId,
};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write as _};

/// Shards per school.
const SHARDS: u64 = 256;
const INDEX_PREFIX: &str = "INDEX#";
/// Tries of a write whose shards other writes keep changing under it.
const SHARD_TRIES: u32 = 10;

/// What the projection keeps of an account: every field `AccountFilter::matches`
/// and `Account::sort_key` read, and whether its secret item exists. Serialised
/// as an array (no field names), then deflated with its shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Row(
    AccountId,
    String,
    String,
    Login,
    Profile,
    Vec<ClassName>,
    Option<String>,
    Vec<String>,
    Access,
    Activation,
    /// The address's mail state; none without an address.
    Option<EmailStatus>,
    LocalAdmin,
    /// Created, disabled: nanoseconds since the epoch.
    i64,
    Option<i64>,
    /// Whether its secret item exists.
    bool,
);

impl Row {
    pub(super) fn of(a: &Account) -> Self {
        Self(
            a.id.clone(),
            a.first_name.clone(),
            a.last_name.clone(),
            a.login.clone(),
            a.profile,
            a.classes.clone(),
            a.level.clone(),
            a.groups.clone(),
            a.access,
            a.activation,
            a.email.as_ref().map(|_| a.email_state.status),
            a.local_admin,
            nanos(a.created_at),
            a.disabled_at.map(nanos),
            a.credentials.secret.is_some(),
        )
    }

    pub(super) fn id(&self) -> &AccountId {
        &self.0
    }

    pub(super) fn has_secret(&self) -> bool {
        self.14
    }

    /// An account that `AccountFilter::matches` and `Account::sort_key` answer for
    /// as they would for the account itself (its other fields are empty, and its
    /// address, if it has one, a stand-in). Never shown, never written.
    pub(super) fn probe(&self, school: &SchoolId) -> Account {
        let email = self
            .10
            .map(|_| Email::parse("row@projection.invalid").expect("a valid stand-in address"));
        Account {
            id: self.0.clone(),
            school: school.clone(),
            login: self.3.clone(),
            first_name: self.1.clone(),
            last_name: self.2.clone(),
            profile: self.4,
            classes: self.5.clone(),
            level: self.6.clone(),
            groups: self.7.clone(),
            options: Vec::new(),
            email,
            email_state: crate::domain::EmailState {
                status: self.10.unwrap_or_default(),
                ..Default::default()
            },
            birth_date: None,
            local_admin: self.11,
            parents: Vec::new(),
            children: Vec::new(),
            access: self.8,
            activation: self.9,
            source: Default::default(),
            external_id: None,
            credentials: Default::default(),
            created_at: DateTime::from_timestamp_nanos(self.12),
            activated_at: None,
            disabled_at: self.13.map(DateTime::from_timestamp_nanos),
            closed_by_roster: false,
            version: 0,
        }
    }
}

pub(super) fn shard_of(id: &AccountId) -> u64 {
    let digest = Sha256::digest(id.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % SHARDS
}

fn shard_key(school: &SchoolId, shard: u64) -> Item {
    key(school_pk(school), format!("{INDEX_PREFIX}{shard:03}"))
}

fn decode(item: &Item) -> StoreResult<Vec<Row>> {
    let Some(blob) = item.get(BODY) else {
        return Ok(Vec::new());
    };
    let bytes = blob
        .as_b()
        .map_err(|_| StoreError::backend(super::item::ItemError::Invalid(BODY, "binary")))?;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes.as_ref())
        .read_to_end(&mut json)
        .map_err(StoreError::backend)?;
    serde_json::from_slice(&json).map_err(StoreError::backend)
}

fn encode(rows: &[Row]) -> StoreResult<AttributeValue> {
    let json = serde_json::to_vec(rows).map_err(StoreError::backend)?;
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(&json).map_err(StoreError::backend)?;
    let bytes = deflater.finish().map_err(StoreError::backend)?;
    Ok(AttributeValue::B(Blob::new(bytes)))
}

/// Every row of the school: one `Query` of its shards (paged at 1 MB).
pub(super) async fn rows(store: &DynamoStore, school: &SchoolId) -> StoreResult<Vec<Row>> {
    let shards = query_prefix(store, school_pk(school), INDEX_PREFIX).await?;
    let mut rows = Vec::new();
    for shard in &shards {
        rows.extend(decode(shard)?);
    }
    Ok(rows)
}

/// Changes of rows, by shard: a row to put, or `None` to take the account out.
#[derive(Debug, Default, Clone)]
pub(super) struct Edits(BTreeMap<(SchoolId, u64), BTreeMap<AccountId, Option<Row>>>);

impl Edits {
    /// The account's row, as written.
    pub(super) fn put(&mut self, account: &Account) {
        self.0
            .entry((account.school.clone(), shard_of(&account.id)))
            .or_default()
            .insert(account.id.clone(), Some(Row::of(account)));
    }

    pub(super) fn remove(&mut self, school: &SchoolId, id: &AccountId) {
        self.0
            .entry((school.clone(), shard_of(id)))
            .or_default()
            .insert(id.clone(), None);
    }

    /// The shards these edits rewrite: one item each in a transaction.
    pub(super) fn shards(&self) -> usize {
        self.0.len()
    }

    /// Whether `account`'s row would add a shard to these edits.
    pub(super) fn adds_shard(&self, account: &Account) -> bool {
        !self
            .0
            .contains_key(&(account.school.clone(), shard_of(&account.id)))
    }

    pub(super) fn extend(&mut self, other: Self) {
        for (shard, rows) in other.0 {
            self.0.entry(shard).or_default().extend(rows);
        }
    }

    /// Reads the shards (one `BatchGetItem`) and gives each one's new item, put on
    /// the condition that it is still at the version read (absent: still absent).
    async fn writes(&self, store: &DynamoStore) -> StoreResult<Vec<TransactWriteItem>> {
        let keys: Vec<Item> = self
            .0
            .keys()
            .map(|(school, shard)| shard_key(school, *shard))
            .collect();
        let mut read: BTreeMap<(String, String), Item> = BTreeMap::new();
        for item in get_items(store, keys).await? {
            read.insert(pair(&item)?, item);
        }
        let mut writes = Vec::with_capacity(self.0.len());
        for ((school, shard), edits) in &self.0 {
            let key = shard_key(school, *shard);
            let current = read.get(&pair(&key)?);
            let version = current
                .map(|item| number(item, VERSION))
                .transpose()?
                .unwrap_or(0);
            let mut rows: BTreeMap<AccountId, Row> = match current {
                Some(item) => decode(item)?
                    .into_iter()
                    .map(|row| (row.id().clone(), row))
                    .collect(),
                None => BTreeMap::new(),
            };
            for (id, row) in edits {
                match row {
                    Some(row) => rows.insert(id.clone(), row.clone()),
                    None => rows.remove(id),
                };
            }
            let rows: Vec<Row> = rows.into_values().collect();
            let mut item = key;
            item.insert(VERSION.to_owned(), n(version + 1));
            item.insert(BODY.to_owned(), encode(&rows)?);
            let put = Put::builder().table_name(&store.table).set_item(Some(item));
            let put = if version == 0 {
                put.condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
            } else {
                put.condition_expression("#version = :read")
                    .expression_attribute_names("#version", VERSION)
                    .expression_attribute_values(":read", n(version))
            };
            writes.push(
                TransactWriteItem::builder()
                    .put(put.build().map_err(StoreError::backend)?)
                    .build(),
            );
        }
        Ok(writes)
    }
}

/// An item's key as strings (the SDK's map is not `Ord`).
fn pair(item: &Item) -> StoreResult<(String, String)> {
    Ok((string(item, PK)?.to_owned(), string(item, SK)?.to_owned()))
}

/// Writes `items` and the shards of `edits` in one transaction; the shards are
/// read afresh for each try, and a transaction refused only because a shard moved
/// on since it was read is tried again. Any other refusal is the caller's.
pub(super) async fn transact_with(
    store: &DynamoStore,
    items: Vec<TransactWriteItem>,
    edits: &Edits,
) -> StoreResult<Result<(), Refusal>> {
    for attempt in 1..=SHARD_TRIES {
        let first_shard = items.len();
        let mut all = items.clone();
        all.extend(edits.writes(store).await?);
        match transact(store, all).await? {
            Err(Refusal::Condition(index)) if index >= first_shard => super::pause(attempt).await,
            other => return Ok(other),
        }
    }
    Ok(Err(Refusal::Contention))
}

/// Applies `edits` on their own (a creation's rollback), 100 shards a transaction.
pub(super) async fn apply(store: &DynamoStore, edits: Edits) -> StoreResult<()> {
    let all: Vec<_> = edits.0.into_iter().collect();
    for chunk in all.chunks(super::TRANSACTION_ITEMS) {
        let part = Edits(chunk.iter().cloned().collect());
        match transact_with(store, Vec::new(), &part).await? {
            Ok(()) => {}
            Err(_) => {
                return Err(StoreError::Unavailable(anyhow::anyhow!(
                    "the school's projection kept changing"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailState, Sort};
    use crate::ports::AccountFilter;
    use chrono::{TimeZone, Utc};

    /// Accounts that differ in every field a filter or a sort reads.
    fn accounts() -> Vec<Account> {
        let at = |day| {
            Utc.with_ymd_and_hms(2026, 9, day, 8, 30, 0)
                .single()
                .expect("a date")
                + chrono::Duration::nanoseconds(123_456_789)
        };
        let mut all = Vec::new();
        for (i, profile) in [
            Profile::Student,
            Profile::Parent,
            Profile::Teacher,
            Profile::Staff,
        ]
        .into_iter()
        .enumerate()
        {
            let mut a = Account::sample(profile, LocalAdmin::None);
            a.first_name = format!("Zoé-{i}");
            a.last_name = format!("d'Arc {i}");
            a.login = Login::parse(&format!("zoe.darc{i}")).expect("a login");
            a.classes = [&["6A", "Latin"][..], &[], &["5B"], &["6A"]][i]
                .iter()
                .map(|c| ClassName::parse(c).expect("a class"))
                .collect();
            a.level = (i % 2 == 0).then(|| "6e".to_owned());
            a.groups = if i == 1 {
                vec!["chorale".to_owned()]
            } else {
                vec![]
            };
            a.access = if i == 2 { Access::Disabled } else { Access::Enabled };
            a.disabled_at = (i == 2).then(|| at(3));
            a.activation = if i == 0 {
                Activation::Pending
            } else {
                Activation::Activated
            };
            a.email = (i != 0).then(|| Email::parse(&format!("p{i}@example.org")).expect("an address"));
            a.email_state = EmailState {
                status: if i == 3 {
                    EmailStatus::Bounced
                } else {
                    EmailStatus::Unknown
                },
                ..EmailState::default()
            };
            if i == 3 {
                a.local_admin = LocalAdmin::Secondary;
            }
            a.created_at = at(1 + i as u32);
            all.push(a);
        }
        all
    }

    fn filters(accounts: &[Account]) -> Vec<AccountFilter> {
        let none = AccountFilter::default;
        let mut filters = vec![
            none(),
            AccountFilter {
                profiles: vec![Profile::Parent, Profile::Staff],
                ..none()
            },
            AccountFilter {
                classes: vec![ClassName::parse("Latin").expect("a class")],
                ..none()
            },
            AccountFilter {
                within_classes: Some(vec![]),
                ..none()
            },
            AccountFilter {
                level: Some("6e".to_owned()),
                ..none()
            },
            AccountFilter {
                group: Some("chorale".to_owned()),
                ..none()
            },
            AccountFilter {
                access: Some(Access::Disabled),
                ..none()
            },
            AccountFilter {
                activation: Some(Activation::Pending),
                ..none()
            },
            AccountFilter {
                has_email: Some(true),
                ..none()
            },
            AccountFilter {
                has_email: Some(false),
                ..none()
            },
            AccountFilter {
                email_state: Some(EmailStatus::Bounced),
                ..none()
            },
            AccountFilter {
                email_state: Some(EmailStatus::Unknown),
                ..none()
            },
            AccountFilter {
                local_admin: Some(LocalAdmin::Secondary),
                ..none()
            },
            AccountFilter {
                search: Some("darc 2".to_owned()),
                ..none()
            },
            AccountFilter {
                search: Some("zoe-1".to_owned()),
                ..none()
            },
        ];
        for a in accounts {
            let at = Some(a.created_at);
            filters.push(AccountFilter {
                created_from: at,
                ..none()
            });
            filters.push(AccountFilter {
                created_to: at,
                ..none()
            });
            if let Some(d) = a.disabled_at {
                filters.push(AccountFilter {
                    disabled_since: Some(d),
                    ..none()
                });
                filters.push(AccountFilter {
                    pre_deletion: Some((true, d)),
                    ..none()
                });
                let later = d + chrono::Duration::nanoseconds(1);
                filters.push(AccountFilter {
                    pre_deletion: Some((true, later)),
                    ..none()
                });
                filters.push(AccountFilter {
                    pre_deletion: Some((false, later)),
                    ..none()
                });
            }
        }
        filters
    }

    #[test]
    fn a_row_answers_every_filter_and_sort_as_its_account_does() {
        let accounts = accounts();
        let filters = filters(&accounts);
        for account in &accounts {
            let probe = Row::of(account).probe(&account.school);
            for sort in [Sort::Name, Sort::Profile, Sort::Class] {
                assert_eq!(probe.sort_key(sort), account.sort_key(sort), "{sort:?}");
            }
            for filter in &filters {
                assert_eq!(filter.matches(&probe), filter.matches(account), "{filter:?}");
            }
        }
        assert!(
            filters
                .iter()
                .any(|f| accounts.iter().filter(|a| f.matches(a)).count() == 1)
        );
    }

    #[test]
    fn a_shard_reads_back_the_rows_it_was_written_with() {
        let rows: Vec<Row> = accounts().iter().map(Row::of).collect();
        let mut item = Item::new();
        item.insert(BODY.to_owned(), encode(&rows).expect("encoded"));

        assert_eq!(decode(&item).expect("decoded"), rows);
        assert!(shard_of(rows[0].id()) < SHARDS);
    }
}
