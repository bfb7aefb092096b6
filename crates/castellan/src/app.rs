//! Assembly: the application state, the router, and starting or stopping a server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use castellan_core::clock::Clock;
use castellan_core::directory::bootstrap::{self, AdminCredentials, AdminOutcome};
use castellan_core::login::recovery::{Mailer, OutboxMailer, Recovery};
use castellan_core::oauth::access_token::TokenService;
use castellan_core::oauth::keyring::Keyring;
use castellan_core::passwords::PasswordService;
use castellan_core::scripts::Scripts;
use castellan_core::secrets::MasterKey;
use castellan_core::store::Store;
use castellan_core::system_apis;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::Value;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::Settings;
use crate::http::error::ApiError;
use crate::http::pages::{self, Pages};
use crate::http::rate_limit::{self, RateLimits};
use crate::http::{
    authz, client_address, cors, dbconnections, management, oauth, ops, request_id, serve,
};
use crate::{master_key, telemetry};

/// How often a node reloads the signing keys, so a rotation made elsewhere reaches it.
const KEY_REFRESH_INTERVAL: Duration =
    Duration::from_secs(castellan_core::oauth::keyring::REFRESH_SECONDS as u64);
const METRICS_UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Housekeeping deletes expired rows this often (and once at start).
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<TokenService>,
    /// What a Management API token's `aud` may say: the identifier and its https alias.
    pub management_audiences: Arc<Vec<String>>,
    pub metrics: PrometheusHandle,
    pub management_openapi: Arc<Value>,
    pub authz_openapi: Arc<Value>,
    pub passwords: Arc<PasswordService>,
    pub pages: Arc<Pages>,
    pub mailer: Arc<dyn Mailer>,
    pub rate_limits: RateLimits,
    /// Seals secrets at rest other than signing keys (rules configuration values).
    pub master_key: Arc<MasterKey>,
    /// Runs the log-in's rules and actions.
    pub scripts: Arc<Scripts>,
    /// The store's last readiness probe, shared by `/readyz` calls.
    pub readiness: Arc<crate::http::ops::Readiness>,
}

impl AppState {
    /// What issuing a user's tokens draws on.
    pub fn services(&self) -> castellan_core::oauth::password::Services<'_> {
        castellan_core::oauth::password::Services {
            store: self.store.as_ref(),
            tokens: &self.tokens,
            passwords: &self.passwords,
            clock: self.clock.as_ref(),
            scripts: self.scripts.as_ref(),
            master_key: &self.master_key,
        }
    }

    /// Checks and enrols second factors (`castellan_core::mfa::factors`).
    pub fn factors(&self) -> castellan_core::mfa::factors::Factors<'_> {
        castellan_core::mfa::factors::Factors {
            store: self.store.as_ref(),
            clock: self.clock.as_ref(),
            master: &self.master_key,
            mailer: self.mailer.as_ref(),
        }
    }

    pub fn recovery(&self) -> Recovery<'_> {
        Recovery {
            store: self.store.as_ref(),
            mailer: self.mailer.as_ref(),
            clock: self.clock.as_ref(),
            issuer: &self.settings.issuer,
        }
    }

    /// Mails a reset link in the background, after the request was checked: the answer
    /// does not wait for the account lookup or the mail, so it takes as long whether or
    /// not the address has an account.
    pub fn queue_reset(
        &self,
        client: castellan_core::model::Client,
        connection: String,
        email: String,
        ctx: castellan_core::events::RequestContext,
    ) {
        let state = self.clone();
        tokio::spawn(async move {
            let recovery = state.recovery();
            if let Err(e) = recovery
                .send_reset(&client, &connection, &email, &ctx)
                .await
            {
                tracing::warn!(cause = %e, "could not send a password reset link");
            }
        });
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] castellan_store::OpenError),
    #[error(transparent)]
    MasterKey(#[from] master_key::MasterKeyError),
    #[error("cannot prepare the tenant: {0}")]
    Bootstrap(#[from] castellan_core::Error),
    #[error(transparent)]
    Smtp(#[from] crate::mail::SmtpError),
    #[error(transparent)]
    Templates(#[from] crate::http::pages::TemplateError),
    #[error(transparent)]
    Tls(#[from] serve::TlsError),
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        addr: SocketAddr,
        cause: std::io::Error,
    },
}

/// Opens the store and makes sure of everything a start makes sure of; returns the state.
pub async fn prepare(settings: Settings, clock: Arc<dyn Clock>) -> Result<AppState, StartError> {
    // First, so that the store's own metrics (the log queue's) are recorded.
    let metrics = telemetry::metrics_handle();
    let store = castellan_store::open_with(&settings.database_url, &settings.store).await?;
    let master = master_key::load(&settings)?;
    bootstrap::ensure_tenant(store.as_ref(), &settings.issuer).await?;
    let jwks_max_age = i64::from(settings.jwks_max_age_secs);
    let keyring = Keyring::open(store.clone(), master.clone(), clock.clone(), jwks_max_age).await?;
    let configured = settings
        .bootstrap
        .as_ref()
        .map(|(id, secret)| AdminCredentials {
            client_id: id.clone(),
            client_secret: secret.0.clone(),
        });
    match bootstrap::ensure_admin(store.as_ref(), clock.as_ref(), &settings.issuer, configured)
        .await?
    {
        AdminOutcome::Generated(c) => print_generated_admin(&settings.issuer, &c),
        AdminOutcome::Ensured => tracing::info!("bootstrap administrator ensured"),
        AdminOutcome::Untouched => {}
    }
    // After the administrator: an empty store is how a first start is recognised there.
    castellan_core::login::console::ensure_client(store.as_ref(), clock.as_ref(), &settings.issuer)
        .await?;
    let mut management_audiences = vec![system_apis::management_api_identifier(&settings.issuer)];
    management_audiences.extend(system_apis::management_api_https_alias(&settings.issuer));
    let management_openapi = management::api().openapi(&settings.issuer);
    let authz_openapi = authz::api().openapi(&settings.issuer);
    let pages = Pages::load(settings.templates_dir.as_deref())?;
    let passwords = PasswordService::with_limits(settings.password_hashing)
        .keeping_sessions(settings.keep_sessions_on_password_change);
    let password_checks_per_second = settings.password_checks_per_second.unwrap_or_else(|| {
        rate_limit::default_password_checks_per_second(passwords.hashes_per_second())
    });
    tracing::info!(
        workers = settings.password_hashing.workers,
        queue = settings.password_hashing.queue,
        hashes_per_second = passwords.hashes_per_second().round(),
        per_address_per_second = password_checks_per_second,
        "password hashing"
    );
    let rate_limits = RateLimits::new(
        settings.authentication_per_second,
        password_checks_per_second,
        settings.client_credentials_per_second,
    );
    let mailer: Arc<dyn Mailer> = match &settings.smtp {
        Some(smtp) => Arc::new(crate::mail::SmtpMailer::new(smtp)?),
        None => Arc::new(OutboxMailer {
            store: store.clone(),
            clock: clock.clone(),
        }),
    };
    let tokens = Arc::new(TokenService {
        issuer: settings.issuer.clone(),
        keyring: Arc::new(keyring),
        clock: clock.clone(),
    });
    let scripts = crate::script_engine::scripts(&settings, master.clone())
        .with_management_tokens(Arc::clone(&tokens));
    Ok(AppState {
        scripts: Arc::new(scripts),
        tokens,
        settings: Arc::new(settings),
        store,
        clock,
        management_audiences: Arc::new(management_audiences),
        metrics,
        management_openapi: Arc::new(management_openapi),
        authz_openapi: Arc::new(authz_openapi),
        pages: Arc::new(pages),
        mailer,
        rate_limits,
        master_key: Arc::new(master),
        passwords: Arc::new(passwords),
        readiness: Arc::default(),
    })
}

/// Printed once, to the terminal and not to the log, because it holds a secret.
fn print_generated_admin(issuer: &str, c: &AdminCredentials) {
    println!(
        "\nNo administrator was configured and the store was empty, so one was made.\n\
         Keep these credentials; the secret is not shown again:\n\n  \
         CASTELLAN_ADMIN_CLIENT_ID={}\n  CASTELLAN_ADMIN_CLIENT_SECRET={}\n\n\
         Management API audience: {}\n",
        c.client_id,
        c.client_secret,
        system_apis::management_api_identifier(issuer)
    );
}

pub fn router(state: AppState) -> Router {
    let management = management::api();
    let authz = authz::api();
    // Endpoints that check credentials or create accounts, limited per address; those
    // that hash a password also draw on the address's hashing budget.
    let password_check =
        || middleware::from_fn_with_state(state.clone(), rate_limit::password_check);
    let authentication_limit =
        || middleware::from_fn_with_state(state.clone(), rate_limit::authentication);
    let hashing = Router::new()
        .route("/authorize/login", post(pages::authorize::login))
        .route("/authorize/signup", post(pages::authorize::signup))
        .route("/reset-password", post(pages::recovery::reset_submit))
        .route("/activate/login", post(pages::device::login))
        .route_layer(password_check());
    let authentication = Router::new()
        .route("/authorize/forgot", post(pages::recovery::forgot_submit))
        // Guessing user codes, or deciding with one, is limited like a log-in.
        .route("/activate", post(pages::device::submit_code))
        .route("/activate/confirm", post(pages::device::confirm))
        .route(
            "/oauth/device/code",
            post(oauth::device::device_code)
                .layer(DefaultBodyLimit::max(oauth::token::MAX_TOKEN_REQUEST_BYTES)),
        )
        .route_layer(authentication_limit())
        .merge(hashing);
    // What single-page apps call from their own origin (`http/cors.rs`).
    let for_browser_apps = Router::new()
        .route(
            "/oauth/token",
            post(oauth::token::token)
                .layer(DefaultBodyLimit::max(oauth::token::MAX_TOKEN_REQUEST_BYTES)),
        )
        .route("/oauth/revoke", post(oauth::revoke::revoke))
        .route("/mfa/authenticators", get(oauth::mfa::authenticators::list))
        .route(
            "/mfa/authenticators/{id}",
            delete(oauth::mfa::authenticators::delete),
        )
        .route("/mfa/associate", post(oauth::mfa::associate::associate))
        // Sends mail, and checks client secrets: limited like a log-in.
        .route(
            "/mfa/challenge",
            post(oauth::mfa::challenge::challenge).layer(authentication_limit()),
        )
        .route(
            "/userinfo",
            get(oauth::userinfo::userinfo).post(oauth::userinfo::userinfo),
        )
        .route(
            "/dbconnections/signup",
            post(dbconnections::signup)
                .layer(DefaultBodyLimit::max(dbconnections::MAX_BODY_BYTES))
                .layer(password_check()),
        )
        .route(
            "/dbconnections/change_password",
            post(dbconnections::change_password)
                .layer(DefaultBodyLimit::max(dbconnections::MAX_BODY_BYTES))
                .layer(authentication_limit()),
        )
        .layer(cors::for_clients(state.clone()));
    let public_documents = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(oauth::discovery::openid_configuration),
        )
        .route("/.well-known/jwks.json", get(oauth::discovery::jwks))
        .layer(cors::public());
    let mut app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    if state.settings.metrics.listen.is_none() {
        app = app.route("/metrics", get(ops::metrics));
    }
    app.merge(public_documents)
        .merge(for_browser_apps)
        .route("/authorize", get(pages::authorize::authorize))
        .route(
            "/continue",
            get(pages::continue_login::resume).post(pages::continue_login::resume),
        )
        .route("/authorize/consent", post(pages::authorize::consent))
        .route("/activate", get(pages::device::activate))
        .route("/authorize/forgot", get(pages::recovery::forgot_page))
        .route("/reset-password", get(pages::recovery::reset_page))
        .route("/verify-email", get(pages::recovery::verify_email))
        .route("/v2/logout", get(pages::logout::v2_logout))
        .route("/oidc/logout", get(pages::logout::oidc_logout))
        .route("/static/castellan.css", get(pages::stylesheet))
        .route(
            "/api/v2/openapi.json",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    axum::Json(s.management_openapi.as_ref().clone())
                },
            ),
        )
        .route(
            "/authz/api/openapi.json",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    axum::Json(s.authz_openapi.as_ref().clone())
                },
            ),
        )
        .merge(authentication)
        .merge(crate::http::console::router())
        .nest(management::PREFIX, management.router(&state))
        .nest(authz::PREFIX, authz.router(&state))
        .fallback(not_found)
        .layer(middleware::from_fn(crate::http::input::uri))
        .layer(middleware::from_fn(ops::record))
        .layer(middleware::from_fn(ops::retry_after_when_unavailable))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_address::layer,
        ))
        // Every body is limited; the routes that take only small forms set a lower limit.
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| panic_response()))
        .layer(request_id::layers())
        .with_state(state)
}

/// What the separate metrics listener serves (`[metrics] listen`).
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not Found")
}

fn panic_response() -> Response {
    tracing::error!("a handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Internal error",
    )
    .into_response()
}

/// A server that is listening.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served when it has its own listener.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.unwrap_or(Ok(()))
    }

    /// Waits until the server has ended (after the `until` future of `start` completed).
    pub async fn wait(self) -> std::io::Result<()> {
        // Dropping the sender would stop the server, so it lives until the task ends.
        let Running { shutdown, task, .. } = self;
        let result = task.await.unwrap_or(Ok(()));
        drop(shutdown);
        result
    }
}

/// Binds the listener and serves until `stop` (or the future `until`) completes.
pub async fn start(
    state: AppState,
    until: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    // Before binding, so that a bad certificate is the error and nothing half starts.
    let tls = match &state.settings.serve.tls {
        Some(files) => Some(serve::Tls::load(files)?),
        None => None,
    };
    let listen = state.settings.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|cause| StartError::Listen {
            addr: listen,
            cause,
        })?;
    let addr = listener.local_addr().map_err(|cause| StartError::Listen {
        addr: listen,
        cause,
    })?;
    let metrics_listener = match state.settings.metrics.listen {
        Some(at) => {
            let listener = TcpListener::bind(at)
                .await
                .map_err(|cause| StartError::Listen { addr: at, cause })?;
            let bound = listener
                .local_addr()
                .map_err(|cause| StartError::Listen { addr: at, cause })?;
            Some((listener, bound))
        }
        None => None,
    };
    let metrics_addr = metrics_listener.as_ref().map(|(_, bound)| *bound);
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let refresher = tokio::spawn(housekeeping(
        state.tokens.keyring.clone(),
        state.rate_limits.clone(),
        state.metrics.clone(),
    ));
    let purger = tokio::spawn(purge_expired(state.clone()));
    let app = router(state.clone());
    let limits = state.settings.serve.clone();
    // Both listeners stop together, on the first of `stop` and `until`.
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let stop = move || {
        let mut seen = stop_seen.clone();
        async move {
            let _ = seen.wait_for(|stop| *stop).await;
        }
    };
    let metrics_task = metrics_listener.map(|(listener, _)| {
        tokio::spawn(serve::serve(
            listener,
            metrics_router(state.clone()),
            limits.clone(),
            None,
            stop(),
        ))
    });
    let main_stop = stop();
    let task = tokio::spawn(async move {
        let signalled = tokio::spawn(async move {
            tokio::select! {
                _ = stopped => {}
                _ = until => {}
            }
            let _ = stopping.send(true);
        });
        let result = serve::serve(listener, app, limits, tls, main_stop).await;
        if let Some(metrics) = metrics_task {
            let _ = metrics.await;
        }
        signalled.abort();
        refresher.abort();
        purger.abort();
        result
    });
    Ok(Running {
        addr,
        metrics_addr,
        state,
        shutdown,
        task,
    })
}

/// Deletes what has expired from the store (`castellan_core::housekeeping`), at start and
/// then every `PURGE_INTERVAL`. Several nodes doing it at once delete nothing twice.
async fn purge_expired(state: AppState) {
    let mut tick = tokio::time::interval(PURGE_INTERVAL);
    loop {
        tick.tick().await;
        let store = state.store.as_ref();
        let days = state.settings.log_retention_days;
        match castellan_core::housekeeping::purge(store, state.clock.as_ref(), days).await {
            Ok(purged) => tracing::debug!(?purged, "purged expired rows"),
            Err(e) => tracing::warn!(cause = %e, "could not purge expired rows; trying later"),
        }
    }
}

/// Periodic chores: fold recorded latencies into the histograms (otherwise samples pile up
/// until someone scrapes `/metrics`), reload signing keys, forget quiet addresses of the
/// rate limiter.
async fn housekeeping(keyring: Arc<Keyring>, rate_limits: RateLimits, metrics: PrometheusHandle) {
    let mut tick = tokio::time::interval(METRICS_UPKEEP_INTERVAL);
    let mut last_refresh = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        metrics.run_upkeep();
        if last_refresh.elapsed() < KEY_REFRESH_INTERVAL {
            continue;
        }
        last_refresh = tokio::time::Instant::now();
        rate_limits.forget_quiet_addresses();
        if let Err(e) = keyring.refresh().await {
            tracing::warn!(cause = %e, "could not refresh signing keys; keeping the ones loaded");
        }
    }
}
