//! The bus contract: every case in `cases` runs against the in-process bus (always) and
//! RabbitMQ (when `HOTLINE_TEST_AMQP_URL` is set; each case under a prefix of its own whose
//! exchange and queues are deleted afterwards), as `in_process::<case>` and
//! `rabbitmq::<case>`; a few cases concern one backend only.
//!
//! ```text
//! cargo test -p hotline-bus --test contract
//! HOTLINE_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f \
//!     cargo test -p hotline-bus --test contract
//! ```

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Polls `condition` (an expression that may `.await`) every few milliseconds until it holds;
/// fails the test after `limit`. (A macro: async closures would not keep the case `Send`.)
macro_rules! eventually {
    ($what:expr, $limit:expr, $condition:expr $(,)?) => {{
        let limit: std::time::Duration = $limit;
        let waited = tokio::time::timeout(limit, async {
            while !($condition) {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(
            waited.is_ok(),
            "timed out after {limit:?} waiting for {}",
            $what
        );
    }};
}

mod cases;
mod fixtures;
mod harness;
mod in_process_cases;
mod rabbit_cases;

/// The retry policy of a case: the short default unless the case names one.
macro_rules! policy {
    () => {
        crate::harness::fast_retry()
    };
    ($policy:expr) => {
        $policy
    };
}

/// Instantiates the shared cases once per backend, and the backend-specific ones.
macro_rules! contract_suite {
    (
        both { $($case:ident $(=> $policy:expr)?),+ $(,)? }
        in_process_only { $($ip_case:ident),* $(,)? }
        rabbitmq_only { $($mq_case:ident $(=> $mq_policy:expr)?),* $(,)? }
    ) => {
        mod in_process {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run_in_process(policy!($($policy)?), crate::cases::$case).await;
                }
            )+
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $ip_case() {
                    crate::harness::run_in_process(
                        policy!(),
                        crate::in_process_cases::$ip_case,
                    )
                    .await;
                }
            )*
        }

        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    crate::harness::run_rabbitmq(
                        stringify!($case),
                        policy!($($policy)?),
                        crate::cases::$case,
                    )
                    .await;
                }
            )+
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $mq_case() {
                    crate::harness::run_rabbitmq(
                        stringify!($mq_case),
                        policy!($($mq_policy)?),
                        crate::rabbit_cases::$mq_case,
                    )
                    .await;
                }
            )*

            /// Needs no broker, so it always runs.
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn shutdown_while_broker_unreachable() {
                crate::rabbit_cases::shutdown_while_broker_unreachable().await;
            }
        }
    };
}

contract_suite! {
    both {
        delivers_to_bound_groups_once_in_order,
        unbound_events_are_accepted_and_dropped,
        transient_failures_are_retried_then_succeed,
        failures_are_parked_and_the_rest_flows,
        an_unknown_event_is_parked_and_the_rest_flows,
        published_without_consumer_is_held_until_one_runs,
        restarted_consumer_loses_nothing,
        shutdown_returns_promptly,
        shutdown_interrupts_retry_backoff => crate::cases::slow_retry(),
        watchers_see_what_is_published,
        waiting_deliveries_come_in_batches_in_order,
    }
    in_process_only {
        failed_parking_is_not_acknowledged,
        group_is_consumed_once_per_process,
    }
    rabbitmq_only {
        topology_exists_after_declare,
        durable_queues_keep_messages_until_consumed,
        retries_wait_in_delay_queues => crate::rabbit_cases::watchable_retry(),
        malformed_messages_are_parked,
    }
}
