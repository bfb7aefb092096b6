//! Migrations embedded in the binary, one list per backend. Both folders must hold the same
//! versions under the same names (a test checks), so the schemas never drift apart.

use sqlx::migrate::{Migration, MigrationType, Migrator};

pub struct Embedded {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! embedded {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Embedded {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

pub const SQLITE: &[Embedded] = embedded!("sqlite": 1 "0001_foundation", 2 "0002_users", 3 "0003_grants", 4 "0004_mail", 5 "0005_roles", 6 "0006_user_roles", 7 "0007_authorization", 8 "0008_user_search", 9 "0009_authorization_generation", 10 "0010_actions", 11 "0011_script_generation", 12 "0012_sessions_by_user", 13 "0013_code_redemption", 14 "0014_login_failure_time", 15 "0015_signing_key_schedule", 16 "0016_readiness", 17 "0017_client_allowed_origins", 18 "0018_device_codes", 19 "0019_client_refresh_token", 20 "0020_consents", 21 "0021_login_redirects", 22 "0022_mfa", 26 "0026_refresh_mfa");
pub const POSTGRES: &[Embedded] = embedded!("postgres": 1 "0001_foundation", 2 "0002_users", 3 "0003_grants", 4 "0004_mail", 5 "0005_roles", 6 "0006_user_roles", 7 "0007_authorization", 8 "0008_user_search", 9 "0009_authorization_generation", 10 "0010_actions", 11 "0011_script_generation", 12 "0012_sessions_by_user", 13 "0013_code_redemption", 14 "0014_login_failure_time", 15 "0015_signing_key_schedule", 16 "0016_readiness", 17 "0017_client_allowed_origins", 18 "0018_device_codes", 19 "0019_client_refresh_token", 20 "0020_consents", 21 "0021_login_redirects", 22 "0022_mfa", 26 "0026_refresh_mfa");

pub fn migrator(list: &[Embedded]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|m| {
                Migration::new(
                    m.version,
                    m.name.into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(m.sql),
                    false,
                )
            })
            .collect(),
    )
}
