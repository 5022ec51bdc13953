//! The store contract: what every `Store` adapter must do, as async tests over a
//! fresh, empty store. `store_contract_tests!` makes one `#[tokio::test]` of each,
//! so that SQLite and DynamoDB are held to the same behaviour.

mod accounts;
mod audit;
mod distributions;
mod exports;
mod filters;
mod fixtures;
mod order;
mod others;
mod sessions;
mod updates;

pub use accounts::*;
pub use audit::*;
pub use distributions::*;
pub use exports::*;
pub use filters::*;
pub use fixtures::*;
pub use order::*;
pub use others::*;
pub use sessions::*;
pub use updates::*;

use crate::domain::{Account, Sort};
use crate::ports::{AccountFilter, AccountQuery, Store};

/// Expands to one `#[tokio::test]` per contract test. `$make` is an expression
/// (evaluated afresh for each test) giving a future of `(guard, store)`: a new,
/// empty store, and whatever must live as long as it, e.g. its temporary directory.
/// The calling crate needs `tokio` with its `macros` feature.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr) => {
        $crate::__store_contract_tests! { $make;
            // Accounts.
            creates_and_reads_back_an_account,
            gets_only_the_accounts_that_exist_in_the_school,
            finds_an_account_by_login_whatever_its_school,
            counts_each_class_as_a_count_of_it_would,
            lists_classes_with_their_students_as_counted,
            finds_a_caller_by_id_or_login_in_its_school_only,
            a_taken_login_fails_the_whole_batch,
            a_login_repeated_within_a_batch_is_taken,
            an_existing_id_is_a_conflict,
            an_update_needs_the_version_it_was_read_at,
            each_update_of_a_batch_succeeds_or_fails_on_its_own,
            updating_an_unknown_account_is_a_conflict,
            an_update_does_not_change_the_login,
            an_update_moves_an_account_between_classes,
            concurrent_updates_at_one_version_let_exactly_one_through,
            another_schools_accounts_are_never_returned,
            // Filters.
            lists_by_profile,
            lists_by_class_without_repeating_an_account,
            within_classes_narrows_the_classes,
            lists_by_level,
            lists_by_group,
            lists_by_access,
            lists_by_activation,
            lists_by_email_presence,
            lists_by_local_admin,
            lists_by_creation_range_inclusively,
            lists_accounts_disabled_since_an_instant,
            lists_accounts_in_pre_deletion_or_not,
            searches_folded_names_and_logins_literally,
            every_condition_of_a_filter_must_hold,
            // Order and pages.
            sorts_by_name,
            sorts_by_profile_then_name,
            sorts_by_class_with_classless_accounts_last,
            pages_through_every_account_exactly_once_in_each_order,
            pages_a_class_roster_with_its_total,
            a_secret_is_issued_replaced_and_revoked_with_its_account,
            an_account_in_many_classes_is_listed_in_each_as_it_is,
            // Schools, classes, throttles, idempotency.
            creates_a_school_at_version_one,
            creates_an_export_job_at_version_one,
            an_export_job_is_invisible_to_other_schools,
            an_export_job_is_updated_only_at_the_version_read,
            an_import_job_is_created_once_updated_at_its_version_and_kept_in_its_school,
            creating_an_existing_school_is_a_conflict,
            a_school_update_needs_the_stored_version,
            classes_are_upserted_by_name_and_listed_per_school,
            counts_ten_attempts_then_refuses_until_the_lock_ends,
            concurrent_attempts_admit_exactly_ten,
            clearing_forgets_the_attempts_and_the_lock,
            a_second_claim_answers_the_first_record,
            an_expired_claim_is_replaced,
            a_completed_claim_answers_its_response,
            a_released_key_can_be_claimed_again,
            // Audit.
            lists_audit_events_newest_first,
            filters_audit_events_by_account,
            filters_audit_events_by_actor_and_action,
            filters_audit_events_by_time_range_inclusively,
            pages_audit_events_before_a_position,
            another_schools_audit_events_are_never_listed,
            // Distributions.
            a_distribution_is_created_once_and_updated_at_its_version,
            lists_distributions_newest_first_with_their_filters,
            // Console sessions.
            a_session_is_created_once_written_at_its_version_and_deleted,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_tests {
    ($make:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_guard, store) = $make.await;
                $crate::contract::$name(&store).await;
            }
        )+
    };
}

async fn create(store: &dyn Store, accounts: &[Account]) {
    if let Err(error) = store.create_accounts(accounts).await {
        panic!("creating the fixture accounts failed: {error:?}");
    }
}

async fn get(store: &dyn Store, account: &Account) -> Option<Account> {
    store
        .get_account(&account.school, &account.id)
        .await
        .expect("get_account")
}

fn logins<'a>(accounts: impl IntoIterator<Item = &'a Account>) -> Vec<String> {
    accounts.into_iter().map(|a| a.login.to_string()).collect()
}

fn sorted(mut logins: Vec<String>) -> Vec<String> {
    logins.sort();
    logins
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The logins of `school` that `filter` lists in `sort` order, in one page of up
/// to 500, checking that the page's total and `count_accounts` agree with it.
async fn listed(store: &dyn Store, school: &str, filter: &AccountFilter, sort: Sort) -> Vec<String> {
    let query = AccountQuery {
        filter: filter.clone(),
        sort,
        after: None,
        limit: 500,
    };
    let page = store
        .list_accounts(&school_id(school), &query)
        .await
        .expect("list_accounts");
    assert!(!page.more, "one page of 500 holds every fixture");
    assert_eq!(page.total, page.items.len() as u64, "total of {filter:?}");
    let count = store
        .count_accounts(&school_id(school), filter)
        .await
        .expect("count_accounts");
    assert_eq!(count, page.total, "count_accounts of {filter:?}");
    logins(&page.items)
}
