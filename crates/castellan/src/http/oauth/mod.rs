//! The Authentication API: token endpoint and discovery.

pub mod device;
pub mod discovery;
pub mod mfa;
pub mod params;
pub mod revoke;
pub mod token;
mod token_request;
pub mod userinfo;
