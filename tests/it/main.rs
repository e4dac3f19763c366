//! End-to-end tests of the platform through its public interfaces: the HTTP API and the
//! `hotline` binary.

mod api;
mod process;
mod support;
