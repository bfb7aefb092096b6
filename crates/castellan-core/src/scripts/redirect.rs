//! A log-in whose scripts send the browser away and resume at `/continue` (Auth0's
//! "Redirect Users from Within Rules" and "Redirect with Actions"): what the pipeline
//! keeps while the user is away, and where it picks up.
//!
//! Rules: `context.redirect = {url}` takes effect once every rule has run; at `/continue`
//! the rules run again from the first, with `context.protocol` `redirect-callback` and the
//! `/continue` request's parameters, and then the actions. Actions: the pipeline stops
//! after the action that called `api.redirect.sendUserTo`, and at `/continue` that action's
//! `onContinuePostLogin` runs, then the actions after it. A log-in is redirected at most
//! once ("You can redirect a user once per authentication flow", Auth0's docs).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::run::ScopeEdit;

/// `context.protocol` (and `event.transaction.protocol`) when a log-in resumes.
pub const CALLBACK_PROTOCOL: &str = "redirect-callback";

/// Where a suspended log-in picks up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResumeAt {
    /// All the rules again, then the actions.
    Rules,
    /// The action at this place in the bound list, by name as well, so that a list that
    /// changed meanwhile is noticed instead of resuming another action.
    Action { index: usize, name: String },
}

/// What the scripts had given the tokens when the log-in was suspended (by an action; a
/// rule's redirect leaves nothing, as the rules run again).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partial {
    pub access_claims: Map<String, Value>,
    pub id_claims: Map<String, Value>,
    pub scopes: ScopeEdit,
    /// Actions' metadata, written only once the log-in succeeds.
    pub app_metadata: Map<String, Value>,
    pub user_metadata: Map<String, Value>,
    pub authorization_changed: bool,
}

/// A log-in the scripts sent away: where the browser goes (before the `state` is added)
/// and how the log-in resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspension {
    pub url: String,
    /// The script that asked (a rule's redirect is the pipeline's, named by the rule that
    /// set it last).
    pub script: String,
    pub at: ResumeAt,
    pub partial: Partial,
}

/// A suspended log-in coming back through `/continue`, with that request's parameters.
#[derive(Debug, Clone)]
pub struct Resume {
    pub at: ResumeAt,
    pub partial: Partial,
    pub query: Map<String, Value>,
    pub body: Map<String, Value>,
}

/// The redirect's target: an absolute http(s) URL, with `query` added to what it has.
pub fn target(url: &str, query: &Map<String, Value>) -> Result<String, String> {
    let mut parsed = url::Url::parse(url)
        .map_err(|_| format!("the redirect URL '{url}' is not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("the redirect URL '{url}' is not an http(s) URL"));
    }
    if !query.is_empty() {
        let mut pairs = parsed.query_pairs_mut();
        for (k, v) in query {
            match v {
                Value::String(s) => pairs.append_pair(k, s),
                other => pairs.append_pair(k, &other.to_string()),
            };
        }
    }
    Ok(parsed.into())
}

/// The URL a rule's `context.redirect` asks for: `None` when it asks for nothing.
pub fn of_context(context: &Value) -> Option<Result<String, String>> {
    match &context["redirect"] {
        Value::Null => None,
        Value::Object(r) => Some(match r.get("url") {
            Some(Value::String(url)) => target(url, &Map::new()),
            _ => Err("context.redirect has no url".into()),
        }),
        _ => Some(Err("context.redirect must be an object with a url".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_absolute_http_urls_are_targets() {
        let q = json!({"a": "1 2"}).as_object().unwrap().clone();
        assert_eq!(
            target("https://x.example/p?k=v", &q).unwrap(),
            "https://x.example/p?k=v&a=1+2"
        );
        assert!(target("/relative", &q).is_err());
        assert!(target("javascript:alert(1)", &q).is_err());
        assert!(target("ftp://x.example/", &q).is_err());
        assert!(
            of_context(&json!({"redirect": {"url": 3}}))
                .unwrap()
                .is_err()
        );
        assert!(of_context(&json!({"redirect": null})).is_none());
    }
}
