//! What a rule gets from the server besides the log-in: the `auth0` object as Auth0 gave
//! it (`auth0.baseUrl` and a Management API token limited to `read:users update:users`,
//! which the rule's `fetch` may use on this server with no allow-list), and
//! `context.request.geoip` (actions: `event.request.geoip`) from a MaxMind database.

use crate::common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use castellan::config::Settings;
use castellan::geoip::GeoIpDatabase;
use castellan::http::client_address::TrustedProxies;
use common::mmdb;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";
const PASSWORD: &str = "correct horse battery";
const NS: &str = "https://example.com/";

/// A server whose issuer is the address it listens on, as in production, so that
/// `auth0.baseUrl` reaches it.
async fn server_at_its_issuer(edit: impl FnOnce(&mut Settings, &std::path::Path)) -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let mut settings = settings(url, dir.path().to_path_buf());
    settings.listen = format!("127.0.0.1:{port}").parse().unwrap();
    settings.issuer = format!("http://127.0.0.1:{port}/");
    edit(&mut settings, dir.path());
    TestServer::start_with(settings, Arc::new(dir)).await
}

/// A client with the password grant; returns (client_id, client_secret).
async fn client(server: &TestServer) -> (String, String) {
    let (status, client) = server
        .admin(
            Method::POST,
            "/clients",
            Some(json!({"name": "app", "grant_types": [REALM]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    (
        client["client_id"].as_str().unwrap().into(),
        client["client_secret"].as_str().unwrap().into(),
    )
}

async fn rule(server: &TestServer, name: &str, script: &str) {
    let (status, body) = server
        .admin(
            Method::POST,
            "/rules",
            Some(json!({"name": name, "script": script})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
}

/// Creates, deploys and binds a post-login action.
async fn post_login_action(server: &TestServer, name: &str, code: &str) {
    let body = json!({"name": name, "supported_triggers": [{"id": "post-login"}], "code": code});
    let (status, action) = server
        .admin(Method::POST, "/actions/actions", Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{action}");
    let id = action["id"].as_str().unwrap();
    let (status, version) = server
        .admin(Method::POST, &format!("/actions/actions/{id}/deploy"), None)
        .await;
    assert!(status.is_success(), "{version}");
    let bindings = json!({"bindings": [{"ref": {"type": "action_name", "value": name}}]});
    let (status, body) = server
        .admin(
            Method::PATCH,
            "/actions/triggers/post-login/bindings",
            Some(bindings),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Logs in (from `forwarded_for` when given) and returns the ID token's claims.
async fn log_in(
    server: &TestServer,
    (client_id, secret): &(String, String),
    email: &str,
    forwarded_for: Option<&str>,
) -> Value {
    let mut request = server.http.post(server.url("/oauth/token")).json(&json!({
        "grant_type": REALM, "realm": DATABASE, "client_id": client_id,
        "client_secret": secret, "username": email, "password": PASSWORD,
        "scope": "openid"}));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    claims(body["id_token"].as_str().unwrap())
}

const READS_ITSELF: &str = r#"function (user, context, callback) {
  fetch(auth0.baseUrl + '/users/' + encodeURIComponent(user.user_id),
        {headers: {Authorization: 'Bearer ' + auth0.accessToken}})
    .then(function (r) { return r.json(); })
    .then(function (u) {
      context.idToken['https://example.com/email'] = u.email;
      context.idToken['https://example.com/base'] = auth0.baseUrl;
      context.idToken['https://example.com/token'] = auth0.accessToken;
      callback(null, user, context);
    })
    .catch(callback);
}"#;

const UPDATES_ITSELF: &str = r#"function (user, context, callback) {
  fetch(auth0.baseUrl + '/users/' + encodeURIComponent(user.user_id), {
    method: 'PATCH',
    headers: {Authorization: 'Bearer ' + auth0.accessToken, 'Content-Type': 'application/json'},
    body: JSON.stringify({user_metadata: {theme: 'dark'}})
  }).then(function (r) {
    context.idToken['https://example.com/patched'] = r.status;
    callback(null, user, context);
  }).catch(callback);
}"#;

/// The token does no more than Auth0's did.
const OVERREACHES: &str = r#"function (user, context, callback) {
  var auth = {Authorization: 'Bearer ' + auth0.accessToken};
  var answer = function (r) {
    return r.json().then(function (body) { return {status: r.status, message: body.message}; });
  };
  Promise.all([
    fetch(auth0.baseUrl + '/users/' + encodeURIComponent(user.user_id),
          {method: 'DELETE', headers: auth}).then(answer),
    fetch(auth0.baseUrl + '/clients', {headers: auth}).then(answer)
  ]).then(function (answers) {
    context.idToken['https://example.com/refused'] = answers;
    callback(null, user, context);
  }).catch(callback);
}"#;

// Several threads: the rule's `fetch` blocks a sandbox thread while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_call_the_management_api_with_auth0_access_token_and_no_allow_list() {
    let server = server_at_its_issuer(|_, _| {}).await;
    assert!(server.settings.scripts.fetch_allow.is_empty());
    let app = client(&server).await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap();
    rule(&server, "reads itself", READS_ITSELF).await;
    rule(&server, "updates itself", UPDATES_ITSELF).await;
    rule(&server, "overreaches", OVERREACHES).await;

    let id_token = log_in(&server, &app, "ada@example.com", None).await;
    assert_eq!(id_token[format!("{NS}email")], "ada@example.com");
    assert_eq!(
        id_token[format!("{NS}base")],
        format!("{}api/v2", server.settings.issuer)
    );
    let token = claims(id_token[format!("{NS}token")].as_str().unwrap());
    assert_eq!(token["sub"], "rules@clients");
    assert_eq!(token["scope"], "read:users update:users");
    assert_eq!(token["aud"], format!("{}api/v2/", server.settings.issuer));
    let lifetime = token["exp"].as_i64().unwrap() - token["iat"].as_i64().unwrap();
    assert!((1..=300).contains(&lifetime), "{lifetime}");

    assert_eq!(id_token[format!("{NS}patched")], 200);
    let (_, stored) = server
        .admin(Method::GET, &format!("/users/{}", encoded(user_id)), None)
        .await;
    assert_eq!(
        stored["user_metadata"],
        json!({"theme": "dark"}),
        "{stored}"
    );

    let refused = &id_token[format!("{NS}refused")];
    assert_eq!(refused[0]["status"], 403, "{refused}");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("delete:users"),
        "{refused}"
    );
    assert_eq!(refused[1]["status"], 403, "{refused}");
    assert!(
        refused[1]["message"]
            .as_str()
            .unwrap()
            .contains("read:clients"),
        "{refused}"
    );
    // The rules' token could not delete the user.
    let (status, _) = server
        .admin(Method::GET, &format!("/users/{}", encoded(user_id)), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// Auth0's own pattern: the Management SDK built from `auth0.domain` and
/// `auth0.accessToken` reaches this server (`auth0.baseUrl`), reads the user, updates
/// its metadata and gives it a role (`update:users` allows both).
const THROUGH_THE_SDK: &str = r#"function (user, context, callback) {
  var ManagementClient = require('auth0@2.x').ManagementClient;
  var management = new ManagementClient({token: auth0.accessToken, domain: auth0.domain});
  management.getUser({id: user.user_id})
    .then(function (found) {
      context.idToken['https://example.com/sdk_email'] = found.email;
      return management.updateAppMetadata({id: user.user_id}, {plan: 'gold'});
    })
    .then(function () {
      return management.assignRolestoUser({id: user.user_id}, {roles: [configuration.ROLE_ID]});
    })
    .then(function () { callback(null, user, context); })
    .catch(callback);
}"#;

// Several threads: the rule's `fetch` blocks a sandbox thread while the server answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_sdk_reaches_this_server_with_auth0_access_token() {
    let server = server_at_its_issuer(|_, _| {}).await;
    let app = client(&server).await;
    let user = server.create_user("ada@example.com", json!({})).await;
    let user_id = user["user_id"].as_str().unwrap();
    let (status, role) = server
        .admin(Method::POST, "/roles", Some(json!({"name": "member"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    let (status, body) = server
        .admin(
            Method::PUT,
            "/rules-configs/ROLE_ID",
            Some(json!({"value": role["id"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rule(&server, "through the sdk", THROUGH_THE_SDK).await;

    let id_token = log_in(&server, &app, "ada@example.com", None).await;
    assert_eq!(id_token[format!("{NS}sdk_email")], "ada@example.com");
    let path = format!("/users/{}", encoded(user_id));
    let (_, stored) = server.admin(Method::GET, &path, None).await;
    assert_eq!(stored["app_metadata"]["plan"], "gold", "{stored}");
    let (_, roles) = server
        .admin(Method::GET, &format!("{path}/roles"), None)
        .await;
    assert_eq!(roles[0]["name"], "member", "{roles}");
}

#[tokio::test]
async fn context_request_geoip_comes_from_the_maxmind_database() {
    let server = server_at_its_issuer(|settings, dir| {
        let path = dir.join("GeoLite2-City.mmdb");
        let berlin = mmdb::city(
            ("DE", "Germany"),
            "Berlin",
            ("BE", "Land Berlin"),
            (52.5196, 13.4069),
            "Europe/Berlin",
            "EU",
        );
        std::fs::write(
            &path,
            mmdb::database(&[(Ipv4Addr::new(203, 0, 113, 0), 24, berlin)]),
        )
        .unwrap();
        settings.geoip_database = Some(GeoIpDatabase::open(&path).unwrap());
        // Tests connect from loopback and say where the user is.
        settings.trusted_proxies = TrustedProxies::parse(&["127.0.0.1".to_owned()]).unwrap();
    })
    .await;
    let app = client(&server).await;
    server.create_user("ada@example.com", json!({})).await;
    rule(
        &server,
        "where from",
        "function (user, context, callback) {\n\
           context.idToken['https://example.com/country'] = context.request.geoip.country_code;\n\
           context.idToken['https://example.com/geoip'] = context.request.geoip;\n\
           callback(null, user, context);\n\
         }",
    )
    .await;
    post_login_action(
        &server,
        "where from",
        "exports.onExecutePostLogin = async (event, api) => {\n\
           api.idToken.setCustomClaim('https://example.com/action_geoip', event.request.geoip);\n\
         };",
    )
    .await;

    let id_token = log_in(&server, &app, "ada@example.com", Some("203.0.113.7")).await;
    assert_eq!(id_token[format!("{NS}country")], "DE");
    assert_eq!(
        id_token[format!("{NS}geoip")],
        json!({"country_code": "DE", "country_code3": "DEU", "country_name": "Germany",
               "city_name": "Berlin", "latitude": 52.5196, "longitude": 13.4069,
               "time_zone": "Europe/Berlin", "continent_code": "EU",
               "subdivision_code": "BE", "subdivision_name": "Land Berlin"})
    );
    assert_eq!(
        id_token[format!("{NS}action_geoip")],
        json!({"countryCode": "DE", "countryCode3": "DEU", "countryName": "Germany",
               "cityName": "Berlin", "latitude": 52.5196, "longitude": 13.4069,
               "timeZone": "Europe/Berlin", "continentCode": "EU",
               "subdivisionCode": "BE", "subdivisionName": "Land Berlin"})
    );
    let elsewhere = log_in(&server, &app, "ada@example.com", Some("198.51.100.1")).await;
    assert_eq!(elsewhere[format!("{NS}geoip")], json!({}));
    assert_eq!(elsewhere[format!("{NS}action_geoip")], json!({}));
    assert!(elsewhere.get(format!("{NS}country")).is_none());
}

#[test]
fn a_geoip_database_that_does_not_open_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mmdb");
    let error = GeoIpDatabase::open(&missing).unwrap_err();
    assert!(error.contains("missing.mmdb"), "{error}");
    let garbage = dir.path().join("garbage.mmdb");
    std::fs::write(&garbage, b"not a database").unwrap();
    let error = GeoIpDatabase::open(&garbage).unwrap_err();
    assert!(error.contains("garbage.mmdb"), "{error}");
    assert!(error.contains("not a MaxMind database"), "{error}");
}
