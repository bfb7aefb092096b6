//! OAuth 2.0: signing keys, token formats and grants (one file each).

pub mod access_claims;
pub mod access_token;
pub mod audience;
pub mod authorization_code;
pub mod client_auth;
pub mod client_credentials;
pub mod device_code;
pub mod error;
pub mod keyring;
pub mod keys;
pub mod mfa_grant;
pub mod password;
pub mod refresh;
pub mod scope;
mod second_factor;
pub mod token_request;
pub mod user_tokens;

pub use error::{MissingParameter, OAuthError};
