/// A browser session: who logged in and when. The cookie holds the id; the store its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
    /// How the user authenticated in this session, in order (Auth0's
    /// `authentication.methods`): `pwd` at the log-in, `mfa` once a second factor passed.
    pub methods: Vec<AuthMethod>,
}

/// One way a user proved who they are, and when: Auth0's `{name, timestamp}` of
/// `context.authentication.methods` (`pwd`, `mfa`, `passkey`, `email`, `federated`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthMethod {
    pub name: String,
    /// Seconds since the epoch.
    pub timestamp: i64,
}

/// A single-use authorization code (RFC 6749 §4.1.2), bound to client and redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge (RFC 7636 §4.2).
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
    /// What the log-in's scripts left for the tokens (they ran at `/authorize`), as JSON
    /// the token endpoint reads back; `None` for a code issued before they ran there.
    pub scripted: Option<String>,
}

/// A log-in a script sent to another site, waiting for the browser to come back to
/// `/continue` with the state. The state and the browser's transaction cookie are kept as
/// digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRedirect {
    pub state_hash: String,
    pub browser_hash: String,
    pub user_id: String,
    /// What the log-in resumes with, as JSON (`login::redirect` writes and reads it).
    pub transaction: String,
    pub expires_at: i64,
}

/// A refresh token. A rotating one is replaced at each use by a new token of the same
/// family, and presenting a used one revokes the whole family; a non-rotating one is
/// answered again and stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub audience: Option<String>,
    pub scope: Vec<String>,
    pub auth_time: i64,
    pub created_at: i64,
    /// The family's absolute end, the same for each of its tokens; none for never.
    pub family_expires_at: Option<i64>,
    /// When the token ends unless exchanged before; none when disuse never ends it.
    pub idle_expires_at: Option<i64>,
    /// Whether the client rotated its tokens when this one was issued.
    pub rotating: bool,
    /// When a rotating token was exchanged (and so replaced).
    pub used_at: Option<i64>,
    pub revoked: bool,
    /// The family began with a log-in that passed a second factor: its refreshes are not
    /// asked for one again.
    pub mfa: bool,
}

/// A device authorization (RFC 8628 §3.2): the device polls with its code while the user,
/// elsewhere, types the user code and decides. Both codes are held as digests only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCode {
    pub device_code_hash: String,
    /// The digest of the user code in its normalized form (upper case, no dash).
    pub user_code_hash: String,
    pub client_id: String,
    pub scope: Vec<String>,
    pub audience: Option<String>,
    /// Seconds the device must wait between polls; grows when it polls faster (§3.5).
    pub interval: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_polled_at: Option<i64>,
    /// Set by a poll that came sooner than `interval` after the one before.
    pub polled_too_fast: bool,
    pub decision: DeviceDecision,
}

/// What the user said on the activation page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    Pending,
    Approved { user_id: String, auth_time: i64 },
    Denied,
}

impl RefreshToken {
    /// Whether neither the family's lifetime nor the token's idle lifetime is over.
    pub fn unexpired_at(&self, now: i64) -> bool {
        [self.family_expires_at, self.idle_expires_at]
            .into_iter()
            .flatten()
            .all(|end| end > now)
    }
}
