//! Management API v2 (Auth0-compatible subset) at `/api/v2/`: wire shapes over
//! `castellan_core::directory`, every route with its declared scopes.

mod actions;
mod authentication_methods;
mod client_grants;
mod clients;
mod connections;
mod effective;
mod fields;
mod groups;
mod guardian;
mod keys;
mod logs;
mod paging;
mod permission_wire;
mod resource_servers;
mod role_users;
mod roles;
mod rules;
mod rules_configs;
mod user_permissions;
mod user_roles;
mod user_sessions;
mod users;

use castellan_core::directory::bootstrap::AdminGuard;

use super::endpoint::ProtectedApi;
use super::error::ManagementErrorBody;
use super::guard::Protected;
use super::wire_schema::Shape;
use crate::app::AppState;

pub const PREFIX: &str = "/api/v2";

/// What keeps the configured bootstrap administrator from locking itself out.
pub(crate) fn admin_guard(s: &AppState) -> AdminGuard {
    let configured = s.settings.bootstrap.as_ref().map(|(id, _)| id.as_str());
    AdminGuard::new(configured, &s.settings.issuer)
}

pub fn api() -> ProtectedApi {
    ProtectedApi {
        title: "Castellan Management API v2",
        prefix: PREFIX,
        protected: Protected::Management,
        endpoints: [
            clients::endpoints(),
            resource_servers::endpoints(),
            client_grants::endpoints(),
            connections::endpoints(),
            roles::endpoints(),
            user_roles::endpoints(),
            user_sessions::endpoints(),
            authentication_methods::endpoints(),
            guardian::endpoints(),
            users::endpoints(),
            user_permissions::endpoints(),
            role_users::endpoints(),
            logs::endpoints(),
            rules::endpoints(),
            rules_configs::endpoints(),
            actions::endpoints(),
            groups::endpoints(),
            effective::endpoints(),
            keys::endpoints(),
        ]
        .into_iter()
        .flatten()
        .collect(),
        error: Shape::of::<ManagementErrorBody>(),
    }
}
