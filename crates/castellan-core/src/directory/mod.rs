//! Use cases behind the Management API (and later the Authorization API and the console):
//! validation and the store calls, shared by every wire contract.

pub mod actions;
pub mod authentication_methods;
pub mod bootstrap;
pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod default_assignments;
mod editor;
pub mod effective;
pub mod extension;
pub mod groups;
pub mod guardian;
pub mod logs;
pub mod password_policy;
pub mod resource_servers;
pub mod role_users;
pub mod roles;
pub mod rules;
pub mod rules_configs;
pub mod signup;
pub mod user_import;
pub mod user_permissions;
pub mod user_roles;
pub mod user_sessions;
pub mod users;
mod validate;

pub use editor::Editor;
