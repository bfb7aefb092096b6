//! Entities. They carry no wire shapes: the HTTP layer has its own request and response types.

mod action;
mod authenticator;
mod client;
mod client_grant;
mod connection;
mod extension;
mod grants;
mod group;
mod log_event;
mod mail;
mod origin;
mod resource_server;
mod role;
mod rule;
mod signing_key;
mod user;

pub use action::{Action, ActionBinding, ActionSecret, ActionVersion, DeployedAction, Trigger};
pub use authenticator::{Authenticator, AuthenticatorKind};
pub use client::{
    AppType, Client, ExpirationType, RefreshTokenSettings, RotationType, TokenEndpointAuthMethod,
};
pub use client_grant::ClientGrant;
pub use connection::{AssignOn, Connection, DATABASE_CONNECTION, DefaultAssignments};
pub use extension::{
    ExtensionConfiguration, ExtensionData, ExtensionPermission, Policy, RoleRecord,
};
pub use grants::{
    AuthMethod, AuthorizationCode, DeviceCode, DeviceDecision, LoginRedirect, RefreshToken, Session,
};
pub use group::{GrantedRole, Group, GroupMapping, GroupRecord, NestedMember};
pub use log_event::LogEvent;
pub use mail::{Mail, Ticket, TicketKind};
pub use origin::check_listed_origin;
pub use resource_server::{ResourceServer, Scope, SigningAlg, TokenDialect};
pub use role::{HeldPermission, Permission, PermissionSource, Role};
pub use rule::Rule;
pub use signing_key::{KeyRole, SigningKeyRecord};
pub use user::{Auth0User, Identity, User};

/// A value that must be one of a fixed set of names on the wire and in storage.
pub trait Named: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == text)
    }

    fn expected() -> String {
        Self::ALL
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
