//! Command line: `serve [--demo] [--tls-cert FILE --tls-key FILE]`, `migrate`,
//! `config print`, `keys rotate`, `outbox`, `rules test`, `users`, `roles`, `groups`,
//! `admin`. Failures are one line on stderr and a non-zero exit, never a panic.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use castellan_core::clock::SystemClock;
use castellan_core::directory::Editor;
use castellan_core::model::{Named, SigningAlg};
use castellan_core::oauth::keyring::Keyring;
use clap::{Parser, Subcommand};

use crate::config::{Overrides, ProcessEnv, Settings};
use crate::rules_test::{self, RulesTestArgs};
use crate::{admin_cli, app, demo, master_key, telemetry, tenant_config};

#[derive(Debug, Parser)]
#[command(
    name = "castellan",
    version,
    about = "Self-hosted identity and authorization server"
)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Also seed an example tenant (an application, an API, roles, a rule, an
        /// administrator) and print how to log in. Running it again adds nothing.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS on the listen address with this PEM certificate chain (reloaded on
        /// SIGHUP and when the file changes); needs --tls-key.
        #[arg(long, value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, value_name = "FILE")]
        tls_key: Option<PathBuf>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Show the effective settings.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print the mail waiting in the outbox (used when no SMTP server is configured).
    Outbox,
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Work with rules and actions.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Users of database connections: create, list, show, block, unblock, delete, set-password.
    Users(admin_cli::Admin<admin_cli::UsersAction>),
    /// Roles: create, list, assign to users, add permissions.
    Roles(admin_cli::Admin<admin_cli::RolesAction>),
    /// Groups: create, list, add users.
    Groups(admin_cli::Admin<admin_cli::GroupsAction>),
    /// Console administrators.
    Admin(admin_cli::Admin<admin_cli::AdminAction>),
    /// Write the tenant's configuration (no users, no secrets) to a folder of YAML files.
    Export(tenant_config::ExportArgs),
    /// Make the tenant match a folder written by export (or auth0-deploy-cli); prints the
    /// plan first.
    Apply(tenant_config::ApplyArgs),
    /// Move a tenant's users and Authorization Extension data over from Auth0.
    Import {
        #[command(subcommand)]
        action: crate::import::ImportAction,
    },
}

#[derive(Debug, Subcommand)]
enum RulesAction {
    /// Run rules and post-login actions against a user, without a server and without
    /// writing anything; print the resulting user, changes, claims and logs. Exits
    /// non-zero when the log-in would be refused or a script fails.
    Test(RulesTestArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Print the settings after all layers, secrets redacted.
    Print,
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Make the published `next` key current (at once if verifiers have had time to
    /// fetch it, else at the moment printed) and publish a new `next` key; the old key
    /// stays published while its tokens may live. Same as `POST /api/v2/keys/signing/rotate`.
    Rotate {
        /// RS256, ES256 or EdDSA.
        #[arg(long, default_value = "RS256")]
        alg: String,
    },
}

pub fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Command::Serve {
        tls_cert, tls_key, ..
    } = &cli.command
    {
        cli.overrides.tls_cert.clone_from(tls_cert);
        cli.overrides.tls_key.clone_from(tls_key);
    }
    let settings = match Settings::load(&cli.overrides, &ProcessEnv) {
        Ok(s) => s,
        Err(e) => return fail(&format!("configuration: {e}")),
    };
    telemetry::init_logs(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve { demo, .. } => serve(settings, demo).await,
            Command::Migrate => castellan_store::open_with(&settings.database_url, &settings.store)
                .await
                .map(|_| println!("database is up to date"))
                .map_err(|e| e.to_string()),
            Command::Config {
                action: ConfigAction::Print,
            } => {
                print!("{}", settings.print());
                Ok(())
            }
            Command::Keys {
                action: KeysAction::Rotate { alg },
            } => rotate(settings, &alg).await,
            Command::Outbox => outbox(settings).await,
            Command::Rules {
                action: RulesAction::Test(args),
            } => rules_test::run(settings, args).await,
            Command::Users(c) => admin_cli::users(settings, c).await,
            Command::Roles(c) => admin_cli::roles(settings, c).await,
            Command::Groups(c) => admin_cli::groups(settings, c).await,
            Command::Admin(c) => admin_cli::admin(settings, c).await,
            Command::Export(args) => tenant_config::run_export(settings, args).await,
            Command::Apply(args) => tenant_config::run_apply(settings, args).await,
            Command::Import { action } => crate::import::run(settings, action).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("castellan: {message}");
    ExitCode::FAILURE
}

async fn serve(settings: Settings, demo: bool) -> Result<(), String> {
    let state = app::prepare(settings, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    let seeded = match demo {
        true => Some(demo::seed(&state).await.map_err(|e| e.to_string())?),
        false => None,
    };
    let running = app::start(state, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(address = %running.addr, issuer = %running.state.settings.issuer, "listening");
    if let Some(seeded) = seeded {
        demo::print(&seeded, &running.state.settings);
    }
    let store = running.state.store.clone();
    running.wait().await.map_err(|e| e.to_string())?;
    // The last requests' log events may still be queued.
    store.flush_log_queue().await;
    tracing::info!("stopped");
    Ok(())
}

async fn rotate(settings: Settings, alg: &str) -> Result<(), String> {
    let alg = SigningAlg::parse(alg)
        .ok_or_else(|| format!("--alg must be one of {}", SigningAlg::expected()))?;
    let store = castellan_store::open_with(&settings.database_url, &settings.store)
        .await
        .map_err(|e| e.to_string())?;
    let master = master_key::load(&settings).map_err(|e| e.to_string())?;
    // The servers' setting: a key must have been published this long before it signs.
    let jwks_max_age = i64::from(settings.jwks_max_age_secs);
    let keyring = Keyring::open(store.clone(), master, Arc::new(SystemClock), jwks_max_age)
        .await
        .map_err(|e| e.to_string())?;
    let now = keyring.now();
    let promoted = keyring
        .rotate(&Editor::cli(store.as_ref(), &SystemClock), alg)
        .await
        .map_err(|e| e.to_string())?;
    let when = castellan_core::oidc::claims::timestamp(promoted.current_since);
    let when = when.as_str().unwrap_or_default();
    if promoted.current_since <= now {
        println!(
            "{} signing key {} signs from now on (servers switch within {} s)",
            alg.name(),
            promoted.kid,
            castellan_core::oauth::keyring::REFRESH_SECONDS
        );
    } else {
        println!(
            "{} signing key {} signs from {when}, once every verifier can have fetched it",
            alg.name(),
            promoted.kid
        );
    }
    Ok(())
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or(());
}

async fn outbox(settings: Settings) -> Result<(), String> {
    let store = castellan_store::open_with(&settings.database_url, &settings.store)
        .await
        .map_err(|e| e.to_string())?;
    let mail = store.list_mail().await.map_err(|e| e.to_string())?;
    if mail.is_empty() {
        println!("The outbox is empty.");
    }
    for m in mail {
        let date = castellan_core::oidc::claims::timestamp(m.created_at);
        println!(
            "To: {}\nSubject: {}\nDate: {}\n\n{}\n----",
            m.recipient,
            m.subject,
            date.as_str().unwrap_or(""),
            m.body
        );
    }
    Ok(())
}
