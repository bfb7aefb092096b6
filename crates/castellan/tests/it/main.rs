//! Every integration test of the server, linked once: one binary instead of one per file.
//! Each module is what was a test file; the shared helpers are `common` and the support
//! modules beside it.

mod authz_support;
mod common;
mod import_support;
mod real_binary;

mod access_tokens;
mod actions_api;
mod admin_cli;
mod api_documents;
mod authorize_flow;
mod authz_api;
mod authz_import;
mod binary;
mod browser;
mod brute_force;
mod compat;
mod config_as_code;
mod connections;
mod console;
mod cors;
mod default_assignments;
mod device;
mod effective_authorization;
mod import;
mod key_rotation_cluster;
mod keys;
mod logs_api;
mod management_api;
mod memory;
mod metrics;
mod password_change;
mod password_login;
mod postgres_cluster;
mod rate_limits;
mod recovery;
mod redirect_rules;
mod response_modes;
mod risk_assessment;
mod role_users_api;
mod roles;
mod rules_api;
mod rules_environment;
mod rules_pipeline;
mod scopes;
mod signing_keys_api;
mod smtp;
mod store_faults;
mod system_api_user_tokens;
mod tls;
mod token_endpoint;
mod unstorable_input;
mod user_permissions_api;
mod users_api;
