//! OAuth 2.0: signing keys, token formats and grants (one file each).

pub mod access_token;
pub mod audience;
pub mod client_auth;
pub mod client_credentials;
pub mod error;
pub mod keyring;
pub mod keys;
pub mod scope;

pub use error::OAuthError;
