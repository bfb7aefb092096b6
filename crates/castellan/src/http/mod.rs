//! HTTP: routes, extractors, the guard, and the mapping of errors to responses.

pub mod authz;
pub mod body;
pub mod client_address;
pub mod console;
pub mod context;
pub mod cors;
pub mod dbconnections;
pub mod endpoint;
pub mod error;
pub mod guard;
pub mod input;
pub mod management;
pub mod oauth;
pub mod ops;
pub mod pages;
pub mod rate_limit;
pub mod redirect;
pub mod request_id;
pub mod serve;
pub mod wire_schema;
