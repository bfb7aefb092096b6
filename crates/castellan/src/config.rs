//! Settings, layered: built-in defaults < TOML file (`--config`) < `CASTELLAN_*` environment
//! < command-line flags. Validated once here and then passed around in the app state.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use castellan_core::passwords::HashingLimits;

use crate::http::client_address::TrustedProxies;
use crate::http::serve::{ServeLimits, TlsFiles};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./castellan-data/castellan.db";
const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{name}: {message}")]
    Value { name: &'static str, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// What the file may say; every key is optional and unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    database_url: Option<String>,
    issuer: Option<String>,
    log_format: Option<LogFormat>,
    data_dir: Option<PathBuf>,
    secret_key: Option<String>,
    secret_key_file: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    templates_dir: Option<PathBuf>,
    bootstrap: Option<BootstrapFile>,
    rate_limits: Option<RateLimitsFile>,
    smtp: Option<SmtpFile>,
    scripts: Option<ScriptsFile>,
    log_retention_days: Option<u32>,
    jwks_max_age_secs: Option<u32>,
    keep_sessions_on_password_change: Option<bool>,
    http: Option<HttpFile>,
    password_hashing: Option<PasswordHashingFile>,
    metrics: Option<MetricsFile>,
    trusted_proxies: Option<Vec<String>>,
    store: Option<StoreFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    acquire_timeout_secs: Option<u64>,
    statement_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsFile {
    token: Option<String>,
    listen: Option<String>,
}

/// Who may read `/metrics`, and where (`[metrics]`, `CASTELLAN_METRICS_*`).
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
    /// When set, `/metrics` is served on this address only, not on `listen`.
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordHashingFile {
    workers: Option<usize>,
    queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    header_read_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptsFile {
    workers: Option<usize>,
    memory_mib: Option<usize>,
    rule_timeout_ms: Option<u64>,
    login_timeout_ms: Option<u64>,
    fetch_allow: Option<Vec<String>>,
    fetch_proxy: Option<String>,
    geoip_database: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpFile {
    host: Option<String>,
    port: Option<u16>,
    username: Option<String>,
    password: Option<String>,
    from: Option<String>,
    tls: Option<SmtpTls>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP, for a relay on the same host or network.
    None,
    #[default]
    StartTls,
    Tls,
}

/// Where mail goes when configured (`[smtp]`, `CASTELLAN_SMTP_*`).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub tls: SmtpTls,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitsFile {
    authentication_per_second: Option<u32>,
    password_checks_per_second: Option<u32>,
    client_credentials_per_second: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BootstrapFile {
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The flags that override everything else.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct Overrides {
    /// TOML settings file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// sqlite://PATH or postgres://... [default: sqlite://./castellan-data/castellan.db].
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Public issuer URL; a trailing `/` is added [default: http://{listen}/, https:// with TLS].
    #[arg(long, global = true)]
    pub issuer: Option<String>,
    /// Log lines as human-readable text or JSON.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// `serve --tls-cert`: flags of that command only, put here by `cli` so that they
    /// override like the others.
    #[arg(skip)]
    pub tls_cert: Option<PathBuf>,
    /// `serve --tls-key`.
    #[arg(skip)]
    pub tls_key: Option<PathBuf>,
}

/// A secret that never reaches a log or `config print`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub issuer: String,
    pub log_format: LogFormat,
    pub data_dir: PathBuf,
    pub secret_key: Option<Secret>,
    pub secret_key_file: Option<PathBuf>,
    pub max_body_bytes: usize,
    /// Page templates here replace the built-in ones of the same name.
    pub templates_dir: Option<PathBuf>,
    pub bootstrap: Option<(String, Secret)>,
    /// Requests a second per address on log-in, sign-up and reset endpoints; 0 is off.
    pub authentication_per_second: u32,
    /// Password checks (log-ins, sign-ups, new passwords) a second per address; `None`
    /// is a quarter of what the machine can hash, 0 is off.
    pub password_checks_per_second: Option<u32>,
    /// The same for client credentials; off unless set.
    pub client_credentials_per_second: u32,
    /// Hashing threads and how many hashes may wait for one (`[password_hashing]`).
    pub password_hashing: HashingLimits,
    pub smtp: Option<SmtpSettings>,
    /// The rules and actions sandbox (`[scripts]`, `CASTELLAN_SCRIPTS_*`).
    pub scripts: castellan_rules::Limits,
    /// Where scripts' `geoip` comes from (`[scripts] geoip_database`,
    /// `CASTELLAN_SCRIPTS_GEOIP_DATABASE`), opened when the settings are read.
    pub geoip_database: Option<crate::geoip::GeoIpDatabase>,
    /// Days a tenant-log event is kept; 0 keeps them all.
    pub log_retention_days: u32,
    /// How long clients may cache the JWKS (its `Cache-Control: max-age`); a rotated key
    /// waits this long after being published before it signs.
    pub jwks_max_age_secs: u32,
    /// Whether a password change leaves the user's refresh tokens and sessions alive
    /// (Auth0's older behaviour). Off: a new password ends them.
    pub keep_sessions_on_password_change: bool,
    /// Connection deadlines and the connection cap (`[http]`, `CASTELLAN_HTTP_*`).
    pub serve: ServeLimits,
    pub metrics: MetricsSettings,
    /// Peers whose `Forwarded` / `X-Forwarded-For` name the client; none by default.
    pub trusted_proxies: TrustedProxies,
    /// How long requests wait for the database (`[store]`, `CASTELLAN_STORE_*`).
    pub store: castellan_store::StoreOptions,
}

const DEFAULT_AUTHENTICATION_PER_SECOND: u32 = 100;
/// Auth0 keeps tenant logs for up to 30 days, depending on the plan.
pub const DEFAULT_LOG_RETENTION_DAYS: u32 = 30;
/// Five minutes, as Auth0's JWKS.
pub const DEFAULT_JWKS_MAX_AGE_SECS: u32 = 300;

/// The environment as a lookup, so tests can pass their own.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

/// `NAME`, or the contents of the file `NAME_FILE` names.
fn env_secret(env: &dyn Env, name: &'static str) -> Result<Option<String>, ConfigError> {
    if let Some(value) = env.var(name) {
        return Ok(Some(value));
    }
    let file_var = format!("{name}_FILE");
    match env.var(&file_var) {
        Some(path) => read_trimmed(Path::new(&path)).map(Some),
        None => Ok(None),
    }
}

pub fn read_trimmed(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|cause| ConfigError::Read {
            path: path.display().to_string(),
            cause,
        })
}

impl Settings {
    pub fn load(overrides: &Overrides, env: &dyn Env) -> Result<Self, ConfigError> {
        let file = match &overrides.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
                    path: path.display().to_string(),
                    cause,
                })?;
                toml::from_str::<FileSettings>(&text).map_err(|e| ConfigError::File {
                    path: path.display().to_string(),
                    message: e.message().to_string(),
                })?
            }
            None => FileSettings::default(),
        };
        let pick = |flag: &Option<String>, var: &str, from_file: Option<String>| {
            flag.clone().or_else(|| env.var(var)).or(from_file)
        };

        let listen_text = pick(&overrides.listen, "CASTELLAN_LISTEN", file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_text.parse().map_err(|_| ConfigError::Value {
            name: "listen",
            message: format!("\"{listen_text}\" is not an address like 127.0.0.1:8080"),
        })?;

        let database_url = pick(
            &overrides.database,
            "CASTELLAN_DATABASE_URL",
            file.database_url,
        )
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| database_url.starts_with(p))
        {
            return Err(ConfigError::Value {
                name: "database_url",
                message: "must start with sqlite:// or postgres://".into(),
            });
        }

        let serve = serve_limits(env, overrides, file.http.unwrap_or_default())?;
        let scheme = if serve.tls.is_some() { "https" } else { "http" };
        let issuer = normalise_issuer(
            &pick(&overrides.issuer, "CASTELLAN_ISSUER", file.issuer)
                .unwrap_or_else(|| format!("{scheme}://{listen}/")),
        )?;

        let log_format = overrides
            .log_format
            .or(match env.var("CASTELLAN_LOG_FORMAT").as_deref() {
                Some("json") => Some(LogFormat::Json),
                Some("text") => Some(LogFormat::Text),
                Some(other) => {
                    return Err(ConfigError::Value {
                        name: "log_format",
                        message: format!("\"{other}\" is not one of text, json"),
                    });
                }
                None => None,
            })
            .or(file.log_format)
            .unwrap_or_default();

        let data_dir = env
            .var("CASTELLAN_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| default_data_dir(&database_url));

        let secret_key = env_secret(env, "CASTELLAN_SECRET_KEY")?
            .or(file.secret_key)
            .map(Secret);
        let secret_key_file = file.secret_key_file;

        let max_body_bytes = match env.var("CASTELLAN_MAX_BODY_BYTES") {
            Some(v) => v.parse().map_err(|_| ConfigError::Value {
                name: "max_body_bytes",
                message: format!("\"{v}\" is not a number of bytes"),
            })?,
            None => file.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        };

        let limits = file.rate_limits.unwrap_or_default();
        let per_second = |name: &'static str, var: &str, from_file: Option<u32>, default: u32| {
            match env.var(var) {
                Some(v) => v.parse::<u32>().map_err(|_| ConfigError::Value {
                    name,
                    message: format!("\"{v}\" is not a whole number of requests per second"),
                }),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let authentication_per_second = per_second(
            "rate_limits.authentication_per_second",
            "CASTELLAN_RATE_LIMIT_AUTHENTICATION",
            limits.authentication_per_second,
            DEFAULT_AUTHENTICATION_PER_SECOND,
        )?;
        let password_checks_per_second =
            match env.var("CASTELLAN_RATE_LIMIT_PASSWORD_CHECKS").as_deref() {
                Some("auto") => None,
                Some(v) => Some(v.parse::<u32>().map_err(|_| ConfigError::Value {
                    name: "rate_limits.password_checks_per_second",
                    message: format!("\"{v}\" is not a whole number of checks per second or auto"),
                })?),
                None => limits.password_checks_per_second,
            };
        let client_credentials_per_second = per_second(
            "rate_limits.client_credentials_per_second",
            "CASTELLAN_RATE_LIMIT_CLIENT_CREDENTIALS",
            limits.client_credentials_per_second,
            0,
        )?;
        let log_retention_days = whole_number(
            env,
            "log_retention_days",
            "CASTELLAN_LOG_RETENTION_DAYS",
            file.log_retention_days,
            DEFAULT_LOG_RETENTION_DAYS,
        )?;
        let jwks_max_age_secs = whole_number(
            env,
            "jwks_max_age_secs",
            "CASTELLAN_JWKS_MAX_AGE_SECS",
            file.jwks_max_age_secs,
            DEFAULT_JWKS_MAX_AGE_SECS,
        )?;
        let keep_sessions_on_password_change = match env
            .var("CASTELLAN_KEEP_SESSIONS_ON_PASSWORD_CHANGE")
            .as_deref()
        {
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(ConfigError::Value {
                    name: "keep_sessions_on_password_change",
                    message: format!("\"{other}\" is not one of true, false"),
                });
            }
            None => file.keep_sessions_on_password_change.unwrap_or(false),
        };
        let smtp = smtp_settings(env, file.smtp.unwrap_or_default())?;
        let mut scripts_file = file.scripts.unwrap_or_default();
        let geoip_database = geoip_database(env, scripts_file.geoip_database.take())?;
        let scripts = script_limits(env, scripts_file)?;
        let password_hashing = hashing_limits(env, file.password_hashing.unwrap_or_default())?;
        let metrics = metrics_settings(env, file.metrics.unwrap_or_default())?;
        let store = store_options(env, file.store.unwrap_or_default())?;
        let proxies: Vec<String> = match env.var("CASTELLAN_TRUSTED_PROXIES") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        };
        let trusted_proxies =
            TrustedProxies::parse(&proxies).map_err(|message| ConfigError::Value {
                name: "trusted_proxies",
                message,
            })?;
        let file_bootstrap = file.bootstrap.unwrap_or_default();
        let admin_id = env
            .var("CASTELLAN_ADMIN_CLIENT_ID")
            .or(file_bootstrap.client_id);
        let admin_secret =
            env_secret(env, "CASTELLAN_ADMIN_CLIENT_SECRET")?.or(file_bootstrap.client_secret);
        let bootstrap = match (admin_id, admin_secret) {
            (Some(id), Some(secret)) => Some((id, Secret(secret))),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Value {
                    name: "bootstrap",
                    message:
                        "CASTELLAN_ADMIN_CLIENT_ID and CASTELLAN_ADMIN_CLIENT_SECRET go together"
                            .into(),
                });
            }
        };

        Ok(Self {
            listen,
            database_url,
            issuer,
            log_format,
            data_dir,
            secret_key,
            secret_key_file,
            max_body_bytes,
            authentication_per_second,
            password_checks_per_second,
            client_credentials_per_second,
            password_hashing,
            smtp,
            scripts,
            geoip_database,
            log_retention_days,
            jwks_max_age_secs,
            keep_sessions_on_password_change,
            serve,
            metrics,
            trusted_proxies,
            store,
            templates_dir: env
                .var("CASTELLAN_TEMPLATES_DIR")
                .map(PathBuf::from)
                .or(file.templates_dir),
            bootstrap,
        })
    }

    /// The settings as TOML, secrets replaced by `<redacted>`.
    pub fn print(&self) -> String {
        let redact = |set: bool| set.then(|| "<redacted>".to_string());
        let mut doc = toml::Table::new();
        let mut put = |k: &str, v: toml::Value| {
            doc.insert(k.to_string(), v);
        };
        put("listen", self.listen.to_string().into());
        put("database_url", redact_url(&self.database_url).into());
        put("issuer", self.issuer.clone().into());
        put(
            "log_format",
            if self.log_format == LogFormat::Json {
                "json"
            } else {
                "text"
            }
            .into(),
        );
        put("data_dir", self.data_dir.display().to_string().into());
        if let Some(v) = redact(self.secret_key.is_some()) {
            put("secret_key", v.into());
        }
        if let Some(path) = &self.secret_key_file {
            put("secret_key_file", path.display().to_string().into());
        }
        put("max_body_bytes", (self.max_body_bytes as i64).into());
        put(
            "log_retention_days",
            i64::from(self.log_retention_days).into(),
        );
        put(
            "jwks_max_age_secs",
            i64::from(self.jwks_max_age_secs).into(),
        );
        put(
            "keep_sessions_on_password_change",
            self.keep_sessions_on_password_change.into(),
        );
        if let Some(dir) = &self.templates_dir {
            put("templates_dir", dir.display().to_string().into());
        }
        let mut limits = toml::Table::new();
        limits.insert(
            "authentication_per_second".into(),
            i64::from(self.authentication_per_second).into(),
        );
        if let Some(n) = self.password_checks_per_second {
            limits.insert("password_checks_per_second".into(), i64::from(n).into());
        }
        limits.insert(
            "client_credentials_per_second".into(),
            i64::from(self.client_credentials_per_second).into(),
        );
        put("rate_limits", limits.into());
        let mut scripts = toml::Table::new();
        let as_int = |n: u128| i64::try_from(n).unwrap_or(i64::MAX);
        scripts.insert(
            "workers".into(),
            as_int(self.scripts.workers as u128).into(),
        );
        scripts.insert(
            "memory_mib".into(),
            as_int((self.scripts.memory_bytes / (1024 * 1024)) as u128).into(),
        );
        scripts.insert(
            "rule_timeout_ms".into(),
            as_int(self.scripts.per_rule.as_millis()).into(),
        );
        scripts.insert(
            "login_timeout_ms".into(),
            as_int(self.scripts.per_login.as_millis()).into(),
        );
        scripts.insert(
            "fetch_allow".into(),
            toml::Value::Array(
                self.scripts
                    .fetch_allow
                    .entries()
                    .into_iter()
                    .map(toml::Value::from)
                    .collect(),
            ),
        );
        if let Some(proxy) = &self.scripts.fetch_proxy {
            scripts.insert("fetch_proxy".into(), redact_url(proxy.as_str()).into());
        }
        if let Some(database) = &self.geoip_database {
            scripts.insert(
                "geoip_database".into(),
                database.path().display().to_string().into(),
            );
        }
        put("scripts", scripts.into());
        let mut http = toml::Table::new();
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        http.insert(
            "header_read_timeout_secs".into(),
            secs(self.serve.header_read_timeout).into(),
        );
        http.insert(
            "body_timeout_secs".into(),
            secs(self.serve.body_timeout).into(),
        );
        http.insert(
            "idle_timeout_secs".into(),
            secs(self.serve.idle_timeout).into(),
        );
        http.insert(
            "max_connections".into(),
            as_int(self.serve.max_connections as u128).into(),
        );
        if let Some(tls) = &self.serve.tls {
            http.insert("tls_cert".into(), tls.cert.display().to_string().into());
            http.insert("tls_key".into(), tls.key.display().to_string().into());
        }
        put("http", http.into());
        put(
            "trusted_proxies",
            toml::Value::Array(
                self.trusted_proxies
                    .entries()
                    .into_iter()
                    .map(toml::Value::from)
                    .collect(),
            ),
        );
        let mut metrics = toml::Table::new();
        if self.metrics.token.is_some() {
            metrics.insert("token".into(), "<redacted>".into());
        }
        if let Some(listen) = self.metrics.listen {
            metrics.insert("listen".into(), listen.to_string().into());
        }
        put("metrics", metrics.into());
        let mut hashing = toml::Table::new();
        hashing.insert(
            "workers".into(),
            as_int(self.password_hashing.workers as u128).into(),
        );
        hashing.insert(
            "queue".into(),
            as_int(self.password_hashing.queue as u128).into(),
        );
        put("password_hashing", hashing.into());
        let mut store = toml::Table::new();
        if let Some(wait) = self.store.acquire_timeout {
            store.insert("acquire_timeout_secs".into(), secs(wait).into());
        }
        store.insert(
            "statement_timeout_secs".into(),
            secs(self.store.statement_timeout).into(),
        );
        put("store", store.into());
        if let Some(smtp) = &self.smtp {
            let mut t = toml::Table::new();
            t.insert("host".into(), smtp.host.clone().into());
            t.insert("port".into(), i64::from(smtp.port).into());
            t.insert("from".into(), smtp.from.clone().into());
            if let Some(user) = &smtp.username {
                t.insert("username".into(), user.clone().into());
            }
            if smtp.password.is_some() {
                t.insert("password".into(), "<redacted>".into());
            }
            put("smtp", t.into());
        }
        if let Some((id, _)) = &self.bootstrap {
            let mut b = toml::Table::new();
            b.insert("client_id".into(), id.clone().into());
            b.insert("client_secret".into(), "<redacted>".into());
            put("bootstrap", b.into());
        }
        toml::to_string(&doc).unwrap_or_default()
    }
}

/// A whole number from the environment, else the file, else the default.
fn whole_number<T: std::str::FromStr>(
    env: &dyn Env,
    name: &'static str,
    var: &str,
    from_file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match env.var(var) {
        Some(v) => v.parse::<T>().map_err(|_| ConfigError::Value {
            name,
            message: format!("\"{v}\" is not a whole number"),
        }),
        None => Ok(from_file.unwrap_or(default)),
    }
}

/// A positive whole number from the environment, else the file, else the default.
fn positive<T: std::str::FromStr + PartialOrd + Default + Copy>(
    env: &dyn Env,
    name: &'static str,
    var: &str,
    from_file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    let value = whole_number(env, name, var, from_file, default)?;
    if value <= T::default() {
        return Err(ConfigError::Value {
            name,
            message: "must be greater than zero".into(),
        });
    }
    Ok(value)
}

fn script_limits(env: &dyn Env, file: ScriptsFile) -> Result<castellan_rules::Limits, ConfigError> {
    let defaults = castellan_rules::Limits::default();
    let fetch_allow: Vec<String> = match env.var("CASTELLAN_SCRIPTS_FETCH_ALLOW") {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        None => file.fetch_allow.unwrap_or_default(),
    };
    for entry in &fetch_allow {
        castellan_rules::AllowList::check_entry(entry).map_err(|message| ConfigError::Value {
            name: "scripts.fetch_allow",
            message,
        })?;
    }
    let fetch_proxy = match env
        .var("CASTELLAN_SCRIPTS_FETCH_PROXY")
        .or(file.fetch_proxy)
    {
        Some(written) => Some(fetch_proxy(&written).map_err(|message| ConfigError::Value {
            name: "scripts.fetch_proxy",
            message,
        })?),
        None => None,
    };
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Ok(castellan_rules::Limits {
        workers: positive(
            env,
            "scripts.workers",
            "CASTELLAN_SCRIPTS_WORKERS",
            file.workers,
            defaults.workers,
        )?,
        memory_bytes: positive(
            env,
            "scripts.memory_mib",
            "CASTELLAN_SCRIPTS_MEMORY_MIB",
            file.memory_mib,
            defaults.memory_bytes / (1024 * 1024),
        )? * 1024
            * 1024,
        per_rule: std::time::Duration::from_millis(positive(
            env,
            "scripts.rule_timeout_ms",
            "CASTELLAN_SCRIPTS_RULE_TIMEOUT_MS",
            file.rule_timeout_ms,
            ms(defaults.per_rule),
        )?),
        per_login: std::time::Duration::from_millis(positive(
            env,
            "scripts.login_timeout_ms",
            "CASTELLAN_SCRIPTS_LOGIN_TIMEOUT_MS",
            file.login_timeout_ms,
            ms(defaults.per_login),
        )?),
        fetch_allow: castellan_rules::AllowList::new(&fetch_allow),
        fetch_proxy,
        ..defaults
    })
}

/// An HTTP proxy as `http://host:port` (or `https://`), with credentials if it needs them.
fn fetch_proxy(written: &str) -> Result<url::Url, String> {
    let invalid = || {
        format!(
            "\"{}\" is not a proxy URL like http://proxy.internal:3128",
            redact_url(written)
        )
    };
    let url = url::Url::parse(written.trim()).map_err(|_| invalid())?;
    let bare = matches!(url.path(), "" | "/") && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare {
        return Err(invalid());
    }
    Ok(url)
}

/// The database's path from the environment, else the file; one that does not open as a
/// MaxMind database stops the start, naming it.
fn geoip_database(
    env: &dyn Env,
    from_file: Option<PathBuf>,
) -> Result<Option<crate::geoip::GeoIpDatabase>, ConfigError> {
    let Some(path) = env
        .var("CASTELLAN_SCRIPTS_GEOIP_DATABASE")
        .map(PathBuf::from)
        .or(from_file)
    else {
        return Ok(None);
    };
    crate::geoip::GeoIpDatabase::open(&path)
        .map(Some)
        .map_err(|message| ConfigError::Value {
            name: "scripts.geoip_database",
            message,
        })
}

fn metrics_settings(env: &dyn Env, file: MetricsFile) -> Result<MetricsSettings, ConfigError> {
    let token = env_secret(env, "CASTELLAN_METRICS_TOKEN")?.or(file.token);
    if token.as_ref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ConfigError::Value {
            name: "metrics.token",
            message: "must not be empty".into(),
        });
    }
    let listen = match env.var("CASTELLAN_METRICS_LISTEN").or(file.listen) {
        Some(text) => Some(text.parse().map_err(|_| ConfigError::Value {
            name: "metrics.listen",
            message: format!("\"{text}\" is not an address like 127.0.0.1:9090"),
        })?),
        None => None,
    };
    Ok(MetricsSettings {
        token: token.map(Secret),
        listen,
    })
}

fn hashing_limits(env: &dyn Env, file: PasswordHashingFile) -> Result<HashingLimits, ConfigError> {
    let workers = positive(
        env,
        "password_hashing.workers",
        "CASTELLAN_PASSWORD_HASHING_WORKERS",
        file.workers,
        HashingLimits::default().workers,
    )?;
    // Zero waiting is allowed: every hash beyond the workers is then refused.
    let queue = whole_number(
        env,
        "password_hashing.queue",
        "CASTELLAN_PASSWORD_HASHING_QUEUE",
        file.queue,
        HashingLimits::for_workers(workers).queue,
    )?;
    Ok(HashingLimits { workers, queue })
}

fn serve_limits(
    env: &dyn Env,
    overrides: &Overrides,
    file: HttpFile,
) -> Result<ServeLimits, ConfigError> {
    let defaults = ServeLimits::default();
    let path = |flag: &Option<PathBuf>, var: &str, from_file: Option<PathBuf>| {
        flag.clone()
            .or_else(|| env.var(var).map(PathBuf::from))
            .or(from_file)
    };
    let cert = path(
        &overrides.tls_cert,
        "CASTELLAN_HTTP_TLS_CERT",
        file.tls_cert,
    );
    let key = path(&overrides.tls_key, "CASTELLAN_HTTP_TLS_KEY", file.tls_key);
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (cert, _) => {
            return Err(ConfigError::Value {
                name: if cert.is_some() {
                    "http.tls_key"
                } else {
                    "http.tls_cert"
                },
                message: "missing: a certificate and its key go together (--tls-cert and \
                          --tls-key, CASTELLAN_HTTP_TLS_CERT and CASTELLAN_HTTP_TLS_KEY, or \
                          [http] tls_cert and tls_key)"
                    .into(),
            });
        }
    };
    let secs = |name, var, from_file, default: std::time::Duration| {
        positive(env, name, var, from_file, default.as_secs()).map(std::time::Duration::from_secs)
    };
    Ok(ServeLimits {
        header_read_timeout: secs(
            "http.header_read_timeout_secs",
            "CASTELLAN_HTTP_HEADER_READ_TIMEOUT_SECS",
            file.header_read_timeout_secs,
            defaults.header_read_timeout,
        )?,
        body_timeout: secs(
            "http.body_timeout_secs",
            "CASTELLAN_HTTP_BODY_TIMEOUT_SECS",
            file.body_timeout_secs,
            defaults.body_timeout,
        )?,
        idle_timeout: secs(
            "http.idle_timeout_secs",
            "CASTELLAN_HTTP_IDLE_TIMEOUT_SECS",
            file.idle_timeout_secs,
            defaults.idle_timeout,
        )?,
        max_connections: positive(
            env,
            "http.max_connections",
            "CASTELLAN_HTTP_MAX_CONNECTIONS",
            file.max_connections,
            defaults.max_connections,
        )?,
        tls,
    })
}

fn store_options(
    env: &dyn Env,
    file: StoreFile,
) -> Result<castellan_store::StoreOptions, ConfigError> {
    let seconds = std::time::Duration::from_secs;
    // Unset is the backend's default (see `StoreOptions::acquire_timeout`).
    let acquire_var = "CASTELLAN_STORE_ACQUIRE_TIMEOUT_SECS";
    let acquire_timeout = (env.var(acquire_var).is_some() || file.acquire_timeout_secs.is_some())
        .then(|| {
            positive(
                env,
                "store.acquire_timeout_secs",
                acquire_var,
                file.acquire_timeout_secs,
                0,
            )
            .map(seconds)
        })
        .transpose()?;
    // Zero is allowed: no statement timeout (e.g. behind a pooler that refuses startup options).
    let statement_timeout = seconds(whole_number(
        env,
        "store.statement_timeout_secs",
        "CASTELLAN_STORE_STATEMENT_TIMEOUT_SECS",
        file.statement_timeout_secs,
        castellan_store::DEFAULT_STATEMENT_TIMEOUT.as_secs(),
    )?);
    Ok(castellan_store::StoreOptions {
        acquire_timeout,
        statement_timeout,
    })
}

fn smtp_settings(env: &dyn Env, file: SmtpFile) -> Result<Option<SmtpSettings>, ConfigError> {
    let Some(host) = env.var("CASTELLAN_SMTP_HOST").or(file.host) else {
        return Ok(None);
    };
    let invalid = |name: &'static str, message: String| ConfigError::Value { name, message };
    let tls = match env.var("CASTELLAN_SMTP_TLS").as_deref() {
        Some("none") => SmtpTls::None,
        Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some(other) => {
            return Err(invalid(
                "smtp.tls",
                format!("\"{other}\" is not one of none, starttls, tls"),
            ));
        }
        None => file.tls.unwrap_or_default(),
    };
    let port = match env.var("CASTELLAN_SMTP_PORT") {
        Some(p) => p
            .parse()
            .map_err(|_| invalid("smtp.port", format!("\"{p}\" is not a port")))?,
        None => file
            .port
            .unwrap_or(if tls == SmtpTls::Tls { 465 } else { 587 }),
    };
    let from = env
        .var("CASTELLAN_SMTP_FROM")
        .or(file.from)
        .ok_or_else(|| {
            invalid(
                "smtp.from",
                "the sender address is required with an SMTP host".into(),
            )
        })?;
    Ok(Some(SmtpSettings {
        host,
        port,
        username: env.var("CASTELLAN_SMTP_USERNAME").or(file.username),
        password: env_secret(env, "CASTELLAN_SMTP_PASSWORD")?
            .or(file.password)
            .map(Secret),
        from,
        tls,
    }))
}

fn normalise_issuer(text: &str) -> Result<String, ConfigError> {
    let valid = (text.starts_with("http://") || text.starts_with("https://"))
        && text
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !valid || text.contains(['?', '#', ' ']) {
        return Err(ConfigError::Value {
            name: "issuer",
            message: format!(
                "\"{text}\" must be an http:// or https:// URL without query or fragment"
            ),
        });
    }
    Ok(if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    })
}

/// The folder beside the SQLite file, or `./castellan-data` for PostgreSQL.
fn default_data_dir(database_url: &str) -> PathBuf {
    database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .and_then(|p| Path::new(p).parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("./castellan-data"))
}

/// A password in a database URL is a secret too.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:<redacted>@{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn defaults() {
        let s = Settings::load(&Overrides::default(), &[("X", "y")]).unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.issuer, "http://127.0.0.1:8080/");
        assert_eq!(s.data_dir, PathBuf::from("./castellan-data"));
    }

    #[test]
    fn layers_file_then_env_then_flags() {
        let file = write(
            "listen = \"127.0.0.1:1\"\nissuer = \"https://file.example\"\ndatabase_url = \"sqlite://f.db\"\n",
        );
        let env = [
            ("CASTELLAN_LISTEN", "127.0.0.1:2"),
            ("CASTELLAN_ISSUER", "https://env.example/"),
        ];
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            listen: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let s = Settings::load(&overrides, &env).unwrap();
        assert_eq!(s.listen.port(), 3, "flag wins");
        assert_eq!(
            s.issuer, "https://env.example/",
            "environment beats the file"
        );
        assert_eq!(s.database_url, "sqlite://f.db", "file beats the default");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let file = write("listen = \"127.0.0.1:1\"\nlisten_port = 3\n");
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let err = Settings::load(&overrides, &[("X", "y")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_port"), "{err}");
        let nested = write("[bootstrap]\nclient_idd = \"x\"\n");
        let overrides = Overrides {
            config: Some(nested.path().to_path_buf()),
            ..Default::default()
        };
        assert!(
            Settings::load(&overrides, &[("X", "y")])
                .unwrap_err()
                .to_string()
                .contains("client_idd")
        );
    }

    #[test]
    fn bad_values_name_the_setting() {
        let bad_listen = Overrides {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        assert!(
            Settings::load(&bad_listen, &[("X", "y")])
                .unwrap_err()
                .to_string()
                .starts_with("listen")
        );
        let bad_issuer = Overrides {
            issuer: Some("ftp://x".into()),
            ..Default::default()
        };
        assert!(
            Settings::load(&bad_issuer, &[("X", "y")])
                .unwrap_err()
                .to_string()
                .starts_with("issuer")
        );
        let half = [("CASTELLAN_ADMIN_CLIENT_ID", "x")];
        assert!(Settings::load(&Overrides::default(), &half).is_err());
    }

    #[test]
    fn password_changes_end_sessions_unless_told_to_keep_them() {
        let none: [(&str, &str); 0] = [];
        assert!(
            !Settings::load(&Overrides::default(), &none)
                .unwrap()
                .keep_sessions_on_password_change
        );
        let file = write("keep_sessions_on_password_change = true\n");
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let s = Settings::load(&overrides, &none).unwrap();
        assert!(s.keep_sessions_on_password_change);
        assert!(
            s.print()
                .contains("keep_sessions_on_password_change = true")
        );
        let env = [("CASTELLAN_KEEP_SESSIONS_ON_PASSWORD_CHANGE", "false")];
        assert!(
            !Settings::load(&overrides, &env)
                .unwrap()
                .keep_sessions_on_password_change,
            "the environment wins over the file"
        );
        let env = [("CASTELLAN_KEEP_SESSIONS_ON_PASSWORD_CHANGE", "yes")];
        let err = Settings::load(&Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("keep_sessions_on_password_change"), "{err}");
    }

    #[test]
    fn script_limits_from_file_and_environment() {
        let file = write(
            "[scripts]\nworkers = 4\nmemory_mib = 16\nfetch_allow = [\"hooks.example.com\"]\n",
        );
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let env = [("CASTELLAN_SCRIPTS_RULE_TIMEOUT_MS", "250")];
        let s = Settings::load(&overrides, &env).unwrap();
        assert_eq!(s.scripts.workers, 4);
        assert_eq!(s.scripts.memory_bytes, 16 * 1024 * 1024);
        assert_eq!(s.scripts.per_rule, std::time::Duration::from_millis(250));
        assert_eq!(s.scripts.fetch_allow.entries(), ["hooks.example.com"]);
        assert!(s.print().contains("fetch_allow = [\"hooks.example.com\"]"));
        let env = [(
            "CASTELLAN_SCRIPTS_FETCH_ALLOW",
            "a.example, http://10.0.0.1:8080",
        )];
        let s = Settings::load(&Overrides::default(), &env).unwrap();
        assert_eq!(
            s.scripts.fetch_allow.entries(),
            ["a.example", "http://10.0.0.1:8080"]
        );
        for (name, value) in [
            ("CASTELLAN_SCRIPTS_WORKERS", "0"),
            ("CASTELLAN_SCRIPTS_FETCH_ALLOW", "https://x.example/path"),
        ] {
            let err = Settings::load(&Overrides::default(), &[(name, value)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("scripts."), "{err}");
        }
    }

    #[test]
    fn connection_limits_from_file_and_environment() {
        let defaults = Settings::load(&Overrides::default(), &[("X", "y")]).unwrap();
        assert_eq!(defaults.serve, ServeLimits::default());
        let s = load_with_file(
            "[http]\nheader_read_timeout_secs = 3\nmax_connections = 50\n",
            &[("CASTELLAN_HTTP_IDLE_TIMEOUT_SECS", "7")],
        );
        assert_eq!(
            s.serve.header_read_timeout,
            std::time::Duration::from_secs(3)
        );
        assert_eq!(s.serve.idle_timeout, std::time::Duration::from_secs(7));
        assert_eq!(s.serve.max_connections, 50);
        assert!(s.print().contains("max_connections = 50"));
        refused_as(
            "http.",
            &[
                ("CASTELLAN_HTTP_MAX_CONNECTIONS", "0"),
                ("CASTELLAN_HTTP_BODY_TIMEOUT_SECS", "soon"),
            ],
        );
    }

    #[test]
    fn the_fetch_proxy_from_file_and_environment() {
        let s = load_with_file(
            "[scripts]\nfetch_proxy = \"http://proxy.internal:3128\"\n",
            &[],
        );
        assert_eq!(
            s.scripts.fetch_proxy.as_ref().map(url::Url::as_str),
            Some("http://proxy.internal:3128/")
        );
        assert!(
            s.print()
                .contains("fetch_proxy = \"http://proxy.internal:3128/\"")
        );
        let env = [(
            "CASTELLAN_SCRIPTS_FETCH_PROXY",
            "http://egress:secret@10.0.0.9:8080",
        )];
        let s = load_with_file(
            "[scripts]\nfetch_proxy = \"http://proxy.internal:3128\"\n",
            &env,
        );
        assert!(
            s.print()
                .contains("fetch_proxy = \"http://egress:<redacted>@10.0.0.9:8080/\"")
        );
        assert!(!s.print().contains("secret"));
        assert_eq!(s.scripts.fetch_proxy.unwrap().host_str(), Some("10.0.0.9"));
        let none: [(&str, &str); 0] = [];
        assert!(
            Settings::load(&Overrides::default(), &none)
                .unwrap()
                .scripts
                .fetch_proxy
                .is_none()
        );
        for bad in [
            "proxy.internal:3128",
            "socks5://p:1080",
            "http://p:3128/path",
        ] {
            let err = Settings::load(
                &Overrides::default(),
                &[("CASTELLAN_SCRIPTS_FETCH_PROXY", bad)],
            )
            .unwrap_err()
            .to_string();
            assert!(err.starts_with("scripts.fetch_proxy"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_geoip_database_that_does_not_open_stops_the_start_naming_it() {
        let none: [(&str, &str); 0] = [];
        assert!(
            Settings::load(&Overrides::default(), &none)
                .unwrap()
                .geoip_database
                .is_none()
        );
        let env = [(
            "CASTELLAN_SCRIPTS_GEOIP_DATABASE",
            "/nowhere/GeoLite2-City.mmdb",
        )];
        let err = Settings::load(&Overrides::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("scripts.geoip_database"), "{err}");
        assert!(err.contains("/nowhere/GeoLite2-City.mmdb"), "{err}");
        let file = write("[scripts]\ngeoip_database = \"/nowhere/from-file.mmdb\"\n");
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let err = Settings::load(&overrides, &none).unwrap_err().to_string();
        assert!(err.contains("/nowhere/from-file.mmdb"), "{err}");
    }

    /// Settings from this file and environment.
    fn load_with_file<const N: usize>(text: &str, env: &[(&str, &str); N]) -> Settings {
        let file = write(text);
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        Settings::load(&overrides, env).unwrap()
    }

    #[test]
    fn tls_files_from_flags_environment_and_file_go_in_pairs() {
        assert_eq!(
            Settings::load(&Overrides::default(), &[("X", "y")])
                .unwrap()
                .serve
                .tls,
            None
        );
        let s = load_with_file(
            "[http]\ntls_cert = \"file-cert.pem\"\ntls_key = \"file-key.pem\"\n",
            &[("CASTELLAN_HTTP_TLS_KEY", "env-key.pem")],
        );
        let files = s.serve.tls.clone().unwrap();
        assert_eq!(files.cert, PathBuf::from("file-cert.pem"));
        assert_eq!(files.key, PathBuf::from("env-key.pem"));
        assert_eq!(s.issuer, "https://127.0.0.1:8080/", "derived with https");
        assert!(s.print().contains("tls_key = \"env-key.pem\""));

        let flags = Overrides {
            tls_cert: Some("flag-cert.pem".into()),
            tls_key: Some("flag-key.pem".into()),
            issuer: Some("https://id.example".into()),
            ..Default::default()
        };
        let s = Settings::load(&flags, &[("CASTELLAN_HTTP_TLS_CERT", "env-cert.pem")]).unwrap();
        assert_eq!(s.serve.tls.unwrap().cert, PathBuf::from("flag-cert.pem"));
        assert_eq!(s.issuer, "https://id.example/");

        let lone_cert = Overrides {
            tls_cert: Some("cert.pem".into()),
            ..Default::default()
        };
        let err = Settings::load(&lone_cert, &[("X", "y")]).unwrap_err();
        assert!(
            err.to_string().starts_with("http.tls_key: missing"),
            "{err}"
        );
        refused_as(
            "http.tls_cert: missing",
            &[("CASTELLAN_HTTP_TLS_KEY", "key.pem")],
        );
    }

    /// Each of these variables alone is refused with an error naming a setting under `prefix`.
    fn refused_as(prefix: &str, cases: &[(&str, &str)]) {
        for &(name, value) in cases {
            let err = Settings::load(&Overrides::default(), &[(name, value)])
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(prefix), "{err}");
        }
    }

    #[test]
    fn store_timeouts_from_file_and_environment() {
        let defaults = Settings::load(&Overrides::default(), &[("X", "y")]).unwrap();
        assert_eq!(defaults.store, castellan_store::StoreOptions::default());
        let s = load_with_file(
            "[store]\nacquire_timeout_secs = 2\nstatement_timeout_secs = 9\n",
            &[("CASTELLAN_STORE_STATEMENT_TIMEOUT_SECS", "0")],
        );
        assert_eq!(
            s.store.acquire_timeout,
            Some(std::time::Duration::from_secs(2))
        );
        assert!(s.store.statement_timeout.is_zero(), "zero turns it off");
        assert!(s.print().contains("acquire_timeout_secs = 2"));
        refused_as(
            "store.",
            &[
                ("CASTELLAN_STORE_ACQUIRE_TIMEOUT_SECS", "0"),
                ("CASTELLAN_STORE_STATEMENT_TIMEOUT_SECS", "soon"),
            ],
        );
    }

    #[test]
    fn password_hashing_and_its_budget() {
        let s = Settings::load(&Overrides::default(), &[("X", "y")]).unwrap();
        assert_eq!(s.password_hashing, HashingLimits::default());
        assert_eq!(s.password_checks_per_second, None, "measured at start");
        let file = write(
            "[password_hashing]\nworkers = 3\n[rate_limits]\npassword_checks_per_second = 4\n",
        );
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let s = Settings::load(&overrides, &[("X", "y")]).unwrap();
        assert_eq!(
            s.password_hashing,
            HashingLimits {
                workers: 3,
                queue: 24
            }
        );
        assert_eq!(s.password_checks_per_second, Some(4));
        let env = [
            ("CASTELLAN_RATE_LIMIT_PASSWORD_CHECKS", "auto"),
            ("CASTELLAN_PASSWORD_HASHING_QUEUE", "0"),
        ];
        let s = Settings::load(&overrides, &env).unwrap();
        assert_eq!(s.password_checks_per_second, None);
        assert_eq!(s.password_hashing.queue, 0);
        let err = Settings::load(
            &Overrides::default(),
            &[("CASTELLAN_RATE_LIMIT_PASSWORD_CHECKS", "lots")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("rate_limits.password_checks_per_second"),
            "{err}"
        );
    }

    #[test]
    fn metrics_token_and_listener() {
        let s = Settings::load(&Overrides::default(), &[("X", "y")]).unwrap();
        assert!(s.metrics.token.is_none() && s.metrics.listen.is_none());
        let env = [
            ("CASTELLAN_METRICS_TOKEN", "scrape-me"),
            ("CASTELLAN_METRICS_LISTEN", "127.0.0.1:9090"),
        ];
        let s = Settings::load(&Overrides::default(), &env).unwrap();
        assert_eq!(s.metrics.token, Some(Secret("scrape-me".into())));
        assert_eq!(s.metrics.listen.unwrap().port(), 9090);
        let printed = s.print();
        assert!(!printed.contains("scrape-me"), "{printed}");
        assert!(printed.contains("listen = \"127.0.0.1:9090\""), "{printed}");
        let err = Settings::load(
            &Overrides::default(),
            &[("CASTELLAN_METRICS_LISTEN", "nine")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("metrics.listen"), "{err}");
    }

    #[test]
    fn trusted_proxies_from_file_and_environment() {
        let file = write("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n");
        let overrides = Overrides {
            config: Some(file.path().to_path_buf()),
            ..Default::default()
        };
        let s = Settings::load(&overrides, &[("X", "y")]).unwrap();
        assert_eq!(s.trusted_proxies.entries(), ["10.0.0.0/8", "::1/128"]);
        let env = [("CASTELLAN_TRUSTED_PROXIES", "192.0.2.1, 192.0.2.2")];
        let s = Settings::load(&overrides, &env).unwrap();
        assert_eq!(
            s.trusted_proxies.entries(),
            ["192.0.2.1/32", "192.0.2.2/32"]
        );
        let err = Settings::load(
            &Overrides::default(),
            &[("CASTELLAN_TRUSTED_PROXIES", "proxy")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("trusted_proxies"), "{err}");
    }

    #[test]
    fn print_redacts_secrets() {
        let secret_file = write("from-file-secret\n");
        let path = secret_file.path().display().to_string();
        let env = [
            ("CASTELLAN_ADMIN_CLIENT_ID", "admin"),
            ("CASTELLAN_ADMIN_CLIENT_SECRET_FILE", path.as_str()),
            ("CASTELLAN_SECRET_KEY", "k3y"),
            ("CASTELLAN_DATABASE_URL", "postgres://u:pw@db/castellan"),
        ];
        let s = Settings::load(&Overrides::default(), &env).unwrap();
        assert_eq!(s.bootstrap.as_ref().unwrap().1.0, "from-file-secret");
        let printed = s.print();
        for secret in ["from-file-secret", "k3y", "pw"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("client_id = \"admin\""));
        assert!(format!("{s:?}").contains("<redacted>") && !format!("{s:?}").contains("k3y"));
    }
}
