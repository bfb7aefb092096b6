#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    ResetPassword,
    VerifyEmail,
}

impl super::Named for TicketKind {
    const ALL: &'static [Self] = &[Self::ResetPassword, Self::VerifyEmail];
    fn name(self) -> &'static str {
        match self {
            Self::ResetPassword => "reset_password",
            Self::VerifyEmail => "verify_email",
        }
    }
}

/// A single-use link sent by mail; the store keeps the digest of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub ticket_hash: String,
    pub kind: TicketKind,
    pub user_id: String,
    pub client_id: Option<String>,
    pub expires_at: i64,
}

/// A message waiting in the outbox (when no SMTP server is configured).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}
