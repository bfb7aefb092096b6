//! Templates of Auth0's gallery (`gallery/templates/`, MIT, origin in `gallery/ORIGIN.md`)
//! run unmodified against their real service URLs, which the stand-in internet answers as
//! the service would: each test checks the requests the template sent and what it did
//! with the answers (metadata it asked to store, the user it handed back).

#[path = "support/http_wire.rs"]
mod http_wire;
#[path = "support/internet.rs"]
mod internet;

use std::sync::Arc;
use std::time::Duration;

use castellan_rules::{AllowList, Effect, Limits, RuleOutcome, Sandbox, Setup, WorkerProgram};
use internet::{Internet, Seen};
use serde_json::{Map, Value, json};

fn template(name: &str) -> String {
    let path = format!(
        "{}/tests/gallery/templates/{name}.js",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// Runs one template whose services `answer` plays, reached through the outbound proxy.
async fn run(
    name: &str,
    hosts: &[&str],
    settings: &[(&str, &str)],
    answer: internet::Answer,
) -> (RuleOutcome, Vec<Seen>) {
    let net = Internet::start(answer).await;
    let ca = std::env::temp_dir().join(format!("gallery-{name}-{}.pem", std::process::id()));
    std::fs::write(&ca, &net.ca_pem).unwrap();
    let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
    let sandbox = Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        fetch_allow: AllowList::new(&hosts),
        fetch_proxy: Some(net.proxy_url.parse().unwrap()),
        fetch_ca_file: Some(ca.clone()),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    });
    let configuration: Map<String, Value> = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let user = json!({
        "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
        "email": "jane.doe@example.com",
        "given_name": "Jane",
        "family_name": "Doe",
        "app_metadata": {},
        "user_metadata": {}
    });
    let context = json!({
        "clientID": "aK3xQ9pL2mN8vB4cR7tY1wE5",
        "clientName": "Example Web App",
        "protocol": "oidc-basic-profile",
        "stats": {"loginsCount": 1},
        "request": {"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"},
        "idToken": {},
        "accessToken": {}
    });
    let outcome = sandbox
        .open(Setup {
            configuration,
            domain: "tenant.example.com".into(),
            ..Setup::default()
        })
        .run_rule(name, &template(name), user, context)
        .await
        .unwrap();
    let _ = std::fs::remove_file(&ca);
    (outcome, net.take())
}

fn app_metadata_updates(outcome: &RuleOutcome) -> Vec<Value> {
    (outcome.effects.iter())
        .filter_map(|e| match e {
            Effect::UpdateAppMetadata { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn hubspot_creates_the_contact_adds_it_to_the_list_and_stores_its_id() {
    let answer: internet::Answer = Arc::new(|seen: &Seen| {
        if seen.path.starts_with("/contacts/v1/contact/") {
            (200, json!({"vid": 4711}).to_string())
        } else {
            (200, json!({"updated": [4711]}).to_string())
        }
    });
    let (outcome, seen) = run(
        "create-new-contact-add-to-contact-list-hubspot",
        &["api.hubapi.com"],
        &[
            ("HUBSPOT_API_KEY", "hub-key"),
            ("HUBSPOT_NEW_MEMBER_LIST_ID", "7"),
        ],
        answer,
    )
    .await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    let (contact, list) = (&seen[0], &seen[1]);
    assert_eq!(
        (
            contact.scheme,
            contact.host.as_str(),
            contact.method.as_str()
        ),
        ("https", "api.hubapi.com", "POST")
    );
    assert_eq!(contact.path, "/contacts/v1/contact/?hapikey=hub-key");
    let sent: Value = serde_json::from_str(&contact.body).unwrap();
    assert_eq!(
        sent["properties"][0],
        json!({"property": "email", "value": "jane.doe@example.com"})
    );
    assert_eq!(list.path, "/contacts/v1/lists/7/add?hapikey=hub-key");
    assert_eq!(
        serde_json::from_str::<Value>(&list.body).unwrap(),
        json!({"vids": [4711]})
    );
    // The template calls back before either request is answered; both updates, made in
    // the requests' callbacks, still count, the last one with everything.
    let updates = app_metadata_updates(&outcome);
    assert_eq!(
        updates.last().unwrap(),
        &json!({"hubSpotContactCreated": true, "hubSpotContactId": 4711,
                "hubSpotContactAddedToList": true})
    );
}

#[tokio::test]
async fn fullcontact_enriches_the_profile_with_what_the_service_knows() {
    let answer: internet::Answer = Arc::new(|_: &Seen| {
        (
            200,
            json!({"fullName": "Jane Doe", "location": "Seattle"}).to_string(),
        )
    });
    let (outcome, seen) = run(
        "get-fullcontact-profile",
        &["api.fullcontact.com"],
        &[("FULLCONTACT_KEY", "fc-key")],
        answer,
    )
    .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].host, "api.fullcontact.com");
    assert_eq!(seen[0].path, "/v3/person.enrich");
    assert_eq!(seen[0].header("authorization"), Some("Bearer fc-key"));
    assert_eq!(
        serde_json::from_str::<Value>(&seen[0].body).unwrap(),
        json!({"email": "jane.doe@example.com"})
    );
    let expected = json!({"fullName": "Jane Doe", "location": "Seattle"});
    assert_eq!(outcome.user["user_metadata"]["fullcontact"], expected);
    assert!(
        outcome.effects.iter().any(|e| matches!(e,
            Effect::UpdateUserMetadata { value, .. } if value["fullcontact"] == expected)),
        "{:?}",
        outcome.effects
    );
}

#[tokio::test]
async fn segment_gets_the_sign_up_event_sent_after_the_callback() {
    let answer: internet::Answer = Arc::new(|_: &Seen| (200, "{}".to_owned()));
    let (_, seen) = run(
        "send-events-segmentio",
        &["api.segment.io"],
        &[("SEGMENTIO_WRITE_KEY", "write-key")],
        answer,
    )
    .await;
    // The template calls back at once and never waits for its request: on Auth0 it goes
    // out anyway, and so it does here before the next rule starts.
    assert_eq!(seen.len(), 1, "{seen:?}");
    let track = &seen[0];
    assert_eq!(
        (track.method.as_str(), track.path.as_str()),
        ("POST", "/v1/track")
    );
    assert_eq!(
        track.header("authorization"),
        Some("Basic d3JpdGUta2V5Og==") // base64("write-key:")
    );
    let event: Value = serde_json::from_str(&track.body).unwrap();
    assert_eq!(event["event"], "Signed up");
    assert_eq!(event["userId"], "auth0|5f7c8ec7c33c6c004bbafe82");
    assert_eq!(event["properties"]["application"], "Example Web App");
    assert_eq!(event["context"]["ip"], "203.0.113.7");
}
