//! The Authorization Extension API (v2-compatible) at `/authz/api`, the extension's base URL:
//! machine-to-machine tokens for `urn:auth0-authz-api` with the extension's code-level
//! scopes, its status codes (200 on POST, 204 on PATCH and DELETE), its envelopes and its
//! error shape. Ids on this API are GUIDs; Castellan's `rol_…`/`grp_…` ids work too.

mod applications;
mod configuration;
pub mod document;
pub mod error;
mod extract;
mod groups;
mod permissions;
mod roles;
mod users;
mod wire;

use super::endpoint::ProtectedApi;
use super::guard::Protected;
use super::wire_schema::Shape;
use error::AuthzErrorBody;

pub const PREFIX: &str = "/authz/api";

pub fn api() -> ProtectedApi {
    ProtectedApi {
        title: "Castellan Authorization Extension API",
        prefix: PREFIX,
        protected: Protected::Authz,
        endpoints: [
            groups::endpoints(),
            roles::endpoints(),
            permissions::endpoints(),
            users::endpoints(),
            configuration::endpoints(),
            applications::endpoints(),
        ]
        .into_iter()
        .flatten()
        .collect(),
        error: Shape::of::<AuthzErrorBody>(),
    }
}
