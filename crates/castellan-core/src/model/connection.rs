use super::Named;

/// The database connection every tenant has from its first start.
pub const DATABASE_CONNECTION: &str = "Username-Password-Authentication";

/// A source of users. Only the `auth0` (database) strategy exists so far; `options` keeps
/// whatever else Auth0 tooling sends, so it round-trips.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub strategy: String,
    pub options: serde_json::Value,
    pub enabled_clients: Vec<String>,
    pub default_assignments: Option<DefaultAssignments>,
}

/// Roles and groups every user of a connection receives once, at the moment `on` names.
/// Kept as the administrator wrote them (names or ids) and resolved when applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultAssignments {
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub on: AssignOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignOn {
    #[default]
    Signup,
    FirstLogin,
    EmailVerified,
}

impl Named for AssignOn {
    const ALL: &'static [Self] = &[Self::Signup, Self::FirstLogin, Self::EmailVerified];

    fn name(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::FirstLogin => "first_login",
            Self::EmailVerified => "email_verified",
        }
    }
}
