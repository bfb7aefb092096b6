/// What kind of second factor (or passwordless key) an authenticator is. The names are
/// Auth0's authentication-method types (`GET /api/v2/users/{id}/authentication-methods`);
/// the MFA API names them differently ([`AuthenticatorKind::mfa_api_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthenticatorKind {
    /// A one-time password app (RFC 6238): Google Authenticator, Guardian's OTP mode.
    Totp,
    /// One-time codes sent by email.
    Email,
    /// A security key used as a second factor.
    WebauthnRoaming,
    /// The device's own authenticator (Touch ID, Windows Hello) as a second factor.
    WebauthnPlatform,
    /// A discoverable WebAuthn credential the user logs in with instead of a password.
    Passkey,
    /// The code given at the first enrolment, for when the other factors are lost.
    RecoveryCode,
}

impl super::Named for AuthenticatorKind {
    const ALL: &'static [Self] = &[
        AuthenticatorKind::Totp,
        AuthenticatorKind::Email,
        AuthenticatorKind::WebauthnRoaming,
        AuthenticatorKind::WebauthnPlatform,
        AuthenticatorKind::Passkey,
        AuthenticatorKind::RecoveryCode,
    ];

    fn name(self) -> &'static str {
        match self {
            AuthenticatorKind::Totp => "totp",
            AuthenticatorKind::Email => "email",
            AuthenticatorKind::WebauthnRoaming => "webauthn-roaming",
            AuthenticatorKind::WebauthnPlatform => "webauthn-platform",
            AuthenticatorKind::Passkey => "passkey",
            AuthenticatorKind::RecoveryCode => "recovery-code",
        }
    }
}

impl AuthenticatorKind {
    /// The MFA API's `authenticator_type` (`/mfa/authenticators`): `otp`, `oob` or
    /// `recovery-code`; none for the WebAuthn kinds, which that API does not list.
    pub fn mfa_api_type(self) -> Option<&'static str> {
        match self {
            AuthenticatorKind::Totp => Some("otp"),
            AuthenticatorKind::Email => Some("oob"),
            AuthenticatorKind::RecoveryCode => Some("recovery-code"),
            _ => None,
        }
    }

    /// Counts as a second factor when a log-in asks for one (a passkey is a first factor,
    /// and a recovery code only stands in for a lost factor).
    pub fn is_second_factor(self) -> bool {
        !matches!(
            self,
            AuthenticatorKind::Passkey | AuthenticatorKind::RecoveryCode
        )
    }
}

/// One enrolled factor of a user. Its id is Auth0's shape, `{kind}|dev_{random}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    pub id: String,
    pub user_id: String,
    pub kind: AuthenticatorKind,
    pub name: Option<String>,
    /// A TOTP key or a WebAuthn credential sealed with the master key under the id, or a
    /// recovery code's digest; never the plain secret.
    pub secret: Option<String>,
    /// Where an email factor sends its codes.
    pub email: Option<String>,
    /// Enrolment finished (a first code or signature checked).
    pub confirmed: bool,
    pub created_at: i64,
    pub last_auth_at: Option<i64>,
    /// The last TOTP time step accepted: a code is taken once.
    pub last_step: Option<i64>,
    /// Wrong codes in a row.
    pub failures: i64,
    pub locked_until: Option<i64>,
    /// A pending challenge (an emailed code's digest, a sealed WebAuthn state).
    pub challenge: Option<String>,
    pub challenge_expires_at: Option<i64>,
}

impl Authenticator {
    /// A new, unconfirmed authenticator of `kind` for the user, with a fresh id.
    pub fn new(user_id: &str, kind: AuthenticatorKind, now: i64) -> Authenticator {
        use super::Named;
        Authenticator {
            id: format!("{}|dev_{}", kind.name(), crate::ids::alphanumeric(16)),
            user_id: user_id.to_owned(),
            kind,
            name: None,
            secret: None,
            email: None,
            confirmed: false,
            created_at: now,
            last_auth_at: None,
            last_step: None,
            failures: 0,
            locked_until: None,
            challenge: None,
            challenge_expires_at: None,
        }
    }

    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}
