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
}
