//! The `castellan` binary as a library, so integration tests can start the real router.

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
mod import;
pub mod mail;
pub mod master_key;
mod rules_test;
pub mod telemetry;
