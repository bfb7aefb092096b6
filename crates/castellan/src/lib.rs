//! The `castellan` binary as a library, so integration tests can start the real router.

#![forbid(unsafe_code)]

mod admin_cli;
pub mod app;
pub mod cli;
pub mod config;
mod demo;
pub mod geoip;
pub mod http;
mod import;
pub mod mail;
pub mod master_key;
mod rules_test;
mod script_engine;
pub mod telemetry;
pub mod tenant_config;
