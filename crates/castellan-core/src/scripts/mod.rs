//! The scripted steps of a log-in (spec §8): after authentication, statistics and the
//! `first_login` defaults, the Authorization Extension's work, then the enabled rules in
//! their order, then the post-login actions in their binding order; the token is issued
//! from what they leave. Also the post-user-registration actions of a sign-up.
//!
//! Scripts never call back into the server: they record what they want (see
//! [`engine::Effect`]) and the pipeline applies it through a [`ChangeTarget`] after
//! each script, so the next script already sees the roles and groups it changed. Each
//! script's changes are one transaction; a script that fails changes nothing, though what
//! earlier scripts changed stays, as it does on Auth0, where they are REST calls. A SQLite
//! write transaction is not held open while JavaScript runs.

pub mod changes;
pub mod claims;
mod countries;
pub mod engine;
mod extension;
pub mod geoip;
mod login;
pub mod management;
pub mod redirect;
mod registration;
pub mod risk;
mod run;
pub mod shape;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use self::engine::{ScriptEngine, ScriptError, ScriptKind, Trigger};
use crate::directory::{actions, rules_configs};
use crate::error::{Error, Result};
use crate::model::{self, Connection};
use crate::oauth::access_token::TokenService;
use crate::paging::PageRequest;
use crate::secrets::MasterKey;
use crate::store::Store;
pub use extension::EXTENSION_RULE;
pub use login::{logs_json, post_login};
pub use registration::post_user_registration;
pub use run::{PostLoginError, PostLoginOutcome, PostLoginRun, ScopeEdit, Stop};

/// The engine and what scripts are given besides the log-in itself.
pub struct Scripts {
    engine: Arc<dyn ScriptEngine>,
    master: MasterKey,
    hostname: String,
    /// `auth0.baseUrl`.
    base_url: String,
    /// Where `context.request.geoip` comes from; `{}` without.
    geoip: Option<Arc<dyn geoip::Locate>>,
    /// What mints `auth0.accessToken`; rules get none without.
    tokens: Option<Arc<TokenService>>,
    /// The scripts as last read, with the store's script generation they were read at.
    loaded: Mutex<Option<(i64, Arc<ScriptSet>)>>,
}

impl Scripts {
    /// `auth0.domain` and `context.request.hostname` are the issuer's host.
    pub fn new(engine: Arc<dyn ScriptEngine>, master: MasterKey, issuer: &str) -> Scripts {
        let without_scheme = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
        let hostname = without_scheme
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Scripts {
            engine,
            master,
            hostname,
            base_url: management::base_url(issuer),
            geoip: None,
            tokens: None,
            loaded: Mutex::new(None),
        }
    }

    /// Log-ins' `geoip` from this database.
    pub fn with_geoip(mut self, locate: Arc<dyn geoip::Locate>) -> Scripts {
        self.geoip = Some(locate);
        self
    }

    /// Real log-ins' rules get `auth0.accessToken`, minted by `tokens`.
    pub fn with_management_tokens(mut self, tokens: Arc<TokenService>) -> Scripts {
        self.tokens = Some(tokens);
        self
    }

    /// What a log-in runs: read from the store again only when the script generation has
    /// moved, so a log-in costs one read for it however many scripts there are.
    pub async fn current(&self, store: &dyn Store) -> Result<Arc<ScriptSet>> {
        let generation = store.script_generation().await?;
        let cached = self.loaded.lock().ok().and_then(|l| l.clone());
        if let Some((at, set)) = cached
            && at == generation
        {
            return Ok(set);
        }
        let set = Arc::new(ScriptSet::load(store, self).await?);
        if let Ok(mut loaded) = self.loaded.lock() {
            *loaded = Some((generation, Arc::clone(&set)));
        }
        Ok(set)
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The process ids of the engine's worker processes running now.
    pub fn worker_pids(&self) -> Vec<u32> {
        self.engine.worker_pids()
    }

    /// Refuses a script that does not compile (or a rule that is not a function), naming
    /// the line and column, and one whose code outside its function fails.
    pub async fn check_syntax(&self, kind: ScriptKind, name: &str, source: &str) -> Result<()> {
        match self.engine.check(kind, name, source).await {
            Ok(()) => Ok(()),
            Err(ScriptError::Syntax {
                line,
                column,
                message,
                ..
            }) => Err(Error::Invalid(format!(
                "script has a syntax error at line {line}, column {column}: {message}"
            ))),
            Err(ScriptError::Unavailable { script }) => Err(Error::Internal(format!(
                "the script sandbox is unavailable to check '{script}'"
            ))),
            // The script escaped its function and ran code of its own: it threw, timed out
            // or ran out of memory while being evaluated.
            Err(other) => Err(Error::Invalid(format!(
                "the script failed when evaluated: {other}"
            ))),
        }
    }
}

/// How the user got here, as Auth0 names it in `context.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    AuthorizationCode,
    /// Tokens from the authorization endpoint itself (`response_type=id_token token`).
    Implicit,
    /// A code and an ID token from the authorization endpoint (`code id_token`).
    Hybrid,
    Password,
    RefreshToken,
    /// Tokens for a device whose user approved it on the activation page (RFC 8628).
    DeviceCode,
}

impl Protocol {
    pub fn auth0_name(self) -> &'static str {
        match self {
            Protocol::AuthorizationCode => "oidc-basic-profile",
            Protocol::Implicit => "oidc-implicit-profile",
            Protocol::Hybrid => "oidc-hybrid-profile",
            Protocol::Password => "oauth2-password",
            Protocol::RefreshToken => "oauth2-refresh-token",
            Protocol::DeviceCode => "oauth2-device-code",
        }
    }

    /// Whether the user is at `/authorize` (a rule reads its `query`), not at `/oauth/token`.
    pub fn at_authorization_endpoint(self) -> bool {
        matches!(
            self,
            Protocol::AuthorizationCode | Protocol::Implicit | Protocol::Hybrid
        )
    }

    fn grant_type(self) -> &'static str {
        match self {
            Protocol::AuthorizationCode | Protocol::Hybrid => "authorization_code",
            Protocol::Implicit => "implicit",
            Protocol::Password => "password",
            Protocol::RefreshToken => "refresh_token",
            Protocol::DeviceCode => crate::oauth::device_code::GRANT_TYPE,
        }
    }
}

/// One script with what it runs with.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub name: String,
    pub source: String,
    /// An action's `event.secrets`.
    pub secrets: Map<String, Value>,
}

/// The scripts a log-in runs and the rules' `configuration`.
#[derive(Debug, Clone, Default)]
pub struct ScriptSet {
    pub rules: Vec<Script>,
    pub post_login: Vec<Script>,
    pub post_user_registration: Vec<Script>,
    pub configuration: Map<String, Value>,
    /// The Authorization Extension's settings, once it is configured.
    pub extension: Option<Map<String, Value>>,
    /// Connections by name (`context.connectionID`, `event.connection`).
    pub connections: BTreeMap<String, Connection>,
}

impl ScriptSet {
    /// The enabled rules in order (the extension's own rule is left out: its work is done
    /// natively) and the post-login actions bound, as deployed.
    pub async fn load(store: &dyn Store, scripts: &Scripts) -> Result<ScriptSet> {
        let rules: Vec<Script> = store
            .list_rules(Some(true), PageRequest::ALL)
            .await?
            .items
            .into_iter()
            .filter(|r| r.name != EXTENSION_RULE)
            .map(|r| Script {
                name: r.name,
                source: r.script,
                secrets: Map::new(),
            })
            .collect();
        let post_login = bound_actions(store, &scripts.master, Trigger::PostLogin).await?;
        let post_user_registration =
            bound_actions(store, &scripts.master, Trigger::PostUserRegistration).await?;
        let configuration = if rules.is_empty() {
            Map::new()
        } else {
            rules_configs::open_all(store, &scripts.master)
                .await?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        };
        Ok(ScriptSet {
            rules,
            post_login,
            post_user_registration,
            configuration,
            extension: store.configuration().await?.map(|c| c.settings),
            connections: store
                .list_connections(PageRequest::ALL)
                .await?
                .items
                .into_iter()
                .map(|c| (c.name.clone(), c))
                .collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.post_login.is_empty()
    }
}

/// The actions bound to a trigger, as deployed, with their secrets opened.
async fn bound_actions(
    store: &dyn Store,
    master: &MasterKey,
    trigger: Trigger,
) -> Result<Vec<Script>> {
    let stored = match trigger {
        Trigger::PostLogin | Trigger::PostLoginContinue => model::Trigger::PostLogin,
        Trigger::PostUserRegistration => model::Trigger::PostUserRegistration,
    };
    Ok(actions::bound(store, master, stored)
        .await?
        .into_iter()
        .map(|a| Script {
            name: a.name,
            source: a.code,
            secrets: a
                .secrets
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        })
        .collect())
}
