//! The store contract: every case in `cases` runs against SQLite (always, a fresh file per
//! case) and PostgreSQL (when `HOTLINE_TEST_PG_URL` is set, a fresh database per case, dropped
//! afterwards), as `sqlite::<case>` and `postgres::<case>`.
//!
//! ```text
//! cargo test -p hotline-store --test contract
//! HOTLINE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo test -p hotline-store --test contract
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cases;
mod duplicates;
mod fixtures;
mod harness;
mod people;
mod reference;
mod stats;
mod stored;

/// Instantiates each case once per engine.
macro_rules! contract_suite {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run_sqlite(crate::cases::$case).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run_postgres(stringify!($case), crate::cases::$case).await;
                }
            )+
        }
    };
}

contract_suite!(
    migrate_is_idempotent_and_ping_works,
    seed_units_once_sorted_by_code,
    concurrent_seeding_loads_units_once,
    submit_creates_received_appeal,
    submit_assigns_ticket_numbers,
    idempotent_resubmission_returns_same_appeal,
    idempotency_key_with_other_hash_conflicts,
    idempotency_keys_are_scoped_per_caller,
    concurrent_idempotent_submissions_create_one_appeal,
    concurrent_submissions_get_gapless_ticket_numbers,
    failed_submit_leaves_nothing_behind,
    a_failing_submission_takes_no_other_with_it,
    commit_stores_decisions,
    conflicting_commits_first_wins,
    concurrent_commits_exactly_one_wins,
    failed_commit_rolls_back_projection,
    event_log_is_append_only,
    every_event_has_an_outbox_row,
    list_filters_by_status_unit_and_channel,
    list_overdue,
    the_inbox_lists_open_appeals_by_the_deadline_that_counts,
    list_filters_by_the_user_who_submitted,
    list_pages_newest_first,
    timestamps_keep_microseconds,
    data_survives_reopen,
    commit_with_consumed_takes_effect_once,
    concurrent_consumers_take_effect_once,
    commit_all_keeps_each_decision_apart,
    outbox_relays_in_commit_order,
    relay_lease_is_exclusive,
    parked_deliveries_round_trip,
    unit_keywords_round_trip,
    timers_are_claimed_when_due_and_once_per_lease,
    timers_are_claimed_earliest_first_in_batches,
    concurrent_claimers_never_share_an_appeal,
    closed_appeals_have_no_timer,
    dispatch_queue_holds_received_and_returned_oldest_first,
    oversight_watches_the_late_the_unsigned_and_the_owned,
    users_are_added_listed_and_disabled,
    sign_in_credentials_lockout_and_sessions,
    revoked_tokens_are_remembered,
    events_keep_the_user_behind_them,
    one_appeal_is_read_within_its_scope,
    statistics_sum_the_facts_of_each_appeal,
    reference_data_is_seeded_once_saved_and_published,
    publishing_a_taxonomy_updates_its_units,
    concurrent_saves_get_distinct_numbers,
    duplicate_candidates_come_from_the_index,
    appeals_stored_before_the_index_are_indexed_when_migrating,
    imported_appeals_are_stored_indexed_and_not_announced,
);
