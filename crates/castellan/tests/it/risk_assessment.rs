//! `context.riskAssessment` / `event.authentication.riskAssessment` (Auth0's Adaptive MFA
//! signals) from the tenant log's earlier log-ins: a known device, a new one, travel
//! faster than a plane, and an address the brute-force protection blocked.

use crate::common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use castellan::geoip::GeoIpDatabase;
use castellan::http::client_address::TrustedProxies;
use common::mmdb;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";
const CLAIM: &str = "https://example.com/risk";
const ACTION_CLAIM: &str = "https://example.com/action_risk";

/// A server with a GeoIP database placing 203.0.113.0/24 in Berlin and 198.51.100.0/24 in
/// New York, that takes the client's address from `X-Forwarded-For`.
async fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let mut settings = settings(url, dir.path().to_path_buf());
    let path = dir.path().join("GeoLite2-City.mmdb");
    let place = |country, city, at| mmdb::city(country, city, ("XX", "X"), at, "UTC", "EU");
    let berlin = place(("DE", "Germany"), "Berlin", (52.52, 13.40));
    let new_york = place(("US", "United States"), "New York", (40.71, -74.01));
    std::fs::write(
        &path,
        mmdb::database(&[
            (Ipv4Addr::new(203, 0, 113, 0), 24, berlin),
            (Ipv4Addr::new(198, 51, 100, 0), 24, new_york),
        ]),
    )
    .unwrap();
    settings.geoip_database = Some(GeoIpDatabase::open(&path).unwrap());
    settings.trusted_proxies = TrustedProxies::parse(&["127.0.0.1".to_owned()]).unwrap();
    TestServer::start_with(settings, Arc::new(dir)).await
}

/// Logs in from `address` with `agent`; the assessment the rule and the action saw.
async fn assessed(
    server: &TestServer,
    app: &(String, String),
    agent: &str,
    address: &str,
) -> (Value, Value) {
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .header("user-agent", agent)
        .header("x-forwarded-for", address)
        .json(&json!({
            "grant_type": REALM, "realm": DATABASE, "client_id": app.0,
            "client_secret": app.1, "username": "ada@example.com", "password": PASSWORD,
            "scope": "openid"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = claims(body["id_token"].as_str().unwrap());
    (id[CLAIM].clone(), id[ACTION_CLAIM].clone())
}

fn codes(assessment: &Value) -> (String, String, String, String) {
    let code = |name: &str| {
        assessment["assessments"][name]["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    (
        assessment["confidence"].as_str().unwrap().to_owned(),
        code("NewDevice"),
        code("ImpossibleTravel"),
        code("UntrustedIP"),
    )
}

#[tokio::test]
async fn risk_assessment_follows_the_users_earlier_log_ins() {
    let server = server().await;
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "app", "grant_types": [REALM]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let app = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    server.create_user("ada@example.com", json!({})).await;
    server
        .add_rule(
            "risk",
            &format!(
                "function (user, context, callback) {{ context.idToken['{CLAIM}'] = context.riskAssessment; callback(null, user, context); }}"
            ),
        )
        .await;
    let action = json!({"name": "risk", "supported_triggers": [{"id": "post-login"}],
        "code": format!("exports.onExecutePostLogin = async (event, api) => {{ api.idToken.setCustomClaim('{ACTION_CLAIM}', event.authentication.riskAssessment); }};")});
    let (status, created) = server
        .admin(Method::POST, "/actions/actions", Some(action))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    server
        .admin(Method::POST, &format!("/actions/actions/{id}/deploy"), None)
        .await;
    let bindings = json!({"bindings": [{"ref": {"type": "action_name", "value": "risk"}}]});
    let (status, body) = server
        .admin(
            Method::PATCH,
            "/actions/triggers/post-login/bindings",
            Some(bindings),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let own = |c: &str, n: &str, t: &str, u: &str| {
        (c.to_owned(), n.to_owned(), t.to_owned(), u.to_owned())
    };
    // The first log-in: nothing known.
    let (rule, action) = assessed(&server, &app, "Firefox/140", "203.0.113.7").await;
    assert_eq!(rule, action, "rules and actions see the same assessment");
    assert_eq!(rule["version"], "1");
    assert_eq!(
        codes(&rule),
        own(
            "low",
            "initial_login",
            "initial_login",
            "assessment_not_available"
        )
    );

    // An hour later, the same browser at the same address, and in Berlin again.
    server.clock.advance(3600);
    let (rule, _) = assessed(&server, &app, "Firefox/140", "203.0.113.7").await;
    assert_eq!(
        codes(&rule),
        own(
            "high",
            "match",
            "minimal_travel_from_last_login",
            "assessment_not_available"
        )
    );
    assert_eq!(
        rule["assessments"]["NewDevice"]["details"],
        json!({"device": "known", "useragent": "known"})
    );

    // Ten minutes later from New York, with another browser: a new device, and faster
    // than a plane.
    server.clock.advance(600);
    let (rule, _) = assessed(&server, &app, "Chrome/150", "198.51.100.9").await;
    assert_eq!(
        codes(&rule),
        own(
            "low",
            "no_match",
            "impossible_travel_from_last_login",
            "assessment_not_available"
        )
    );

    // Two days on, the known browser from New York is a partial match and possible travel.
    server.clock.advance(2 * 86_400);
    let (rule, _) = assessed(&server, &app, "Firefox/140", "198.51.100.10").await;
    assert_eq!(
        codes(&rule),
        own(
            "medium",
            "partial_match",
            "minimal_travel_from_last_login",
            "assessment_not_available"
        )
    );

    // Log-ins older than 30 days are forgotten.
    server.clock.advance(31 * 86_400);
    let (rule, _) = assessed(&server, &app, "Firefox/140", "203.0.113.7").await;
    assert_eq!(codes(&rule).1, "initial_login");
}

/// Scripts that do not read the assessment do not pay for it: `context.riskAssessment` is
/// there only when a script names it.
#[tokio::test]
async fn the_assessment_is_made_only_for_scripts_that_read_it() {
    let server = server().await;
    let (_, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "app", "grant_types": [REALM]})),
        )
        .await;
    let app = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    server.create_user("ada@example.com", json!({})).await;
    server
        .add_rule(
            "keys",
            &format!(
                "function (user, context, callback) {{ context.idToken['{CLAIM}'] = Object.keys(context).indexOf('risk' + 'Assessment') >= 0; callback(null, user, context); }}"
            ),
        )
        .await;
    let (rule, _) = assessed(&server, &app, "Firefox/140", "203.0.113.7").await;
    assert_eq!(rule, json!(false));
}
