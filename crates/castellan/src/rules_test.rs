//! `castellan rules test`: runs rules and post-login actions against a user and context
//! without a server and without writing anything, and prints what the log-in would get.
//! Scripts come from files (`.js`; a file that assigns `exports.onExecutePostLogin` is an
//! action) or, without files, from the database (enabled rules, bound actions). The user
//! comes from a JSON file or from the database. With files and a user file, no database is
//! opened, so it runs in anyone's CI.

use std::path::{Path, PathBuf};

use castellan_core::clock::{Clock, SystemClock};
use castellan_core::events::RequestContext;
use castellan_core::model::{AppType, Client, DATABASE_CONNECTION, TokenEndpointAuthMethod, User};
use castellan_core::scripts::changes::{ChangeTarget, DryRunTarget, Held, StoreTarget};
use castellan_core::scripts::shape::{self, LoginFacts};
use castellan_core::scripts::{
    PostLoginError, PostLoginRun, Protocol, Script, ScriptSet, logs_json,
};
use castellan_core::secrets::MasterKey;
use castellan_core::store::Store;
use serde_json::{Map, Value, json};

use crate::config::Settings;
use crate::master_key;

#[derive(Debug, clap::Args)]
pub struct RulesTestArgs {
    /// Rule and action files, run in the order given (rules first, then actions). Without
    /// any, the enabled rules and bound post-login actions of the database run.
    files: Vec<PathBuf>,
    /// The user, as Auth0's user object in a JSON file.
    #[arg(long, conflicts_with = "user_id")]
    user: Option<PathBuf>,
    /// A stored user, by id.
    #[arg(long)]
    user_id: Option<String>,
    /// A stored client, by id (else a sample client).
    #[arg(long)]
    client_id: Option<String>,
    /// JSON whose top-level keys replace those of the context built for the log-in
    /// (`authorization.roles` and `.groups` set what the user holds).
    #[arg(long)]
    context: Option<PathBuf>,
    /// `configuration.KEY` for rules given as files.
    #[arg(long = "config-value", value_name = "KEY=VALUE")]
    configuration: Vec<String>,
    /// `event.secrets.KEY` for actions given as files.
    #[arg(long = "secret", value_name = "KEY=VALUE")]
    secrets: Vec<String>,
    #[arg(long)]
    audience: Option<String>,
    #[arg(long, default_value = "openid profile email")]
    scope: String,
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn pairs(given: &[String], flag: &str) -> Result<Map<String, Value>, String> {
    given
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .ok_or_else(|| format!("--{flag} takes KEY=VALUE, not \"{p}\""))
        })
        .collect()
}

/// The user a JSON file describes, in Auth0's user shape.
fn user_from_json(v: &Value, now: i64) -> Result<User, String> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let object = |k: &str| {
        v.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    Ok(User {
        user_id: text("user_id").ok_or("the user file needs a user_id")?,
        connection: v["identities"][0]["connection"]
            .as_str()
            .unwrap_or(DATABASE_CONNECTION)
            .to_owned(),
        email: text("email"),
        email_verified: v["email_verified"].as_bool().unwrap_or(false),
        username: text("username"),
        name: text("name"),
        nickname: text("nickname"),
        picture: text("picture"),
        given_name: text("given_name"),
        family_name: text("family_name"),
        app_metadata: object("app_metadata"),
        user_metadata: object("user_metadata"),
        created_at: now,
        updated_at: now,
        last_login: Some(now),
        last_ip: None,
        logins_count: v["logins_count"].as_i64().unwrap_or(1),
        blocked: v["blocked"].as_bool().unwrap_or(false),
        last_password_reset: None,
    })
}

fn sample_client(now: i64) -> Client {
    Client {
        client_id: "rules-test-client".into(),
        name: "rules test".into(),
        description: String::new(),
        app_type: AppType::RegularWeb,
        is_first_party: true,
        grant_types: vec!["authorization_code".into()],
        callbacks: Vec::new(),
        allowed_logout_urls: Vec::new(),
        web_origins: Vec::new(),
        allowed_origins: Vec::new(),
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
        refresh_token: castellan_core::directory::clients::default_refresh_token(
            AppType::RegularWeb,
        ),
        client_metadata: Default::default(),
        secret_hash: None,
        created_at: now,
        updated_at: now,
    }
}

fn script_sets(args: &RulesTestArgs) -> Result<ScriptSet, String> {
    let mut set = ScriptSet {
        configuration: pairs(&args.configuration, "config-value")?,
        ..ScriptSet::default()
    };
    let secrets = pairs(&args.secrets, "secret")?;
    for path in &args.files {
        let source =
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if source.contains("onExecutePostLogin") {
            set.post_login.push(Script {
                name,
                source,
                secrets: secrets.clone(),
            });
        } else {
            set.rules.push(Script {
                name,
                source,
                secrets: Map::new(),
            });
        }
    }
    Ok(set)
}

/// Runs the scripts and prints the report; `Err` (a non-zero exit) on denial or error.
pub async fn run(settings: Settings, args: RulesTestArgs) -> Result<(), String> {
    let now = SystemClock.now();
    let needs_store = args.files.is_empty() || args.user_id.is_some() || args.client_id.is_some();
    let store: Option<std::sync::Arc<dyn Store>> = if needs_store {
        Some(
            castellan_store::open_with(&settings.database_url, &settings.store)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let master = match &store {
        Some(_) => master_key::load(&settings).map_err(|e| e.to_string())?,
        None => MasterKey::generate(),
    };
    let scripts = crate::script_engine::scripts(&settings, master);
    let set = match &store {
        Some(store) if args.files.is_empty() => ScriptSet::load(store.as_ref(), &scripts)
            .await
            .map_err(|e| e.to_string())?,
        _ => script_sets(&args)?,
    };
    let user_file = args.user.as_deref().map(read_json).transpose()?;
    let user = match (&user_file, &args.user_id, &store) {
        (Some(json), _, _) => user_from_json(json, now)?,
        (None, Some(id), Some(store)) => store
            .find_user(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no user {id}"))?,
        _ => return Err("give the user with --user FILE or --user-id ID".into()),
    };
    let client = match (&args.client_id, &store) {
        (Some(id), Some(store)) => store
            .find_client(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no client {id}"))?,
        _ => sample_client(now),
    };
    let requested: Vec<String> = args.scope.split_whitespace().map(str::to_owned).collect();
    let request = RequestContext {
        ip: "127.0.0.1".into(),
        user_agent: Some("castellan rules test".into()),
    };
    let facts = LoginFacts {
        client: &client,
        user: &user,
        connection: None,
        protocol: Protocol::AuthorizationCode,
        request: &request,
        hostname: scripts.hostname(),
        audience: args.audience.as_deref(),
        requested_scopes: &requested,
        granted_scopes: &requested,
        auth_time: now,
    };
    let mut context = shape::context(&facts);
    let overrides = args.context.as_deref().map(read_json).transpose()?;
    if let Some(Value::Object(overrides)) = &overrides {
        for (key, value) in overrides {
            context[key] = value.clone();
        }
    }
    let names = |key: &str| -> Option<Vec<String>> {
        let list = context["authorization"][key].as_array()?;
        Some(
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    };
    let held = match (names("roles"), &store, &args.user_id) {
        (Some(roles), _, _) => Held {
            roles,
            groups: names("groups").unwrap_or_default(),
        },
        (None, Some(store), Some(_)) => {
            let stored = StoreTarget {
                store: store.as_ref(),
                clock: &SystemClock,
            };
            stored.held(&user).await.map_err(|e| e.to_string())?
        }
        _ => Held::default(),
    };
    let mut user_json = user.to_auth0_json();
    if let (Value::Object(base), Some(Value::Object(given))) = (&mut user_json, &user_file) {
        base.extend(given.clone());
    }
    let target = DryRunTarget::new(held);
    let outcome = PostLoginRun {
        scripts: &scripts,
        set: &set,
        target: &target,
        user: user.clone(),
        user_json,
        context,
        event: shape::event(&facts),
        // No server to call.
        access_token: None,
        // A dry run may show a redirect: the run stops there, as a log-in would.
        redirect_state: Some("dry-run".to_owned()),
        resume: None,
    }
    .run()
    .await;
    let changes: Vec<Value> = target
        .edits()
        .into_iter()
        .map(|(script, edit)| json!({"script": script, "changes": edit.describe()}))
        .collect();
    let held = target.held_now();
    let mut report = json!({
        "rules": set.rules.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "actions": set.post_login.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "changes": changes,
        "roles": held.roles,
        "groups": held.groups,
    });
    let result = match outcome {
        Ok(outcome) => {
            report["user"] = outcome.rule_user;
            report["app_metadata"] = json!(outcome.user.app_metadata);
            report["user_metadata"] = json!(outcome.user.user_metadata);
            report["access_token_claims"] = Value::Object(outcome.access_claims);
            report["id_token_claims"] = Value::Object(outcome.id_claims);
            report["scope"] = json!(outcome.scopes.apply(requested).join(" "));
            report["logs"] = logs_json(&outcome.logs);
            if let Some(redirect) = &outcome.redirect {
                report["redirect"] = json!({"url": redirect.url, "script": redirect.script});
            }
            if let Some(asked) = &outcome.multifactor {
                report["multifactor"] = json!(asked);
            }
            Ok(())
        }
        Err(PostLoginError::Stopped { stop, logs: lines }) => {
            report["error"] = json!(stop.description());
            report["logs"] = logs_json(&lines);
            Err(format!("the log-in was refused: {}", stop.description()))
        }
        Err(PostLoginError::Store(e)) => Err(e.to_string()),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    result
}
