//! Suspending a browser log-in that a rule or an action sent to another site, and taking
//! it back at `/continue` (Auth0: "Your redirect URL will need to extract the state
//! parameter and send it back to Auth0 to resume the authentication transaction").
//!
//! The state is an opaque random token; the store keeps its digest with what the log-in
//! resumes with, so the state reveals nothing and cannot be forged or altered, and a row
//! is taken once (a sealed state could not be single-use without a store row anyway). The
//! browser that was sent away gets a cookie of its own, kept as a digest too: only that
//! browser can resume the log-in, so a state that leaks (it travels in URLs, through
//! another site) does not let anyone else finish it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{Client, LoginRedirect, User};
use crate::scripts::redirect::{Partial, Resume, ResumeAt, Suspension};
use crate::secrets::{opaque_token, token_digest};
use crate::store::Store;

/// How long a suspended log-in waits for the browser: long enough for a form or a second
/// factor on another site, short like Auth0's own log-in transactions.
pub const LIFETIME: i64 = 15 * 60;

/// The event type of the tenant log's entries for a redirect and a resume: Auth0 has no
/// type of its own for them, and logs notable steps of a log-in as `w` ("Warnings During
/// Login"); `details.redirect` says which step it is.
const EVENT_TYPE: &str = "w";

/// What the store keeps for a suspended log-in.
#[derive(Serialize, Deserialize)]
struct Transaction {
    /// The authorization request's query, checked again when the log-in resumes.
    q: String,
    auth_time: i64,
    script: String,
    at: ResumeAt,
    partial: Partial,
}

/// A new log-in state: what a redirecting script's tokens carry, and what the browser
/// brings back.
pub fn new_state() -> String {
    opaque_token()
}

/// Where the browser goes and the cookie that binds the log-in to it.
pub struct Suspended {
    /// The script's URL with the `state` added.
    pub location: String,
    /// The transaction cookie's value.
    pub browser: String,
}

/// Who is logging in, where and for which request.
pub struct LoginAt<'a> {
    pub q: &'a str,
    pub client: &'a Client,
    pub user: &'a User,
    pub auth_time: i64,
    pub ctx: &'a RequestContext,
}

/// Keeps the log-in until the browser comes back with `state`, and records the redirect.
pub async fn suspend(
    store: &dyn Store,
    clock: &dyn Clock,
    at: LoginAt<'_>,
    state: &str,
    suspension: Suspension,
) -> Result<Suspended> {
    let mut location = url::Url::parse(&suspension.url)
        .map_err(|e| Error::Internal(format!("a checked redirect URL did not parse: {e}")))?;
    location.query_pairs_mut().append_pair("state", state);
    let browser = opaque_token();
    let transaction = Transaction {
        q: at.q.to_owned(),
        auth_time: at.auth_time,
        script: suspension.script.clone(),
        at: suspension.at,
        partial: suspension.partial,
    };
    let now = clock.now();
    let row = LoginRedirect {
        state_hash: token_digest(state),
        browser_hash: token_digest(&browser),
        user_id: at.user.user_id.clone(),
        transaction: serde_json::to_string(&transaction)
            .map_err(|e| Error::Internal(e.to_string()))?,
        expires_at: now + LIFETIME,
    };
    store.create_login_redirect(&row, now).await?;
    let mut event = events::event(
        EVENT_TYPE,
        format!("Log-in redirected by '{}'", suspension.script),
        at.ctx,
    )
    .client(at.client)
    .user(at.user);
    event.details = json!({
        "redirect": "sent",
        "script": suspension.script,
        "url": suspension.url,
    });
    events::record(store, clock, event).await;
    Ok(Suspended {
        location: location.into(),
        browser,
    })
}

/// A suspended log-in taken back.
pub struct Resumed {
    pub q: String,
    pub user_id: String,
    pub auth_time: i64,
    pub script: String,
    pub resume: Resume,
}

/// Takes the log-in `state` names for the browser holding `browser`, with the `/continue`
/// request's parameters: `None` when the state is unknown, used, expired or another
/// browser's.
pub async fn take(
    store: &dyn Store,
    clock: &dyn Clock,
    state: &str,
    browser: &str,
    query: Map<String, Value>,
    body: Map<String, Value>,
) -> Result<Option<Resumed>> {
    let Some(row) = store
        .take_login_redirect(&token_digest(state), &token_digest(browser), clock.now())
        .await?
    else {
        return Ok(None);
    };
    let transaction: Transaction = serde_json::from_str(&row.transaction)
        .map_err(|e| Error::Internal(format!("a suspended log-in is unreadable: {e}")))?;
    Ok(Some(Resumed {
        q: transaction.q,
        user_id: row.user_id,
        auth_time: transaction.auth_time,
        script: transaction.script,
        resume: Resume {
            at: transaction.at,
            partial: transaction.partial,
            query,
            body,
        },
    }))
}

/// Records that the browser came back and the log-in resumed.
pub async fn record_resumed(
    store: &dyn Store,
    clock: &dyn Clock,
    resumed: &Resumed,
    client: &Client,
    user: &User,
    ctx: &RequestContext,
) {
    let mut event = events::event(EVENT_TYPE, "Log-in resumed at /continue", ctx)
        .client(client)
        .user(user);
    event.details = json!({"redirect": "continued", "script": resumed.script});
    events::record(store, clock, event).await;
}
