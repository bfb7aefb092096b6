//! Auth0's "MFA API" audience, `{issuer}mfa/`: a user's own access token for managing
//! their factors (`enroll`, `read:authenticators`, `remove:authenticators`). It is no
//! stored API: it exists for every tenant, only users hold tokens for it, and asking for
//! it always asks for a second factor first (Auth0: "When https://{yourDomain}/mfa/ is
//! specified as the audience, MFA is enforced"), so that a password alone never removes
//! or adds a factor of a user who has one.

use crate::model::{ResourceServer, Scope};

pub const ENROLL: &str = "enroll";
pub const READ: &str = "read:authenticators";
pub const REMOVE: &str = "remove:authenticators";

pub fn identifier(issuer: &str) -> String {
    format!("{issuer}mfa/")
}

/// The stand-in API that a user's token for the audience is minted for.
pub fn resource_server(issuer: &str) -> ResourceServer {
    let mut api = ResourceServer::new(String::new(), "MFA API".into(), identifier(issuer));
    api.scopes = [ENROLL, READ, REMOVE]
        .iter()
        .map(|v| Scope {
            value: (*v).to_owned(),
            description: String::new(),
        })
        .collect();
    // Auth0's fixed lifetime for the audience, as for the mfa_token.
    api.token_lifetime = super::token::LIFETIME;
    api
}
