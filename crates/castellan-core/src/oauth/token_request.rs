//! What a client asks of the token endpoint, one variant per grant, in the shape each
//! grant takes. The front end reads the wire into it; the grants never see raw parameters.

use super::MissingParameter;
use super::authorization_code::{self, CodeExchange};
use super::client_credentials::{self, ClientCredentialsRequest};
use super::device_code::{self, DeviceCodeExchange};
use super::mfa_grant::MfaGrantRequest;
use super::password::{PasswordGrant, PasswordGrantRequest};
use super::refresh::{self, RefreshRequest};

/// A grant's parameters, or the first required one that is missing. The grant answers a
/// missing parameter only once it has checked that the client may use it, the order
/// clients have always seen, so the gap travels with the request until then.
pub type Params<T> = Result<T, MissingParameter>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    AuthorizationCode(Params<CodeExchange>),
    Password(PasswordGrant, Params<PasswordGrantRequest>),
    RefreshToken(Params<RefreshRequest>),
    ClientCredentials(ClientCredentialsRequest),
    DeviceCode(Params<DeviceCodeExchange>),
    /// One of Auth0's MFA grants, by its `grant_type`.
    Mfa(&'static str, Params<MfaGrantRequest>),
}

impl TokenRequest {
    /// The `grant_type` as the client sent it.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::AuthorizationCode(_) => authorization_code::GRANT_TYPE,
            Self::Password(grant, _) => grant.grant_type(),
            Self::RefreshToken(_) => refresh::GRANT_TYPE,
            Self::ClientCredentials(_) => client_credentials::GRANT_TYPE,
            Self::DeviceCode(_) => device_code::GRANT_TYPE,
            Self::Mfa(grant_type, _) => grant_type,
        }
    }
}
