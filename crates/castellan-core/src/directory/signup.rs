//! Sign-up in a database connection (`POST /dbconnections/signup`, the sign-up page).

use serde_json::{Map, Value};

use super::password_policy::PasswordPolicy;
use crate::clock::Clock;
use crate::error::Error;
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{AssignOn, Client, Connection, User};
use crate::passwords::PasswordService;
use crate::scripts::{self, Scripts};
use crate::store::{Store, StoreError};

#[derive(Debug, Default, Clone)]
pub struct SignupRequest {
    pub client_id: String,
    pub connection: String,
    pub email: String,
    pub password: String,
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub user_metadata: Option<Map<String, Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// Unknown client or connection, or a connection the client may not use.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    InvalidSignup(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("The user already exists.")]
    UserExists,
    /// The connection has `options.disable_signup`, or the application is the admin
    /// console, through which nobody signs up.
    #[error("public signup is disabled")]
    SignupDisabled,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<StoreError> for SignupError {
    fn from(e: StoreError) -> Self {
        SignupError::Failed(e.into())
    }
}

const MAX_METADATA_KEYS: usize = 10;
const MAX_METADATA_KEY: usize = 100;
const MAX_METADATA_VALUE: usize = 500;

/// How an address is stored and looked up: NFKC-normalised (so a composed and a decomposed
/// "ä" are one address, and a fullwidth "ａ" is "a") and lower-cased.
pub fn canonical_email(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// A plausible address: one `@`, something on both sides, a dot in the domain, no spaces.
/// Look-alikes of another address are refused: invisible (default-ignorable) characters
/// anywhere, and a local part that mixes scripts (a Cyrillic "а" among Latin letters).
pub fn normalise_email(email: &str) -> Option<String> {
    use unicode_security::MixedScript;
    let email = canonical_email(email);
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_default_ignorable(c))
        && local.is_single_script();
    plausible.then_some(email)
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): characters that
/// render as nothing, so that `admin\u{200B}@…` looks like `admin@…`.
fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

fn check_username(username: &str) -> Result<(), SignupError> {
    let ok = (1..=128).contains(&username.chars().count())
        && !username.contains('@')
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.!#$^`~'".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SignupError::InvalidSignup(
            "username must be 1 to 128 letters, digits or _+-.!#$^`~' and no @".into(),
        ))
    }
}

fn check_metadata(metadata: &Map<String, Value>) -> Result<(), SignupError> {
    if metadata.len() > MAX_METADATA_KEYS {
        return Err(SignupError::InvalidSignup(format!(
            "user_metadata may hold at most {MAX_METADATA_KEYS} properties"
        )));
    }
    if let Some(at) = crate::text::nul_in_object("user_metadata", metadata) {
        return Err(SignupError::InvalidSignup(crate::text::nul_refused(&at)));
    }
    for (key, value) in metadata {
        let fits = key.chars().count() <= MAX_METADATA_KEY
            && value
                .as_str()
                .is_some_and(|v| v.chars().count() <= MAX_METADATA_VALUE);
        if !fits {
            return Err(SignupError::InvalidSignup(format!(
                "user_metadata.{key} must be a string of at most {MAX_METADATA_VALUE} characters"
            )));
        }
    }
    Ok(())
}

/// Creates the user, then runs the post-user-registration actions before answering (Auth0
/// runs them in the background), so that what they assign is there at the first log-in.
/// Their failure cannot undo the sign-up.
pub async fn signup(
    store: &dyn Store,
    passwords: &PasswordService,
    clock: &dyn Clock,
    scripts: &Scripts,
    request: SignupRequest,
    ctx: &RequestContext,
) -> Result<User, SignupError> {
    let client = store
        .find_client(&request.client_id)
        .await?
        .ok_or_else(|| SignupError::BadRequest("Unknown client".into()))?;
    let result = create(store, passwords, clock, &client, request, ctx).await;
    let event = match &result {
        Ok(user) => events::event("ss", "Successful signup", ctx)
            .client(&client)
            .user(user),
        Err(e) => events::event("fs", e.to_string(), ctx).client(&client),
    };
    events::record(store, clock, event).await;
    if let Ok(user) = &result
        && let Err(e) =
            scripts::post_user_registration(store, clock, scripts, Some(&client), user, ctx).await
    {
        tracing::warn!(cause = %e, "post-user-registration actions could not run");
    }
    result
}

/// Whether users may sign themselves up through this client in this connection: not where
/// the connection has Auth0's `disable_signup`, and never through the admin console.
pub fn signup_enabled(client: &Client, connection: &Connection) -> bool {
    let disabled = connection
        .options
        .get("disable_signup")
        .and_then(Value::as_bool)
        == Some(true);
    !disabled && client.client_id != crate::login::console::CLIENT_ID
}

async fn create(
    store: &dyn Store,
    passwords: &PasswordService,
    clock: &dyn Clock,
    client: &Client,
    request: SignupRequest,
    _ctx: &RequestContext,
) -> Result<User, SignupError> {
    let connection = store
        .find_connection_by_name(&request.connection)
        .await?
        .filter(|c| c.enabled_clients.contains(&client.client_id))
        .ok_or_else(|| {
            SignupError::BadRequest(format!(
                "connection {} is not enabled for client {}",
                request.connection, client.client_id
            ))
        })?;
    if !signup_enabled(client, &connection) {
        return Err(SignupError::SignupDisabled);
    }
    let email = normalise_email(&request.email)
        .ok_or_else(|| SignupError::InvalidSignup("email is not a valid address".into()))?;
    let requires_username = connection
        .options
        .get("requires_username")
        .and_then(Value::as_bool)
        == Some(true);
    match &request.username {
        Some(username) => check_username(username)?,
        None if requires_username => {
            return Err(SignupError::InvalidSignup("username is required".into()));
        }
        None => {}
    }
    if let Some(metadata) = &request.user_metadata {
        check_metadata(metadata)?;
    }
    super::validate::profile_names(&[
        ("name", &request.name),
        ("nickname", &request.nickname),
        ("given_name", &request.given_name),
        ("family_name", &request.family_name),
    ])
    .map_err(|e| SignupError::InvalidSignup(e.to_string()))?;
    PasswordPolicy::from_options(&connection.options)
        .check(&request.password, Some(&email))
        .map_err(SignupError::InvalidPassword)?;
    let hash = passwords.hash(&request.password).await?;
    let now = clock.now();
    let nickname = request
        .nickname
        .or_else(|| email.split('@').next().map(str::to_string));
    let user = User {
        user_id: format!("auth0|{}", crate::ids::hex(12)),
        connection: connection.name.clone(),
        name: request.name.or_else(|| Some(email.clone())),
        email: Some(email),
        email_verified: false,
        username: request.username,
        nickname,
        picture: request.picture,
        given_name: request.given_name,
        family_name: request.family_name,
        app_metadata: Map::new(),
        user_metadata: request.user_metadata.unwrap_or_default(),
        created_at: now,
        updated_at: now,
        last_login: None,
        last_ip: None,
        logins_count: 0,
        blocked: false,
        last_password_reset: None,
    };
    let grant = super::default_assignments::grant_on(store, &connection, AssignOn::Signup).await?;
    match store.create_user(&user, Some(&hash), grant.as_ref()).await {
        Ok(()) => {
            if let Some(grant) = &grant {
                super::default_assignments::record_applied(
                    store,
                    clock,
                    &user.user_id,
                    AssignOn::Signup,
                    grant,
                )
                .await;
            }
            Ok(user)
        }
        Err(StoreError::Conflict(_)) => Err(SignupError::UserExists),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_email;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Ada@Example.COM ").as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(
            normalise_email("ÄDA@bücher.de").as_deref(),
            Some("äda@bücher.de")
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@.com",
        ] {
            assert!(normalise_email(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn look_alikes_of_an_address_are_one_address_or_refused() {
        // Fullwidth letters are the letters.
        assert_eq!(
            normalise_email("\u{FF41}dmin@example.com").as_deref(),
            Some("admin@example.com")
        );
        for bad in [
            "admin\u{200B}@example.com",
            "ad\u{00AD}min@example.com",
            "admin@exam\u{2060}ple.com",
            "\u{0430}dmin@example.com",
        ] {
            assert!(normalise_email(bad).is_none(), "{bad:?}");
        }
        // One script throughout is an address.
        assert_eq!(
            normalise_email("\u{0430}\u{0434}\u{043C}\u{0438}\u{043D}@example.com").as_deref(),
            Some("\u{0430}\u{0434}\u{043C}\u{0438}\u{043D}@example.com")
        );
        assert!(normalise_email("ada.lovelace+1@example.com").is_some());
    }
}
