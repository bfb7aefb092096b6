//! The Authentication API: token endpoint and discovery.

pub mod discovery;
pub mod revoke;
pub mod token;
pub mod userinfo;
