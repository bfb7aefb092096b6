//! Castellan's domain: entities, storage traits and use cases.
//!
//! This crate must not import HTTP, SQL or JavaScript-engine crates; the binary maps
//! its errors to wire shapes and the store crate implements its traits.

#![forbid(unsafe_code)]

pub mod audit;
pub mod clock;
pub mod directory;
pub mod error;
pub mod events;
pub mod housekeeping;
pub mod ids;
pub mod login;
pub mod mfa;
pub mod model;
pub mod oauth;
pub mod oidc;
pub mod paging;
pub mod passwords;
pub mod scripts;
pub mod search;
pub mod secrets;
pub mod store;
pub mod system_apis;
pub mod text;

pub use error::{Error, Result};
