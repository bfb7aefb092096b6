//! Links sent by mail: password reset and email verification. Each link holds a secret
//! that works once and expires; the store keeps only its digest. Asking for a reset says
//! the same whether or not the address has an account.

use std::sync::Arc;

use crate::clock::Clock;
use crate::directory::default_assignments;
use crate::directory::password_policy::PasswordPolicy;
use crate::directory::signup::canonical_email;
use crate::error::{Error, Result};
use crate::events::{self, LogEventExt, RequestContext};
use crate::model::{AssignOn, Client, Mail, Ticket, TicketKind, User};
use crate::passwords::PasswordService;
use crate::secrets::{opaque_token, token_digest};
use crate::store::Store;

pub const RESET_LINK_LIFETIME: i64 = 86_400;
pub const VERIFY_LINK_LIFETIME: i64 = 5 * 86_400;
/// Reset links one account is sent in an hour at most; further requests mail nothing.
pub const RESET_MAILS_PER_HOUR: u64 = 3;

/// Where mail goes: an SMTP server, or the outbox in the store.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<()>;
}

/// Keeps mail in the store, for `castellan outbox` to print.
pub struct OutboxMailer {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<()> {
        let mail = Mail {
            id: uuid::Uuid::now_v7().simple().to_string(),
            recipient: to.to_string(),
            subject: subject.to_string(),
            body: body.to_string(),
            created_at: self.clock.now(),
        };
        Ok(self.store.push_mail(&mail).await?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("This link is invalid or has expired.")]
    Invalid,
    #[error("{0}")]
    WeakPassword(String),
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<crate::store::StoreError> for TicketError {
    fn from(e: crate::store::StoreError) -> Self {
        TicketError::Failed(e.into())
    }
}

pub struct Recovery<'a> {
    pub store: &'a dyn Store,
    pub mailer: &'a dyn Mailer,
    pub clock: &'a dyn Clock,
    pub issuer: &'a str,
}

impl Recovery<'_> {
    async fn issue_ticket(
        &self,
        kind: TicketKind,
        user: &User,
        client_id: Option<&str>,
        lifetime: i64,
    ) -> Result<String> {
        let secret = opaque_token();
        self.store
            .create_ticket(&Ticket {
                ticket_hash: token_digest(&secret),
                kind,
                user_id: user.user_id.clone(),
                client_id: client_id.map(str::to_string),
                expires_at: self.clock.now() + lifetime,
            })
            .await?;
        Ok(secret)
    }

    /// `POST /dbconnections/change_password`, the forgotten-password page: checks the
    /// request, then mails the link if the address has an account. Public front ends run
    /// the two halves apart (`check_reset_request`, then `send_reset` in the background),
    /// so that the answer takes as long whether or not the account exists.
    pub async fn request_reset(
        &self,
        client_id: &str,
        connection: &str,
        email: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let client = self.check_reset_request(client_id, connection).await?;
        self.send_reset(&client, connection, email, ctx).await
    }

    /// The client, if it may ask for resets in this connection. Says nothing of the address.
    pub async fn check_reset_request(&self, client_id: &str, connection: &str) -> Result<Client> {
        let client = self
            .store
            .find_client(client_id)
            .await?
            .ok_or_else(|| Error::Invalid("Unknown client".into()))?;
        let enabled = self
            .store
            .find_connection_by_name(connection)
            .await?
            .is_some_and(|c| c.enabled_clients.contains(&client.client_id));
        if !enabled {
            return Err(Error::Invalid(format!(
                "connection {connection} is not enabled for this client"
            )));
        }
        Ok(client)
    }

    /// Mails a reset link to the account with this address, if there is one and it has not
    /// had `RESET_MAILS_PER_HOUR` links in the last hour: a flood of requests fills nobody's
    /// inbox. Unknown addresses are silently ignored.
    pub async fn send_reset(
        &self,
        client: &Client,
        connection: &str,
        email: &str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let Some(user) = self
            .store
            .find_user_by_email(connection, &canonical_email(email))
            .await?
        else {
            return Ok(());
        };
        let secret = opaque_token();
        let now = self.clock.now();
        let ticket = Ticket {
            ticket_hash: token_digest(&secret),
            kind: TicketKind::ResetPassword,
            user_id: user.user_id.clone(),
            client_id: Some(client.client_id.clone()),
            expires_at: now + RESET_LINK_LIFETIME,
        };
        // A reset ticket lives RESET_LINK_LIFETIME: one expiring after this was issued
        // within the hour.
        let hour_ago = now - 3600 + RESET_LINK_LIFETIME;
        let created = self
            .store
            .create_ticket_within(&ticket, hour_ago, RESET_MAILS_PER_HOUR)
            .await?;
        if !created {
            let event = events::event("fcpr", "Too many password reset requests", ctx)
                .client(client)
                .user(&user);
            events::record(self.store, self.clock, event).await;
            return Ok(());
        }
        let link = format!("{}reset-password?ticket={secret}", self.issuer);
        let body = format!(
            "Someone asked to reset the password of your account for {}.\n\n\
             To choose a new password, open this link within 24 hours:\n{link}\n\n\
             If it was not you, ignore this message; your password stays as it is.\n",
            client.name
        );
        if let Some(to) = &user.email {
            self.mailer.send(to, "Reset your password", &body).await?;
        }
        let event = events::event("scpr", "Change password request", ctx)
            .client(client)
            .user(&user);
        events::record(self.store, self.clock, event).await;
        Ok(())
    }

    pub async fn send_verification(&self, user: &User, client_id: Option<&str>) -> Result<()> {
        let Some(to) = &user.email else {
            return Ok(());
        };
        let secret = self
            .issue_ticket(
                TicketKind::VerifyEmail,
                user,
                client_id,
                VERIFY_LINK_LIFETIME,
            )
            .await?;
        let link = format!("{}verify-email?ticket={secret}", self.issuer);
        let body = format!("Welcome! Confirm your email address by opening this link:\n{link}\n");
        self.mailer.send(to, "Verify your email", &body).await
    }

    /// The ticket, if it is live and of that kind; it is not used up.
    async fn live_ticket(&self, secret: &str, kind: TicketKind) -> Result<Ticket, TicketError> {
        self.store
            .find_ticket(&token_digest(secret))
            .await?
            .filter(|t| t.kind == kind && t.expires_at > self.clock.now())
            .ok_or(TicketError::Invalid)
    }

    /// Whether a reset link can still be used (to show its form).
    pub async fn reset_link_is_live(&self, secret: &str) -> Result<bool, TicketError> {
        match self.live_ticket(secret, TicketKind::ResetPassword).await {
            Ok(_) => Ok(true),
            Err(TicketError::Invalid) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets the new password, lifts brute-force blocks, and uses the link up.
    pub async fn reset_password(
        &self,
        passwords: &PasswordService,
        secret: &str,
        new_password: &str,
        ctx: &RequestContext,
    ) -> Result<User, TicketError> {
        let ticket = self.live_ticket(secret, TicketKind::ResetPassword).await?;
        let user = self
            .store
            .find_user(&ticket.user_id)
            .await?
            .ok_or(TicketError::Invalid)?;
        let connection = self.store.find_connection_by_name(&user.connection).await?;
        let policy = connection.map_or_else(PasswordPolicy::default, |c| {
            PasswordPolicy::from_options(&c.options)
        });
        policy
            .check(new_password, user.email.as_deref())
            .map_err(TicketError::WeakPassword)?;
        let password = passwords.new_password(new_password).await?;
        // Taking the ticket is the step that makes the link single-use, even under races.
        if self.store.take_ticket(&ticket.ticket_hash).await?.is_none() {
            return Err(TicketError::Invalid);
        }
        // Also deletes the user's other reset links and ends what the old password opened.
        self.store
            .reset_password(&user.user_id, &password, self.clock.now())
            .await?;
        self.store.unblock_user_logins(&user.user_id).await?;
        events::record(
            self.store,
            self.clock,
            events::event("scp", "Change password", ctx).user(&user),
        )
        .await;
        Ok(user)
    }

    pub async fn verify_email(
        &self,
        secret: &str,
        ctx: &RequestContext,
    ) -> Result<User, TicketError> {
        let ticket = self.live_ticket(secret, TicketKind::VerifyEmail).await?;
        if self.store.take_ticket(&ticket.ticket_hash).await?.is_none() {
            return Err(TicketError::Invalid);
        }
        let user = self
            .store
            .find_user(&ticket.user_id)
            .await?
            .ok_or(TicketError::Invalid)?;
        let grant =
            default_assignments::grant_for(self.store, &user.connection, AssignOn::EmailVerified)
                .await?;
        let applied = self
            .store
            .set_email_verified(&ticket.user_id, self.clock.now(), grant.as_ref())
            .await?;
        if let (true, Some(grant)) = (applied, &grant) {
            default_assignments::record_applied(
                self.store,
                self.clock,
                &user.user_id,
                AssignOn::EmailVerified,
                grant,
            )
            .await;
        }
        events::record(
            self.store,
            self.clock,
            events::event("sv", "Email verified", ctx).user(&user),
        )
        .await;
        Ok(user)
    }
}
