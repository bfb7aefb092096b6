//! How `/authorize` answers: each `response_type` (a code, tokens, or both) and each
//! `response_mode` (query, fragment, a posted form, a message to the app's window), the
//! grants and parameters each needs, and errors delivered the same way as answers.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::browser::{Browser, Page};
use crate::common::*;

const APP: &str = "https://app.example";
const CALLBACK: &str = "https://app.example/callback";
const PASSWORD: &str = "correct horse battery";

struct Tenant {
    server: TestServer,
    client_id: String,
    client_secret: String,
}

/// A first-party web app allowed the code and implicit grants, with a signed-in browser.
async fn signed_in() -> (Tenant, Browser) {
    let server = TestServer::start().await;
    let app = json!({"name": "App", "callbacks": [CALLBACK], "web_origins": [APP],
                     "grant_types": ["authorization_code", "implicit"]});
    let (status, client) = server.admin(Method::POST, "/clients", Some(app)).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let tenant = Tenant {
        client_id: client["client_id"].as_str().unwrap().to_string(),
        client_secret: client["client_secret"].as_str().unwrap().to_string(),
        server,
    };
    let mut browser = Browser::new(&tenant.server);
    let signup = tenant.path(&[("response_type", "code"), ("screen_hint", "signup")]);
    let back = browser
        .submit_credentials(&signup, "ada@example.com", PASSWORD)
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    (tenant, browser)
}

impl Tenant {
    fn path(&self, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email"),
            ("state", "st-1"),
        ];
        params.extend_from_slice(extra);
        format!(
            "/authorize?{}",
            serde_urlencoded::to_string(params).unwrap()
        )
    }
}

/// The parameters in the fragment of a redirect to the callback.
fn fragment(page: &Page) -> HashMap<String, String> {
    let location = page
        .location
        .as_deref()
        .unwrap_or_else(|| panic!("not a redirect ({}): {}", page.status, page.body));
    assert!(location.starts_with(CALLBACK), "{location}");
    assert!(!location.contains('?'), "nothing in the query: {location}");
    let (_, fragment) = location.split_once('#').expect("a fragment");
    serde_urlencoded::from_str(fragment).unwrap()
}

/// `at_hash` and `c_hash` (OpenID Connect Core §3.3.2.11).
fn half_sha256(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

/// The script nonce the page's policy allows, which its one script must carry.
fn script_nonce(page: &Page) -> String {
    let csp = page.csp.as_deref().expect("a policy");
    let start = csp.find("script-src 'nonce-").expect("a script nonce") + 18;
    let nonce = &csp[start..start + csp[start..].find('\'').unwrap()];
    assert!(
        page.body.contains(&format!("<script nonce=\"{nonce}\">")),
        "{}",
        page.body
    );
    nonce.to_string()
}

#[tokio::test]
async fn implicit_tokens_come_in_the_fragment_bound_to_the_nonce() {
    let (t, mut browser) = signed_in().await;
    let page = browser
        .get(&t.path(&[("response_type", "id_token token"), ("nonce", "n-1")]))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let answer = fragment(&page);
    assert_eq!(
        (answer["state"].as_str(), answer["token_type"].as_str()),
        ("st-1", "Bearer")
    );
    assert!(!answer.contains_key("code") && !answer.contains_key("refresh_token"));
    let access = &answer["access_token"];
    let id = verify_with_jwks(&t.server, &answer["id_token"], &t.client_id).await;
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["at_hash"], half_sha256(access));
    assert_eq!(id["email"], "ada@example.com");
    let userinfo = t
        .server
        .http
        .get(t.server.url("/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), StatusCode::OK, "the access token works");

    let only_id = browser
        .get(&t.path(&[("response_type", "id_token"), ("nonce", "n-2")]))
        .await;
    let answer = fragment(&only_id);
    assert!(answer.contains_key("id_token") && !answer.contains_key("access_token"));
    let id = verify_with_jwks(&t.server, &answer["id_token"], &t.client_id).await;
    assert!(id.get("at_hash").is_none(), "no access token to name");
}

#[tokio::test]
async fn the_hybrid_flow_gives_a_code_and_an_id_token_naming_it() {
    let (t, mut browser) = signed_in().await;
    let page = browser
        .get(&t.path(&[("response_type", "code id_token"), ("nonce", "n-3")]))
        .await;
    let answer = fragment(&page);
    let code = &answer["code"];
    let id = verify_with_jwks(&t.server, &answer["id_token"], &t.client_id).await;
    assert_eq!(id["c_hash"], half_sha256(code));
    let (status, tokens) = t
        .server
        .token_request(
            json!({"grant_type": "authorization_code", "client_id": t.client_id,
                              "client_secret": t.client_secret, "code": code,
                              "redirect_uri": CALLBACK}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
}

#[tokio::test]
async fn each_response_type_needs_its_grant_its_nonce_and_no_query() {
    let (t, mut browser) = signed_in().await;
    let no_nonce = browser.get(&t.path(&[("response_type", "id_token")])).await;
    let answer = fragment(&no_nonce);
    assert_eq!(answer["error"], "invalid_request");
    assert!(answer["error_description"].contains("nonce"));

    let in_query = browser
        .get(&t.path(&[
            ("response_type", "id_token token"),
            ("nonce", "n"),
            ("response_mode", "query"),
        ]))
        .await;
    assert_eq!(fragment(&in_query)["error"], "invalid_request");

    for odd in ["token code token", "code bogus", ""] {
        let page = browser
            .get(&t.path(&[("response_type", odd), ("nonce", "n")]))
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{odd}: {}", page.body);
        assert!(page.location.unwrap().contains("error="), "{odd}");
    }

    // A tenant keeps the implicit flows off by leaving the grant out.
    let path = format!("/clients/{}", t.client_id);
    let code_only = json!({"grant_types": ["authorization_code"]});
    t.server.admin(Method::PATCH, &path, Some(code_only)).await;
    let refused = browser
        .get(&t.path(&[("response_type", "id_token"), ("nonce", "n")]))
        .await;
    assert_eq!(fragment(&refused)["error"], "unauthorized_client");
}

#[tokio::test]
async fn form_post_answers_with_a_page_that_posts_itself_to_the_callback() {
    let (t, mut browser) = signed_in().await;
    let page = browser
        .get(&t.path(&[
            ("response_type", "id_token"),
            ("nonce", "n-4"),
            ("response_mode", "form_post"),
        ]))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("<form method=\"post\" action=\"{CALLBACK}\">")),
        "{}",
        page.body
    );
    assert_eq!(page.field("state"), "st-1");
    let id = verify_with_jwks(&t.server, &page.field("id_token"), &t.client_id).await;
    assert_eq!(id["nonce"], "n-4");
    script_nonce(&page);
    let csp = page.csp.clone().unwrap();
    assert!(csp.contains(&format!("form-action 'self' {APP}")), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        page.body.contains("<noscript>"),
        "works without JavaScript too"
    );

    let code = browser
        .get(&t.path(&[("response_type", "code"), ("response_mode", "form_post")]))
        .await;
    assert!(!code.field("code").is_empty());
}

#[tokio::test]
async fn web_message_posts_the_answer_to_a_listed_web_origin_from_a_frame() {
    let (t, mut browser) = signed_in().await;
    let silent = [
        ("response_type", "code"),
        ("response_mode", "web_message"),
        ("prompt", "none"),
    ];
    let page = browser.get(&t.path(&silent)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    script_nonce(&page);
    let csp = page.csp.clone().unwrap();
    assert!(csp.contains(&format!("frame-ancestors {APP}")), "{csp}");
    assert!(
        page.body.contains("\"type\": \"authorization_response\"")
            || page.body.contains("type: \"authorization_response\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("\"code\""), "{}", page.body);
    assert!(
        page.body.contains(&format!("\"{APP}\"")),
        "posted to the app's origin only"
    );

    // Without a session, the error goes the same way, so the app's iframe hears it.
    let stranger = Browser::new(&t.server).get(&t.path(&silent)).await;
    assert_eq!(stranger.status, StatusCode::OK);
    assert!(
        stranger.body.contains("login_required"),
        "{}",
        stranger.body
    );

    // An origin the client does not list never gets a message.
    let path = format!("/clients/{}", t.client_id);
    t.server
        .admin(Method::PATCH, &path, Some(json!({"web_origins": []})))
        .await;
    let unlisted = browser.get(&t.path(&silent)).await;
    assert_eq!(unlisted.status, StatusCode::BAD_REQUEST);
    assert!(!unlisted.body.contains("postMessage"));
}

#[tokio::test]
async fn discovery_lists_the_response_types_and_modes_served() {
    let server = TestServer::start().await;
    let discovery: serde_json::Value = server.get_json("/.well-known/openid-configuration").await;
    for kind in ["code", "id_token", "id_token token", "code id_token"] {
        assert!(
            discovery["response_types_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(kind)),
            "{kind}"
        );
    }
    assert_eq!(
        discovery["response_modes_supported"],
        json!(["query", "fragment", "form_post", "web_message"])
    );
}
