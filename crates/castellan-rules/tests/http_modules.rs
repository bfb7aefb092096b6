//! The HTTP client modules of Auth0's rule runtime (`request`, `request-promise`, `axios`,
//! `node-fetch`, the `auth0` SDK) over the sandbox's `fetch`, against a local server that
//! records what it got: the request each module makes, what the rule sees of the answer,
//! statuses outside 2xx, refused destinations, and callbacks that run after the rule
//! called back. Three of Auth0's rule templates run: one unmodified, two with only their
//! service URLs pointed at the local server.

#[path = "support/http_wire.rs"]
mod http_wire;
#[path = "support/recording_server.rs"]
mod recording_server;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use castellan_rules::{AllowList, Effect, Limits, Sandbox, ScriptError, Setup, WorkerProgram};
use recording_server::{Reply, Seen, Server};
use serde_json::{Value, json};

fn sandbox(server: &Server) -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        per_login: Duration::from_secs(10),
        fetch_allow: AllowList::new(&[server.base()]),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

/// A template of Auth0's gallery (`gallery/templates/`, MIT, origin in
/// `gallery/ORIGIN.md`).
fn gallery_template(name: &str) -> String {
    let path = format!(
        "{}/tests/gallery/templates/{name}.js",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// A rule's source with `BASE` replaced by the server's address.
fn at(server: &Server, source: &str) -> String {
    source.replace("BASE", &server.base())
}

async fn run(server: &Server, rule: &str) -> Result<Value, ScriptError> {
    sandbox(server)
        .run_rule(
            "http",
            &at(server, rule),
            json!({"user_id": "auth0|1"}),
            json!({}),
        )
        .await
        .map(|outcome| outcome.user)
}

/// The answers of the server most tests use.
fn api(seen: &Seen) -> Reply {
    match seen.path.as_str() {
        "/missing" => Reply::json(
            404,
            json!({"error": "Not Found", "message": "no such thing"}),
        ),
        "/text" => Reply::text(200, "plain words"),
        _ => Reply::json(
            200,
            json!({"echo": seen.path, "method": seen.method, "query": seen.query}),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_sends_query_json_form_and_auth_and_hands_back_the_answer() {
    let server = Server::start(api).await;
    let user = run(&server, r#"function (user, context, callback) {
  const request = require('request');
  request.post({
    url: 'BASE/contacts?keep=1',
    qs: { list: 'new members', tags: ['a', 'b'] },
    json: { email: 'jane@example.com' },
    auth: { user: 'api', pass: 's3cret' },
  }, function (err, response, body) {
    user.first = { err: err, status: response.statusCode, message: response.statusMessage,
      type: response.headers['content-type'], served: response.headers['x-served-by'],
      body: body, href: response.request.uri.href, same: response.body === body };
    const api = request.defaults({ baseUrl: 'BASE/v2/', auth: { bearer: 't0ken' }, headers: { 'X-Tenant': 'acme' } });
    api.put('things/1', { form: { name: "O'Brien & co", n: 2 } }, function (err, response, body) {
      user.second = { err: err, status: response.statusCode, body: body };
      request('BASE/text', function (err, response, body) {
        user.third = { body: body, status: response.statusCode };
        callback(null, user, context);
      });
    });
  });
}"#)
    .await
    .unwrap();

    let contacts = server.only("POST", "/contacts");
    assert_eq!(
        contacts.query,
        "keep=1&list=new%20members&tags%5B0%5D=a&tags%5B1%5D=b"
    );
    assert_eq!(contacts.header("content-type"), Some("application/json"));
    assert_eq!(contacts.header("accept"), Some("application/json"));
    assert_eq!(
        contacts.header("authorization"),
        Some("Basic YXBpOnMzY3JldA==")
    );
    assert_eq!(contacts.json(), json!({"email": "jane@example.com"}));
    assert_eq!(
        user["first"],
        json!({"err": null, "status": 200, "message": "OK",
            "type": "application/json; charset=utf-8", "served": "recording",
            "body": {"echo": "/contacts", "method": "POST",
                "query": "keep=1&list=new%20members&tags%5B0%5D=a&tags%5B1%5D=b"},
            "href": format!("{}/contacts?keep=1&list=new%20members&tags%5B0%5D=a&tags%5B1%5D=b", server.base()),
            "same": true})
    );

    let thing = server.only("PUT", "/v2/things/1");
    assert_eq!(
        thing.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(thing.body, "name=O%27Brien%20%26%20co&n=2");
    assert_eq!(thing.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(thing.header("x-tenant"), Some("acme"));
    // Without `json`, the body is the text.
    assert_eq!(user["second"]["status"], 200);
    assert!(
        user["second"]["body"]
            .as_str()
            .unwrap()
            .contains("\"/v2/things/1\"")
    );
    assert_eq!(user["third"], json!({"body": "plain words", "status": 200}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_hands_other_statuses_as_responses_and_refusals_as_errors() {
    let server = Server::start(api).await;
    let user = run(
        &server,
        r#"function (user, context, callback) {
  const request = require('request');
  request.get({ url: 'BASE/missing', json: true }, function (err, response, body) {
    user.missing = { err: err, status: response.statusCode, body: body };
    request.get('https://api.hubapi.com/contacts', function (err, response) {
      user.refused = { message: err && err.message, response: response === undefined };
      request.get('not a url', function (err) {
        user.invalid = err.message;
        callback(null, user, context);
      });
    });
  });
}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        user["missing"],
        json!({"err": null, "status": 404, "body": {"error": "Not Found", "message": "no such thing"}})
    );
    assert_eq!(
        user["refused"],
        json!({"message": "fetch to api.hubapi.com is not allowed", "response": true})
    );
    assert_eq!(user["invalid"], "Invalid URI \"not a url\"");
    assert_eq!(server.seen().len(), 1);
}

/// As in Node, the callback runs after the code that started the request has returned, and
/// an error it throws is not swallowed: nothing catches it, so it fails the rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_callback_runs_later_and_what_it_throws_fails_the_rule() {
    let server = Server::start(api).await;
    let user = run(&server, r#"function (user, context, callback) {
  const order = [];
  require('request')('BASE/text', function () { order.push('callback'); user.order = order; callback(null, user, context); });
  order.push('returned');
}"#)
    .await
    .unwrap();
    assert_eq!(user["order"], json!(["returned", "callback"]));

    let thrown = run(
        &server,
        r#"function (user, context, callback) {
  require('request').get('BASE/text', function (err, response, body) {
    throw new Error('the service said ' + body);
  });
}"#,
    )
    .await;
    match thrown {
        Err(ScriptError::Threw { message, .. }) => {
            assert_eq!(message, "the service said plain words")
        }
        other => panic!("{other:?}"),
    }
}

/// The shape of many templates: the rule calls back at once, and the request's callback
/// records a change after it; the change counts and the request was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_in_a_request_callback_after_the_rule_called_back_counts() {
    let server =
        Server::start(|seen: &Seen| Reply::json(200, json!({"vid": 4711, "got": seen.json()})))
            .await;
    let outcome = sandbox(&server)
        .run_rule(
            "early callback",
            &at(&server, r#"function (user, context, callback) {
  const request = require('request');
  user.app_metadata = user.app_metadata || {};
  request.post({ url: 'BASE/crm/contacts', json: { email: user.email } }, function (err, response, body) {
    user.app_metadata.crm_id = body.vid;
    auth0.users.updateAppMetadata(user.user_id, user.app_metadata);
  });
  callback(null, user, context);
}"#),
            json!({"user_id": "auth0|7", "email": "jane@example.com"}),
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        server.only("POST", "/crm/contacts").json(),
        json!({"email": "jane@example.com"})
    );
    assert_eq!(
        outcome.effects,
        vec![Effect::UpdateAppMetadata {
            user_id: "auth0|7".into(),
            value: json!({"crm_id": 4711}),
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_promise_resolves_the_body_and_rejects_other_statuses() {
    let server = Server::start(api).await;
    let user = run(&server, r#"async function (user, context, callback) {
  const rp = require('request-promise');
  user.body = await rp.post('BASE/score', { body: { ip: '10.0.0.1' }, json: true, timeout: 3000 });
  const full = await rp({ uri: 'BASE/text', resolveWithFullResponse: true });
  user.full = { status: full.statusCode, body: full.body };
  try {
    await rp({ uri: 'BASE/missing', json: true });
  } catch (e) {
    user.rejected = { name: e.name, statusCode: e.statusCode, message: e.message, error: e.error, isError: e instanceof Error };
  }
  const lenient = await rp({ uri: 'BASE/missing', simple: false, resolveWithFullResponse: true });
  user.lenient = lenient.statusCode;
  try {
    await rp('https://api.example.com/score');
  } catch (e) {
    user.refused = { name: e.name, message: e.message, cause: e.cause.message };
  }
  user.same = require('request-promise-native@1.0.9') !== undefined;
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    let score = server.only("POST", "/score");
    assert_eq!(score.json(), json!({"ip": "10.0.0.1"}));
    assert_eq!(score.header("content-type"), Some("application/json"));
    assert_eq!(
        user["body"],
        json!({"echo": "/score", "method": "POST", "query": ""})
    );
    assert_eq!(user["full"], json!({"status": 200, "body": "plain words"}));
    assert_eq!(
        user["rejected"],
        json!({"name": "StatusCodeError", "statusCode": 404,
            "message": "404 - {\"error\":\"Not Found\",\"message\":\"no such thing\"}",
            "error": {"error": "Not Found", "message": "no such thing"}, "isError": true})
    );
    assert_eq!(user["lenient"], 404);
    assert_eq!(
        user["refused"],
        json!({"name": "RequestError", "message": "Error: fetch to api.example.com is not allowed",
            "cause": "fetch to api.example.com is not allowed"})
    );
    assert_eq!(user["same"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axios_sends_its_config_and_rejects_statuses_it_does_not_accept() {
    let server = Server::start(api).await;
    let user = run(&server, r#"async function (user, context, callback) {
  const axios = require('axios@0.21.1');
  const posted = await axios.post('BASE/exchange', { token: 'abc' }, {
    params: { state: 'x y', ids: [1, 2] },
    headers: { Authorization: 'Caisson key' },
  });
  user.posted = { status: posted.status, statusText: posted.statusText, data: posted.data,
    type: posted.headers['content-type'], method: posted.config.method };
  const form = await axios({ method: 'post', url: 'BASE/token', data: new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' }),
    auth: { username: 'api', password: 's3cret' } });
  user.form = form.status;
  const text = await axios.get('BASE/text');
  user.text = text.data;
  try {
    await axios.get('BASE/missing');
  } catch (e) {
    user.rejected = { message: e.message, isAxiosError: e.isAxiosError, status: e.response.status,
      data: e.response.data, helper: axios.isAxiosError(e) };
  }
  const accepted = await axios.get('BASE/missing', { validateStatus: (status) => status < 500 });
  user.accepted = accepted.status;
  const client = axios.create({ baseURL: 'BASE/api/v1/', headers: { 'X-Api-Key': 'k1' } });
  client.interceptors.request.use((config) => { config.headers['X-Trace'] = 'seen'; return config; });
  client.interceptors.response.use((response) => { response.data.intercepted = true; return response; });
  const got = await client.get('/profiles', { params: { q: 'jane' } });
  user.client = got.data;
  try {
    await axios.get('https://api.seczetta.example/risk');
  } catch (e) {
    user.refused = { message: e.message, isAxiosError: e.isAxiosError, response: e.response === undefined };
  }
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    let exchange = server.only("POST", "/exchange");
    assert_eq!(exchange.query, "state=x+y&ids[]=1&ids[]=2");
    assert_eq!(
        exchange.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    assert_eq!(exchange.header("authorization"), Some("Caisson key"));
    assert_eq!(
        exchange.header("accept"),
        Some("application/json, text/plain, */*")
    );
    assert_eq!(exchange.json(), json!({"token": "abc"}));
    assert_eq!(
        user["posted"],
        json!({"status": 200, "statusText": "OK",
            "data": {"echo": "/exchange", "method": "POST", "query": "state=x+y&ids[]=1&ids[]=2"},
            "type": "application/json; charset=utf-8", "method": "post"})
    );
    let token = server.only("POST", "/token");
    assert_eq!(
        token.header("content-type"),
        Some("application/x-www-form-urlencoded;charset=utf-8")
    );
    assert_eq!(token.body, "grant_type=client_credentials&scope=a+b");
    assert_eq!(
        token.header("authorization"),
        Some("Basic YXBpOnMzY3JldA==")
    );
    assert_eq!(user["form"], 200);
    assert_eq!(user["text"], "plain words");
    assert_eq!(
        user["rejected"],
        json!({"message": "Request failed with status code 404", "isAxiosError": true, "status": 404,
            "data": {"error": "Not Found", "message": "no such thing"}, "helper": true})
    );
    assert_eq!(user["accepted"], 404);
    let profiles = server.only("GET", "/api/v1/profiles");
    assert_eq!(profiles.query, "q=jane");
    assert_eq!(profiles.header("x-api-key"), Some("k1"));
    assert_eq!(profiles.header("x-trace"), Some("seen"));
    assert_eq!(user["client"]["intercepted"], true);
    assert_eq!(
        user["refused"],
        json!({"message": "fetch to api.seczetta.example is not allowed", "isAxiosError": true, "response": true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_fetch_and_the_global_fetch_speak_the_fetch_api() {
    let server = Server::start(api).await;
    let user = run(&server, r#"async function (user, context, callback) {
  const fetch = require('node-fetch@2.6.0');
  const url = 'BASE/customers.json'.replace('http://', 'http://shop:pw%20d@');
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ customer: { email: 'jane@example.com' } }) });
  const names = [];
  res.headers.forEach((value, name) => names.push(name));
  user.created = { ok: res.ok, status: res.status, type: res.headers.get('Content-Type'),
    has: res.headers.has('x-served-by'), raw: res.headers.raw()['x-served-by'], names: names,
    body: await res.json(), isResponse: res instanceof fetch.Response, same: fetch.default === fetch };
  try { await res.text(); } catch (e) { user.twice = e instanceof TypeError; }
  const missing = await fetch('BASE/missing');
  user.missing = { ok: missing.ok, status: missing.status, text: await missing.text() };
  const bytes = await (await fetch('BASE/text')).arrayBuffer();
  user.bytes = bytes.byteLength;
  const form = await globalThis.fetch('BASE/oauth/token', { method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'c1' }) });
  user.form = form.status;
  const headers = new Headers({ 'X-One': '1' });
  headers.append('x-one', '2');
  user.headers = { one: headers.get('x-one'), entries: Array.from(headers.entries()) };
  try {
    await fetch('https://shop.example/admin');
  } catch (e) {
    user.refused = { name: e.name, message: e.message };
  }
  callback(null, user, context);
}"#)
    .await
    .unwrap();
    let created = server.only("POST", "/customers.json");
    assert_eq!(created.header("authorization"), Some("Basic c2hvcDpwdyBk"));
    assert_eq!(created.header("content-type"), Some("application/json"));
    assert_eq!(created.header("accept"), Some("*/*"));
    assert_eq!(
        created.json(),
        json!({"customer": {"email": "jane@example.com"}})
    );
    assert_eq!(
        user["created"],
        json!({"ok": true, "status": 200, "type": "application/json; charset=utf-8", "has": true,
            "raw": ["recording"], "names": ["connection", "content-length", "content-type", "x-served-by"],
            "body": {"echo": "/customers.json", "method": "POST", "query": ""},
            "isResponse": true, "same": true})
    );
    assert_eq!(user["twice"], true);
    assert_eq!(
        user["missing"],
        json!({"ok": false, "status": 404, "text": "{\"error\":\"Not Found\",\"message\":\"no such thing\"}"})
    );
    assert_eq!(user["bytes"], "plain words".len());
    let form = server.only("POST", "/oauth/token");
    assert_eq!(
        form.header("content-type"),
        Some("application/x-www-form-urlencoded;charset=UTF-8")
    );
    assert_eq!(form.body, "grant_type=client_credentials&client_id=c1");
    assert_eq!(user["form"], 200);
    assert_eq!(
        user["headers"],
        json!({"one": "1, 2", "entries": [["x-one", "1, 2"]]})
    );
    assert_eq!(
        user["refused"],
        json!({"name": "FetchError",
            "message": "request to https://shop.example/admin failed, reason: fetch to shop.example is not allowed"})
    );
}

/// A first rule stands in for the server, which gives rules `auth0.accessToken` and
/// `auth0.baseUrl` (its Management API's address).
const MANAGEMENT_SETUP: &str = r#"function (user, context, callback) {
  auth0.baseUrl = 'BASE/api/v2';
  auth0.accessToken = 'mgmt-token';
  callback(null, user, context);
}"#;

async fn run_with_management(
    server: &Server,
    rule: &str,
    user: Value,
    context: Value,
) -> Result<castellan_rules::RuleOutcome, ScriptError> {
    let sandbox = sandbox(server);
    let mut session = sandbox.open(Setup {
        domain: "tenant.example.com".into(),
        ..Setup::default()
    });
    let rules = [
        ("setup".to_owned(), at(server, MANAGEMENT_SETUP)),
        ("management".to_owned(), at(server, rule)),
    ];
    session
        .run_rules(&rules, user, context)
        .await
        .map(|batch| batch.outcome)
}

fn management_api(seen: &Seen) -> Reply {
    if seen.header("authorization") != Some("Bearer mgmt-token")
        && seen.header("authorization") != Some("Bearer from-client-credentials")
        && seen.path != "/oauth/token"
    {
        return Reply::json(
            401,
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"}),
        );
    }
    match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/oauth/token") => Reply::json(
            200,
            json!({"access_token": "from-client-credentials", "expires_in": 86400, "token_type": "Bearer"}),
        ),
        ("GET", "/api/v2/users/auth0%7Cgone") => Reply::json(
            404,
            json!({"statusCode": 404, "error": "Not Found", "message": "The user does not exist.", "errorCode": "inexistent_user"}),
        ),
        ("GET", "/api/v2/users/auth0%7C1") => Reply::json(
            200,
            json!({"user_id": "auth0|1", "email": "jane@example.com"}),
        ),
        ("PATCH", path) if path.starts_with("/api/v2/users/") => {
            let mut user = json!({"user_id": "auth0|1"});
            for (k, v) in seen.json().as_object().unwrap() {
                user[k] = v.clone();
            }
            Reply::json(200, user)
        }
        ("GET", "/api/v2/users") => {
            Reply::json(200, json!([{"user_id": "auth0|1"}, {"user_id": "auth0|2"}]))
        }
        ("GET", "/api/v2/users-by-email") => Reply::json(200, json!([{"user_id": "auth0|1"}])),
        ("GET", "/api/v2/users/auth0%7C1/roles") => {
            Reply::json(200, json!([{"id": "rol_1", "name": "admin"}]))
        }
        ("POST" | "DELETE", "/api/v2/users/auth0%7C1/roles") => Reply::text(204, ""),
        ("GET", "/api/v2/roles") => Reply::json(
            200,
            json!([{"id": "rol_1", "name": "admin"}, {"id": "rol_2", "name": "viewer"}]),
        ),
        ("POST", "/api/v2/users/auth0%7C1/identities") => {
            Reply::json(201, json!([{"provider": "auth0"}, {"provider": "github"}]))
        }
        ("DELETE", "/api/v2/users/auth0%7C1/identities/github/123") => {
            Reply::json(200, json!([{"provider": "auth0"}]))
        }
        _ => Reply::json(
            404,
            json!({"statusCode": 404, "error": "Not Found", "message": "no route"}),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_client_calls_the_api_with_the_bearer_token() {
    let server = Server::start(management_api).await;
    let outcome = run_with_management(&server, r#"async function (user, context, callback) {
  const { ManagementClient } = require('auth0@2.30.0');
  const management = new ManagementClient({ domain: auth0.domain, token: auth0.accessToken });
  const seen = {};
  seen.user = (await management.users.get({ id: 'auth0|1' })).email;
  seen.getUser = (await management.getUser({ id: 'auth0|1' })).user_id;
  seen.search = (await management.getUsers({ q: 'email:"jane@example.com"', search_engine: 'v3', per_page: 10, page: 0 })).length;
  seen.byEmail = (await management.getUsersByEmail('jane@example.com'))[0].user_id;
  seen.updated = (await management.users.update({ id: 'auth0|1' }, { given_name: 'Jane' })).given_name;
  seen.app = (await management.updateAppMetadata({ id: 'auth0|1' }, { plan: 'gold' })).app_metadata;
  seen.meta = (await management.updateUserMetadata({ id: 'auth0|1' }, { color: 'blue' })).user_metadata;
  seen.roles = (await management.users.getRoles({ id: 'auth0|1' })).map((r) => r.name);
  await management.users.assignRoles({ id: 'auth0|1' }, { roles: ['rol_2'] });
  await management.users.removeRoles({ id: 'auth0|1' }, { roles: ['rol_1'] });
  seen.allRoles = (await management.roles.getAll()).length;
  seen.linked = (await management.linkUsers('auth0|1', { provider: 'github', user_id: '123' })).length;
  seen.unlinked = (await management.unlinkUsers({ id: 'auth0|1', provider: 'github', user_id: '123' })).length;
  try {
    await management.getUser({ id: 'auth0|gone' });
  } catch (e) {
    seen.error = { message: e.message, statusCode: e.statusCode, name: e.name, original: e.originalError instanceof Error };
  }
  try {
    await new ManagementClient({ domain: 'elsewhere.example', token: 't' }).getUser({ id: 'auth0|1' });
  } catch (e) {
    seen.refused = e.message;
  }
  try {
    new ManagementClient({ domain: auth0.domain });
  } catch (e) {
    seen.argument = { name: e.name, message: e.message };
  }
  // The callback form: called later, with (err, value), and the method returns nothing.
  const returned = management.updateUser({ id: 'auth0|1' }, { family_name: 'Doe' }, function (err, updated) {
    seen.callback = { err: err, family_name: updated.family_name, returned: returned === undefined };
    user.seen = seen;
    callback(null, user, context);
  });
}"#, json!({"user_id": "auth0|1"}), json!({}))
    .await
    .unwrap();
    let seen = &outcome.user["seen"];
    assert_eq!(seen["user"], "jane@example.com");
    assert_eq!(seen["getUser"], "auth0|1");
    assert_eq!(seen["search"], 2);
    assert_eq!(seen["byEmail"], "auth0|1");
    assert_eq!(seen["updated"], "Jane");
    assert_eq!(seen["app"], json!({"plan": "gold"}));
    assert_eq!(seen["meta"], json!({"color": "blue"}));
    assert_eq!(seen["roles"], json!(["admin"]));
    assert_eq!(seen["allRoles"], 2);
    assert_eq!(seen["linked"], 2);
    assert_eq!(seen["unlinked"], 1);
    assert_eq!(
        seen["error"],
        json!({"message": "The user does not exist.", "statusCode": 404, "name": "Not Found", "original": true})
    );
    assert_eq!(seen["refused"], "fetch to elsewhere.example is not allowed");
    assert_eq!(
        seen["argument"],
        json!({"name": "ArgumentError", "message": "Must provide a clientId"})
    );
    assert_eq!(
        seen["callback"],
        json!({"err": null, "family_name": "Doe", "returned": true})
    );

    let all = server.seen();
    assert!(
        all.iter()
            .all(|s| s.header("authorization") == Some("Bearer mgmt-token")),
        "{all:?}"
    );
    let search = server.only("GET", "/api/v2/users");
    assert_eq!(
        search.query,
        "q=email%3A%22jane%40example.com%22&search_engine=v3&per_page=10&page=0"
    );
    assert_eq!(
        server.only("GET", "/api/v2/users-by-email").query,
        "email=jane%40example.com"
    );
    let patches: Vec<Value> = all
        .iter()
        .filter(|s| s.method == "PATCH")
        .map(|s| {
            assert_eq!(s.path, "/api/v2/users/auth0%7C1");
            assert_eq!(s.header("content-type"), Some("application/json"));
            s.json()
        })
        .collect();
    assert_eq!(
        patches,
        vec![
            json!({"given_name": "Jane"}),
            json!({"app_metadata": {"plan": "gold"}}),
            json!({"user_metadata": {"color": "blue"}}),
            json!({"family_name": "Doe"}),
        ]
    );
    assert_eq!(
        server.only("POST", "/api/v2/users/auth0%7C1/roles").json(),
        json!({"roles": ["rol_2"]})
    );
    assert_eq!(
        server
            .only("DELETE", "/api/v2/users/auth0%7C1/roles")
            .json(),
        json!({"roles": ["rol_1"]})
    );
    assert_eq!(
        server
            .only("POST", "/api/v2/users/auth0%7C1/identities")
            .json(),
        json!({"provider": "github", "user_id": "123"})
    );
    server.only("DELETE", "/api/v2/users/auth0%7C1/identities/github/123");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_management_client_gets_a_token_by_client_credentials_first() {
    let server = Server::start(management_api).await;
    let outcome = run_with_management(&server, r#"function (user, context, callback) {
  const ManagementClient = require('auth0').ManagementClient;
  const management = new ManagementClient({ domain: auth0.domain, clientId: 'm2m', clientSecret: 'shh', scope: 'read:users' });
  management.getUser({ id: 'auth0|1' })
    .then(() => management.getUser({ id: 'auth0|1' }))
    .then((found) => { user.found = found.email; callback(null, user, context); })
    .catch((e) => callback(e));
}"#, json!({"user_id": "auth0|1"}), json!({}))
    .await
    .unwrap();
    assert_eq!(outcome.user["found"], "jane@example.com");
    let token = server.only("POST", "/oauth/token");
    assert_eq!(
        token.json(),
        json!({"grant_type": "client_credentials", "client_id": "m2m", "client_secret": "shh",
            "audience": "https://tenant.example.com/api/v2/", "scope": "read:users"})
    );
    let reads: Vec<Seen> = server
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET")
        .collect();
    assert_eq!(reads.len(), 2);
    // The token is asked for once and used for both calls.
    assert!(
        reads
            .iter()
            .all(|s| s.header("authorization") == Some("Bearer from-client-credentials"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0s_migrate_root_attributes_template_updates_the_user_through_the_sdk() {
    let server = Server::start(management_api).await;
    let outcome = run_with_management(
        &server,
        &gallery_template("migrate-root-attributes"),
        json!({"user_id": "auth0|1", "user_metadata": {"given_name": "Jane", "color": "blue"}}),
        json!({}),
    )
    .await
    .unwrap();
    let patch = server.only("PATCH", "/api/v2/users/auth0%7C1");
    assert_eq!(patch.header("authorization"), Some("Bearer mgmt-token"));
    assert_eq!(
        patch.json(),
        json!({"user_metadata": {"given_name": null}, "given_name": "Jane"})
    );
    assert_eq!(outcome.user["given_name"], "Jane");
    assert_eq!(outcome.user["user_metadata"], json!({"color": "blue"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0s_mixpanel_template_sends_the_event() {
    let server = Server::start(|_: &Seen| Reply::text(200, "1")).await;
    let sandbox = sandbox(&server);
    let mut configuration = serde_json::Map::new();
    configuration.insert("MIXPANEL_API_TOKEN".into(), json!("mp-token"));
    let mut session = sandbox.open(Setup {
        configuration,
        domain: "tenant.example.com".into(),
        ..Setup::default()
    });
    session
        .run_rule(
            "mixpanel",
            // Its URL `http://api.mixpanel.com/track/` becomes the local server's `/track/`;
            // nothing else changes (`gallery_services.rs` runs templates unmodified).
            &gallery_template("mixpanel-track-event")
                .replace("http://api.mixpanel.com", &server.base()),
            json!({"user_id": "auth0|5"}),
            json!({"clientName": "Travel0"}),
        )
        .await
        .unwrap();
    let track = server.only("GET", "/track/");
    let encoded = track.query.strip_prefix("data=").expect("a data parameter");
    let decoded = STANDARD.decode(percent_decode(encoded)).unwrap();
    let event: Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(
        event,
        json!({"event": "Sign In", "properties": {"distinct_id": "auth0|5", "token": "mp-token", "application": "Travel0"}})
    );
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
