//! A user's second factors at log-in: enrolling a one-time-password app or an email
//! address, checking a code against a factor, and using the recovery code. Shared by the
//! log-in pages and the MFA API, so a code is counted, locked out and logged the same way
//! whichever door it came through.

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::events::{self, LogEventExt, RequestContext};
use crate::login::recovery::Mailer;
use crate::model::{Authenticator, AuthenticatorKind, User};
use crate::secrets::{MasterKey, constant_time_eq, token_digest};
use crate::store::{FactorAttempt, Store};

use super::{LOCK_SECONDS, LOCK_THRESHOLD, recovery_code, totp};

/// How long an emailed code is good for.
pub const EMAIL_CODE_SECONDS: i64 = 5 * 60;

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// Too many wrong codes in a row: the factor refuses codes until `until`.
    #[error("Too many failed codes. Wait for some minutes before retrying.")]
    Locked { until: i64 },
    /// A wrong, expired or already used code.
    #[error("Invalid code.")]
    WrongCode,
    /// The user has no such factor (or not of a kind that takes codes).
    #[error("The authenticator does not exist.")]
    Unknown,
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<crate::store::StoreError> for FactorError {
    fn from(e: crate::store::StoreError) -> Self {
        FactorError::Failed(e.into())
    }
}

/// What checking codes needs.
pub struct Factors<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
    pub master: &'a MasterKey,
    pub mailer: &'a dyn Mailer,
}

/// A one-time-password app being enrolled: the secret to show (as a QR code and as text).
pub struct TotpEnrolment {
    pub authenticator: Authenticator,
    pub secret: Vec<u8>,
}

impl Factors<'_> {
    /// The user's confirmed second factors (recovery codes and passkeys are not).
    pub async fn enrolled(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        Ok(self
            .store
            .list_authenticators(user_id)
            .await?
            .into_iter()
            .filter(|a| a.confirmed && a.kind.is_second_factor())
            .collect())
    }

    /// Starts enrolling a one-time-password app; an earlier unfinished one is dropped.
    pub async fn start_totp(&self, user: &User) -> Result<TotpEnrolment> {
        self.drop_unconfirmed(&user.user_id, AuthenticatorKind::Totp)
            .await?;
        let mut authenticator =
            Authenticator::new(&user.user_id, AuthenticatorKind::Totp, self.clock.now());
        let secret = totp::generate_secret();
        authenticator.secret = Some(self.master.seal(&secret, &authenticator.id));
        self.store.create_authenticator(&authenticator).await?;
        Ok(TotpEnrolment {
            authenticator,
            secret,
        })
    }

    /// Starts enrolling an email address, and mails it a code.
    pub async fn start_email(
        &self,
        user: &User,
        address: &str,
        ctx: &RequestContext,
    ) -> Result<Authenticator> {
        self.drop_unconfirmed(&user.user_id, AuthenticatorKind::Email)
            .await?;
        let mut authenticator =
            Authenticator::new(&user.user_id, AuthenticatorKind::Email, self.clock.now());
        authenticator.email = Some(address.to_owned());
        self.store.create_authenticator(&authenticator).await?;
        self.send_email_code(user, &authenticator.id, ctx)
            .await
            .map_err(|e| match e {
                FactorError::Failed(e) => e,
                other => Error::Internal(other.to_string()),
            })?;
        Ok(authenticator)
    }

    async fn drop_unconfirmed(&self, user_id: &str, kind: AuthenticatorKind) -> Result<()> {
        for a in self.store.list_authenticators(user_id).await? {
            if a.kind == kind && !a.confirmed {
                self.store.delete_authenticator(user_id, &a.id).await?;
            }
        }
        Ok(())
    }

    /// Mails a new six-digit code to an email factor; it replaces the one pending.
    pub async fn send_email_code(
        &self,
        user: &User,
        authenticator_id: &str,
        ctx: &RequestContext,
    ) -> std::result::Result<(), FactorError> {
        let mut authenticator = self.find(user, authenticator_id).await?;
        let (AuthenticatorKind::Email, Some(to)) =
            (authenticator.kind, authenticator.email.clone())
        else {
            return Err(FactorError::Unknown);
        };
        let now = self.clock.now();
        if authenticator.is_locked(now) {
            return Err(FactorError::Locked {
                until: authenticator.locked_until.unwrap_or(now),
            });
        }
        let code = crate::ids::drawn_from(b"0123456789", 6);
        authenticator.challenge = Some(token_digest(&format!("{}:{code}", authenticator.id)));
        authenticator.challenge_expires_at = Some(now + EMAIL_CODE_SECONDS);
        self.store.update_authenticator(&authenticator).await?;
        let body = format!(
            "Your verification code is {code}. It is good for {} minutes.\n",
            EMAIL_CODE_SECONDS / 60
        );
        self.mailer
            .send(&to, "Your verification code", &body)
            .await?;
        let event = events::event("gd_send_email", "Email verification code sent", ctx).user(user);
        events::record(self.store, self.clock, event).await;
        Ok(())
    }

    async fn find(
        &self,
        user: &User,
        authenticator_id: &str,
    ) -> std::result::Result<Authenticator, FactorError> {
        self.store
            .find_authenticator(&user.user_id, authenticator_id)
            .await?
            .ok_or(FactorError::Unknown)
    }

    /// Checks a code against a factor (a TOTP app or an email factor), counting it:
    /// [`LOCK_THRESHOLD`] wrong codes in a row lock the factor for [`LOCK_SECONDS`]. An
    /// unconfirmed factor is confirmed by its first right code (its enrolment), which is
    /// logged as `gd_enrollment_complete`. Returns the factor as it now is.
    pub async fn verify(
        &self,
        user: &User,
        authenticator_id: &str,
        code: &str,
        ctx: &RequestContext,
    ) -> std::result::Result<Authenticator, FactorError> {
        let mut authenticator = self.find(user, authenticator_id).await?;
        let now = self.clock.now();
        if let Some(until) = authenticator.locked_until.filter(|u| *u > now) {
            self.log(user, ctx, "gd_otp_rate_limit_exceed", "Too many failures")
                .await;
            return Err(FactorError::Locked { until });
        }
        let step = match authenticator.kind {
            AuthenticatorKind::Totp => {
                let sealed = authenticator
                    .secret
                    .as_deref()
                    .ok_or(FactorError::Unknown)?;
                let secret = self
                    .master
                    .open(sealed, &authenticator.id)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                totp::matching_step(&secret, code, now).map(Some)
            }
            AuthenticatorKind::Email => {
                let expected = token_digest(&format!("{}:{}", authenticator.id, code.trim()));
                let pending = authenticator
                    .challenge
                    .as_deref()
                    .filter(|_| authenticator.challenge_expires_at.is_some_and(|t| t > now));
                match pending {
                    // Taken once: of two requests with the right code, one passes.
                    Some(p) if constant_time_eq(p.as_bytes(), expected.as_bytes()) => self
                        .store
                        .take_factor_challenge(&user.user_id, &authenticator.id, now)
                        .await?
                        .map(|_| None),
                    _ => None,
                }
            }
            _ => return Err(FactorError::Unknown),
        };
        let passed = match step {
            Some(step) => {
                let attempt = FactorAttempt::Passed { step };
                self.store
                    .record_factor_attempt(&user.user_id, &authenticator.id, attempt, now)
                    .await?
            }
            None => false,
        };
        if !passed {
            self.count_failure(user, &authenticator, ctx).await?;
            return Err(FactorError::WrongCode);
        }
        if !authenticator.confirmed {
            authenticator.confirmed = true;
            self.store.update_authenticator(&authenticator).await?;
            self.log(
                user,
                ctx,
                "gd_enrollment_complete",
                "Guardian enrollment complete",
            )
            .await;
        }
        self.log(
            user,
            ctx,
            "gd_auth_succeed",
            "Second factor authentication succeeded",
        )
        .await;
        authenticator.last_auth_at = Some(now);
        authenticator.failures = 0;
        authenticator.locked_until = None;
        Ok(authenticator)
    }

    async fn count_failure(
        &self,
        user: &User,
        authenticator: &Authenticator,
        ctx: &RequestContext,
    ) -> std::result::Result<(), FactorError> {
        let now = self.clock.now();
        let attempt = FactorAttempt::Failed {
            threshold: LOCK_THRESHOLD,
            lock_until: now + LOCK_SECONDS,
        };
        self.store
            .record_factor_attempt(&user.user_id, &authenticator.id, attempt, now)
            .await?;
        self.log(
            user,
            ctx,
            "gd_auth_failed",
            "Wrong code for a second factor",
        )
        .await;
        Ok(())
    }

    /// Gives the user a recovery code if they have none yet (at their first enrolment, as
    /// Auth0 does); the code is returned to be shown once.
    pub async fn first_recovery_code(&self, user: &User) -> Result<Option<String>> {
        let existing = self.store.list_authenticators(&user.user_id).await?;
        if existing
            .iter()
            .any(|a| a.kind == AuthenticatorKind::RecoveryCode && a.confirmed)
        {
            return Ok(None);
        }
        Ok(Some(self.replace_recovery_code(user).await?))
    }

    /// A new recovery code for the user, replacing the one they had; shown once.
    pub async fn replace_recovery_code(&self, user: &User) -> Result<String> {
        let code = recovery_code::generate();
        let existing = self.store.list_authenticators(&user.user_id).await?;
        match existing
            .into_iter()
            .find(|a| a.kind == AuthenticatorKind::RecoveryCode)
        {
            Some(mut a) => {
                a.secret = Some(recovery_code::digest(&code));
                a.confirmed = true;
                self.store.update_authenticator(&a).await?;
            }
            None => {
                let mut a = Authenticator::new(
                    &user.user_id,
                    AuthenticatorKind::RecoveryCode,
                    self.clock.now(),
                );
                a.secret = Some(recovery_code::digest(&code));
                a.confirmed = true;
                self.store.create_authenticator(&a).await?;
            }
        }
        Ok(code)
    }

    /// Logs in with the recovery code instead of a lost factor. The code is used up: the
    /// answer is the new one, to be shown once. Wrong codes count and lock as for any
    /// factor.
    pub async fn recover(
        &self,
        user: &User,
        code: &str,
        ctx: &RequestContext,
    ) -> std::result::Result<String, FactorError> {
        let existing = self.store.list_authenticators(&user.user_id).await?;
        let Some(authenticator) = existing
            .into_iter()
            .find(|a| a.kind == AuthenticatorKind::RecoveryCode && a.confirmed)
        else {
            return Err(FactorError::Unknown);
        };
        let now = self.clock.now();
        if let Some(until) = authenticator.locked_until.filter(|u| *u > now) {
            self.log(
                user,
                ctx,
                "gd_recovery_rate_limit_exceed",
                "Too many failures",
            )
            .await;
            return Err(FactorError::Locked { until });
        }
        let right = authenticator
            .secret
            .as_deref()
            .is_some_and(|stored| recovery_code::matches(code, stored));
        if !right {
            self.count_failure(user, &authenticator, ctx).await?;
            self.log(user, ctx, "gd_recovery_failed", "Wrong recovery code")
                .await;
            return Err(FactorError::WrongCode);
        }
        let attempt = FactorAttempt::Passed { step: None };
        self.store
            .record_factor_attempt(&user.user_id, &authenticator.id, attempt, now)
            .await?;
        let next = self.replace_recovery_code(user).await?;
        self.log(user, ctx, "gd_recovery_succeed", "Recovery code used")
            .await;
        Ok(next)
    }

    async fn log(&self, user: &User, ctx: &RequestContext, code: &str, description: &str) {
        let event = events::event(code, description, ctx).user(user);
        events::record(self.store, self.clock, event).await;
    }
}
