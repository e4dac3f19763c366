//! End-to-end tests of the platform through its public interfaces: the HTTP API and the
//! `hotline` binary.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod api;
mod confidential;
mod distributed;
mod fixtures;
mod intake_limits;
mod logs;
mod notify;
mod people;
mod process;
mod procs;
mod support;
