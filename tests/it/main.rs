//! End-to-end tests of the platform through its public interfaces: the HTTP API and the
//! `hotline` binary.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Instantiates each named `async fn(&TestServer)` once per engine, as `sqlite::<name>` and
/// `postgres::<name>`.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = crate::support::TestServer::start(crate::support::Engine::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(&server).await;
                    server.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(server) =
                        crate::support::TestServer::start(crate::support::Engine::Postgres).await
                    {
                        super::$name(&server).await;
                        server.stop().await;
                    }
                }
            )*
        }
    };
}

mod access;
mod api;
#[path = "../common/broker.rs"]
mod broker;
mod browser;
mod confidential;
mod console;
mod console_desk;
mod console_oversight;
mod console_reference;
mod distributed;
mod duplicates;
mod fixtures;
mod intake_limits;
mod logs;
mod notes;
mod notify;
mod people;
mod places;
mod process;
mod procs;
mod support;
