//! The objects scripts are handed, in Auth0's shapes: a rule's `context` (reference §2.3)
//! and an action's `event` (§3). The `user` is [`User::to_auth0_json`]; what the user holds
//! (`context.authorization`, `event.authorization`) is filled in by the pipeline.

use serde_json::{Map, Value, json};

use super::Protocol;
use crate::events::RequestContext;
use crate::model::{Client, Connection, User};

/// What the scripts of a log-in learn about it.
#[derive(Clone, Copy)]
pub struct LoginFacts<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub connection: Option<&'a Connection>,
    pub protocol: Protocol,
    pub request: &'a RequestContext,
    /// The host name the server answers on (`context.request.hostname`, `auth0.domain`).
    pub hostname: &'a str,
    pub audience: Option<&'a str>,
    pub requested_scopes: &'a [String],
    pub granted_scopes: &'a [String],
    pub auth_time: i64,
}

fn string_map(map: &std::collections::BTreeMap<String, String>) -> Value {
    json!(map)
}

/// The parameters of the request, where a rule reads them (`query` for the authorization
/// request, `body` for the token request).
fn request(facts: &LoginFacts<'_>) -> Value {
    let mut params = Map::new();
    if let Some(audience) = facts.audience {
        params.insert("audience".into(), json!(audience));
    }
    params.insert("scope".into(), json!(facts.requested_scopes.join(" ")));
    params.insert("client_id".into(), json!(facts.client.client_id));
    let (query, body) = if facts.protocol.at_authorization_endpoint() {
        (Value::Object(params), json!({}))
    } else {
        params.insert("grant_type".into(), json!(facts.protocol.grant_type()));
        (json!({}), Value::Object(params))
    };
    json!({
        "ip": facts.request.ip,
        "userAgent": facts.request.user_agent,
        "hostname": facts.hostname,
        "query": query,
        "body": body,
        "geoip": {},
    })
}

fn authentication_methods(facts: &LoginFacts<'_>) -> Value {
    json!([{"name": "pwd", "timestamp": facts.auth_time * 1000}])
}

/// A rule's `context`, without `authorization`.
pub fn context(facts: &LoginFacts<'_>) -> Value {
    let connection = facts.connection;
    json!({
        "tenant": facts.hostname,
        "clientID": facts.client.client_id,
        "clientName": facts.client.name,
        "clientMetadata": string_map(&facts.client.client_metadata),
        "connection": facts.user.connection,
        "connectionID": connection.map(|c| c.id.clone()),
        "connectionStrategy": connection.map_or("auth0".to_owned(), |c| c.strategy.clone()),
        "connectionOptions": {},
        "connectionMetadata": {},
        "protocol": facts.protocol.auth0_name(),
        "stats": {"loginsCount": facts.user.logins_count},
        "request": request(facts),
        "idToken": {},
        "accessToken": {"scope": facts.granted_scopes},
        "authentication": {"methods": authentication_methods(facts)},
        "sso": {"with_auth0": false, "with_dbconn": false, "current_clients": []},
        "primaryUser": facts.user.user_id,
    })
}

/// An action's `event`, without `user`, `authorization` and `secrets`.
pub fn event(facts: &LoginFacts<'_>) -> Value {
    let connection = facts.connection;
    let request = request(facts);
    json!({
        "client": {
            "client_id": facts.client.client_id,
            "name": facts.client.name,
            "metadata": string_map(&facts.client.client_metadata),
        },
        "connection": {
            "id": connection.map(|c| c.id.clone()),
            "name": facts.user.connection,
            "strategy": connection.map_or("auth0".to_owned(), |c| c.strategy.clone()),
            "metadata": {},
        },
        "stats": {"logins_count": facts.user.logins_count},
        "request": {
            "ip": facts.request.ip,
            "hostname": facts.hostname,
            "user_agent": facts.request.user_agent,
            "method": if facts.protocol.at_authorization_endpoint() { "GET" } else { "POST" },
            "query": request["query"],
            "body": request["body"],
            "geoip": {},
        },
        "transaction": {
            "protocol": facts.protocol.auth0_name(),
            "requested_scopes": facts.requested_scopes,
        },
        "resource_server": facts.audience.map(|a| json!({"identifier": a})),
        "tenant": {"id": facts.hostname},
        "authentication": {"methods": authentication_methods(facts)},
    })
}
