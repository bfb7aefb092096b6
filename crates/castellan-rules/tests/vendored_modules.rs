//! The npm packages bundled for `require`, used by rules the way Auth0's templates use them.

use std::time::Duration;

use castellan_rules::{Limits, Sandbox, ScriptError, WorkerProgram};
use serde_json::{Value, json};

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        per_login: Duration::from_secs(10),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

async fn run_with(rule: &str, context: Value) -> Result<Value, ScriptError> {
    sandbox()
        .run_rule("vendored", rule, json!({"user_id": "auth0|1"}), context)
        .await
        .map(|outcome| outcome.user)
}

async fn run(rule: &str) -> Value {
    run_with(rule, json!({})).await.unwrap()
}

#[tokio::test]
async fn lodash_gets_merges_and_dedups() {
    let user = run(r#"function (user, context, callback) {
  const _ = require('lodash');
  const profile = { identities: [{ provider: 'github', profileData: { login: 'octo' } }] };
  user.login = _.get(profile, 'identities[0].profileData.login');
  user.missing = _.get(profile, 'identities[3].profileData.login', 'none');
  user.merged = _.merge({ app: { roles: ['a'], plan: 'free' } }, { app: { plan: 'pro', seats: 3 } });
  user.unique = _.uniq(['admin', 'user', 'admin', 'auditor', 'user']);
  user.pinned = require('lodash@4.17.19') === _;
  user.version = _.VERSION;
  _.unset({}, '__proto__.toString');
  user.prototypeKept = typeof ({}).toString === 'function';
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["login"], "octo");
    assert_eq!(user["missing"], "none");
    assert_eq!(
        user["merged"],
        json!({"app": {"roles": ["a"], "plan": "pro", "seats": 3}})
    );
    assert_eq!(user["unique"], json!(["admin", "user", "auditor"]));
    assert_eq!(user["pinned"], true);
    assert_eq!(user["version"], "4.17.23");
    assert_eq!(
        user["prototypeKept"], true,
        "lodash before 4.17.23 deletes it"
    );
}

#[tokio::test]
async fn moment_formats_adds_and_diffs() {
    let user = run(r#"function (user, context, callback) {
  const moment = require('moment@2.11.2');
  const start = moment.utc('2024-02-28T12:00:00Z');
  user.later = start.clone().add(2, 'days').format('dddd, MMMM Do YYYY, HH:mm');
  user.days = moment.utc('2024-03-01').diff(moment.utc('2024-01-01'), 'days');
  user.unix = moment('2024-02-28T12:00:00Z').unix();
  user.iso = start.clone().add(3, 'months').toISOString();
  user.expired = moment.utc('2020-01-01').subtract(1, 'days').isAfter(moment());
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["later"], "Friday, March 1st 2024, 12:00");
    assert_eq!(user["days"], 60);
    assert_eq!(user["unix"], 1_709_121_600);
    assert_eq!(user["iso"], "2024-05-28T12:00:00.000Z");
    assert_eq!(user["expired"], false);
}

#[tokio::test]
async fn moment_timezone_converts_an_instant_and_shares_moment() {
    let user = run(r#"function (user, context, callback) {
  const moment = require('moment-timezone');
  const at = '2024-07-01T12:00:00Z';
  user.newYork = moment.tz(at, 'America/New_York').format();
  user.tokyo = moment.tz(at, 'Asia/Tokyo').format();
  user.winter = moment.tz('2024-01-15T12:00:00Z', 'America/New_York').format();
  user.signup = moment.tz('2016-03-01T12:00:00Z', 'America/New_York').format();
  user.same = moment === require('moment') && typeof require('moment').tz === 'function';
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["newYork"], "2024-07-01T08:00:00-04:00");
    assert_eq!(user["tokyo"], "2024-07-01T21:00:00+09:00");
    assert_eq!(user["winter"], "2024-01-15T07:00:00-05:00");
    assert_eq!(user["signup"], "2016-03-01T07:00:00-05:00");
    assert_eq!(user["same"], true);
}

#[tokio::test]
async fn xmldom_and_xpath_read_a_saml_attribute_and_soap_roles() {
    let user = run(r#"function (user, context, callback) {
  const xmldom = require('xmldom');
  const xpath = require('xpath');
  const saml = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">' +
    '<saml:Assertion><saml:AttributeStatement>' +
    '<saml:Attribute Name="email"><saml:AttributeValue>jd@example.com</saml:AttributeValue></saml:Attribute>' +
    '<saml:Attribute Name="department"><saml:AttributeValue>Finance</saml:AttributeValue></saml:Attribute>' +
    '</saml:AttributeStatement></saml:Assertion></samlp:Response>';
  const doc = new xmldom.DOMParser().parseFromString(saml, 'text/xml');
  const select = xpath.useNamespaces({ saml: 'urn:oasis:names:tc:SAML:2.0:assertion' });
  user.department = select("string(//saml:Attribute[@Name='department']/saml:AttributeValue)", doc);
  user.names = select('//saml:Attribute/@Name', doc).map((a) => a.value);
  const soap = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>' +
    '<GetRolesResponse xmlns="http://tempuri.org"><GetRolesResult xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays">' +
    '<a:string>admin</a:string><a:string>auditor</a:string></GetRolesResult></GetRolesResponse></s:Body></s:Envelope>';
  const parsed = new xmldom.DOMParser().parseFromString(soap);
  user.roles = xpath.select("//*[local-name(.)='string']", parsed).map((node) => node.textContent);
  user.serialized = new xmldom.XMLSerializer().serializeToString(parsed.documentElement.firstChild.firstChild.firstChild.firstChild);
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["department"], "Finance");
    assert_eq!(user["names"], json!(["email", "department"]));
    assert_eq!(user["roles"], json!(["admin", "auditor"]));
    assert_eq!(
        user["serialized"],
        r#"<a:string xmlns:a="http://schemas.microsoft.com/2003/10/Serialization/Arrays">admin</a:string>"#
    );
}

#[tokio::test]
async fn ipaddr_matches_the_request_ip_against_a_cidr_as_the_guardian_template_does() {
    let rule = r#"function (user, context, callback) {
  const ipaddr = require('ipaddr.js');
  const corp_network = '192.168.1.134/26';
  const current_ip = ipaddr.parse(context.request.ip);
  user.inside = current_ip.match(ipaddr.parseCIDR(corp_network));
  user.kind = current_ip.kind();
  user.v6 = ipaddr.parse('2001:db8::1').match(ipaddr.parseCIDR('2001:db8::/32'));
  user.mapped = ipaddr.process('::ffff:10.1.2.3').toString();
  user.valid = ipaddr.isValid('300.1.1.1');
  callback(null, user, context);
}"#;
    let inside = run_with(rule, json!({"request": {"ip": "192.168.1.130"}}))
        .await
        .unwrap();
    assert_eq!(inside["inside"], true);
    assert_eq!(inside["kind"], "ipv4");
    assert_eq!(inside["v6"], true);
    assert_eq!(inside["mapped"], "10.1.2.3");
    assert_eq!(inside["valid"], false);
    let outside = run_with(rule, json!({"request": {"ip": "192.168.1.200"}}))
        .await
        .unwrap();
    assert_eq!(outside["inside"], false);
}

#[tokio::test]
async fn querystring_parses_and_stringifies_as_node_does() {
    let user = run(r#"function (user, context, callback) {
  const querystring = require('querystring');
  user.minfraud = querystring.parse('distance=12;riskScore=0.5;ip_city=Paris', ';');
  user.query = querystring.stringify({ a: 'x y', b: ['1', '2'], c: 'é&=' });
  user.repeated = querystring.parse('role=a&role=b&empty=');
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(
        user["minfraud"],
        json!({"distance": "12", "riskScore": "0.5", "ip_city": "Paris"})
    );
    assert_eq!(user["query"], "a=x%20y&b=1&b=2&c=%C3%A9%26%3D");
    assert_eq!(user["repeated"], json!({"role": ["a", "b"], "empty": ""}));
}

#[tokio::test]
async fn url_parses_formats_and_gives_the_whatwg_classes() {
    let user = run(r#"function (user, context, callback) {
  const url = require('url');
  const u = url.parse('https://s.gravatar.com/avatar/abc.png?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png', true);
  user.hostname = u.hostname;
  user.fallback = u.query.d;
  delete u.search;
  u.query.d = 'mm';
  user.picture = url.format(u);
  user.flat = url.parse('https://x.example.com/?a[b]=1', true).query;
  user.callbackURL = require('url@0.10.3').format({
    protocol: 'https', hostname: 'eva.example.com', pathname: '/server/oauth/callback',
    query: { state: 'abc def', a: ['1', '2'] },
  });
  user.resolved = url.resolve('https://a.example.com/one/two', '../three?x=1');
  const { URLSearchParams } = require('url');
  user.form = new url.URLSearchParams({ grant_type: 'authorization_code', code: 'x y' }).toString();
  user.same = URLSearchParams === globalThis.URLSearchParams && require('url').URL === URL;
  user.redirect = new url.URL('/auth0?x=1', 'https://i.vouched.id').href;
  user.idn = url.parse('http://mañana.example/').hostname;
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["hostname"], "s.gravatar.com");
    assert_eq!(user["fallback"], "https://cdn.auth0.com/avatars/jd.png");
    assert_eq!(
        user["picture"],
        "https://s.gravatar.com/avatar/abc.png?s=480&r=pg&d=mm"
    );
    assert_eq!(user["flat"], json!({"a[b]": "1"}));
    assert_eq!(
        user["callbackURL"],
        "https://eva.example.com/server/oauth/callback?state=abc%20def&a=1&a=2"
    );
    assert_eq!(user["resolved"], "https://a.example.com/three?x=1");
    assert_eq!(user["form"], "grant_type=authorization_code&code=x+y");
    assert_eq!(user["same"], true);
    assert_eq!(user["redirect"], "https://i.vouched.id/auth0?x=1");
    assert_eq!(user["idn"], "xn--maana-pta.example");
}

#[tokio::test]
async fn events_util_assert_and_punycode_behave_as_node_builtins() {
    let user = run(r#"function (user, context, callback) {
  const EventEmitter = require('events');
  const emitter = new EventEmitter.EventEmitter();
  const seen = [];
  emitter.on('login', (who, count) => seen.push(who + ':' + count));
  emitter.once('login', (who) => seen.push('once ' + who));
  emitter.emit('login', 'jd', 1);
  emitter.emit('login', 'jd', 2);
  user.seen = seen;
  user.listeners = emitter.listenerCount('login');
  const util = require('util');
  user.formatted = util.format('%s has %d roles: %j', 'jd', 2, ['a', 'b']);
  user.inspected = util.inspect({ a: [1, { b: 'c' }] });
  function Child() { EventEmitter.call(this); }
  util.inherits(Child, EventEmitter);
  user.inherits = new Child() instanceof EventEmitter;
  user.promisified = typeof util.promisify((cb) => cb(null, 1)) === 'function';
  const assert = require('assert');
  try { assert.strictEqual(1, 2, 'roles differ'); } catch (e) { user.assertion = e.name + ': ' + e.message; }
  assert.deepStrictEqual({ a: [1] }, { a: [1] });
  user.punycode = require('punycode').toASCII('mañana.com');
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["seen"], json!(["jd:1", "once jd", "jd:2"]));
    assert_eq!(user["listeners"], 1);
    assert_eq!(user["formatted"], r#"jd has 2 roles: ["a","b"]"#);
    assert_eq!(user["inspected"], "{ a: [ 1, { b: 'c' } ] }");
    assert_eq!(user["inherits"], true);
    assert_eq!(user["promisified"], true);
    assert_eq!(user["assertion"], "AssertionError: roles differ");
    assert_eq!(user["punycode"], "xn--maana-pta.com");
}

// Needs the `crypto` module (`createHmac`), which the rt-crypto branch adds.
#[tokio::test]
async fn oauth_sign_signs_as_the_twitter_template_does() {
    let user = run(r#"function (user, context, callback) {
  const oauth = require('oauth-sign');
  const params = {
    status: 'Hello Ladies + Gentlemen, a signed OAuth request!',
    include_entities: 'true',
    oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
    oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: '1318622958',
    oauth_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    oauth_version: '1.0',
  };
  user.signature = oauth.hmacsign('POST', 'https://api.twitter.com/1.1/statuses/update.json', params,
    'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw', 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE');
  user.escaped = oauth.rfc3986("a b!*'()~");
  callback(null, user, context);
}"#)
    .await;
    // The signature of Twitter's own documented example request.
    assert_eq!(user["signature"], "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    assert_eq!(user["escaped"], "a%20b%21%2A%27%28%29~");
}

// Needs the `crypto` module (`randomBytes`), which the rt-crypto branch adds.
#[tokio::test]
async fn uuid_v4_ids_are_random_and_well_formed() {
    let user = run(r#"function (user, context, callback) {
  const uuid = require('uuid');
  const ids = [];
  for (let i = 0; i < 50; i++) ids.push(i % 2 ? uuid() : uuid.v4());
  user.ids = ids;
  user.nonce = uuid.v4().replace(/-/g, '');
  user.v1 = uuid.v1();
  callback(null, user, context);
}"#)
    .await;
    let v4 = regex_like(
        "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx",
        &user["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect::<Vec<_>>(),
    );
    assert!(v4, "{}", user["ids"]);
    let mut ids: Vec<_> = user["ids"].as_array().unwrap().clone();
    ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    ids.dedup();
    assert_eq!(ids.len(), 50, "ids repeat");
    let nonce = user["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 32);
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(user["v1"].as_str().unwrap().as_bytes()[14], b'1');
}

/// A Slack webhook: answers `ok` and hands over the body of each request it gets.
async fn slack_hook() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then as many bytes as it announces.
            while let Ok(n) = socket.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        let _ = sender.send(text[end + 4..].to_owned());
                        break;
                    }
                }
            }
            let response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (port, receiver)
}

// Needs the `request` module, which the rt-http branch adds.
#[tokio::test]
async fn slack_notify_posts_its_message_as_the_slack_template_does() {
    let (port, mut bodies) = slack_hook().await;
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        fetch_allow: castellan_rules::AllowList::new(&[format!("http://127.0.0.1:{port}")]),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let rule = format!(
        r#"function (user, context, callback) {{
  const slack = require('slack-notify')('http://127.0.0.1:{port}/hook');
  slack.success({{ text: 'New User: ' + user.email, channel: '#signups', fields: {{ plan: 'pro' }} }}, (error) => {{
    user.sent = !error;
    callback(null, user, context);
  }});
}}"#
    );
    let user = sandbox
        .run_rule(
            "slack",
            &rule,
            json!({"email": "jd@example.com"}),
            json!({}),
        )
        .await
        .unwrap()
        .user;
    assert_eq!(user["sent"], true);
    let body = bodies.recv().await.unwrap();
    let payload: Value = url_form_value(&body, "payload")
        .and_then(|p| serde_json::from_str(&p).ok())
        .unwrap_or_else(|| panic!("no payload in {body}"));
    assert_eq!(payload["text"], "New User: jd@example.com");
    assert_eq!(payload["channel"], "#signups");
    assert_eq!(payload["username"], "Hoorah");
    assert_eq!(
        payload["attachments"][0]["fields"][0],
        json!({"title": "plan", "value": "pro", "short": true})
    );
}

/// The value of `name` in an `application/x-www-form-urlencoded` body.
fn url_form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(&value.replace('+', " ")))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether every id has the shape of `pattern`: `x` a lowercase hex digit, `V` one of the
/// variant digits `8`, `9`, `a`, `b`, anything else itself.
fn regex_like(pattern: &str, ids: &[&str]) -> bool {
    ids.iter().all(|id| {
        id.len() == pattern.len()
            && id.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
                b'x' => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
                b'V' => matches!(c, b'8' | b'9' | b'a' | b'b'),
                _ => c == p,
            })
    })
}

/// Requires every module `require` knows in one rule, under the default memory limit.
fn every_module_rule() -> String {
    let names: Vec<&str> = castellan_rules::available_modules()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    format!(
        r#"function (user, context, callback) {{
  user.loaded = [];
  user.failed = {{}};
  for (const name of {names}) {{
    try {{ if (require(name) !== undefined) user.loaded.push(name); }}
    catch (e) {{ user.failed[name] = e.message; }}
  }}
  callback(null, user, context);
}}"#,
        names = serde_json::to_string(&names).unwrap()
    )
}

#[tokio::test]
async fn every_module_loads_in_one_rule_within_the_default_limits() {
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let user = sandbox
        .run_rule("every module", &every_module_rule(), json!({}), json!({}))
        .await
        .unwrap()
        .user;
    let names: Vec<&str> = castellan_rules::available_modules()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(user["failed"], json!({}), "every module loads");
    let loaded = user["loaded"].as_array().unwrap();
    assert_eq!(loaded.len(), names.len());
    for name in ["lodash", "moment-timezone", "xpath", "url", "assert"] {
        assert!(loaded.contains(&json!(name)), "{name} did not load");
    }
}

/// With every module loaded, the deadline still holds: a rule that then never ends is
/// stopped at its deadline, and the worker serves the next log-in.
#[tokio::test]
async fn the_deadline_holds_with_every_module_loaded() {
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: std::time::Duration::from_millis(1500),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let endless = every_module_rule().replace(
        "callback(null, user, context);",
        "while (true) { JSON.stringify(user); }",
    );
    let error = sandbox
        .run_rule("endless", &endless, json!({}), json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(error, castellan_rules::ScriptError::TimedOut { .. }),
        "{error:?}"
    );
    let user = sandbox
        .run_rule("every module", &every_module_rule(), json!({}), json!({}))
        .await
        .unwrap()
        .user;
    assert_eq!(user["failed"], json!({}));
}
