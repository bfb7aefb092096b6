//! Users moved over from Auth0. A record is one user as Auth0 hands users out: a line of the
//! export job's JSON, an entry of the bulk-import schema, or a line of the password-hash
//! export its support provides. Each is checked as `POST /api/v2/users` checks a user (email,
//! username, id, metadata), ids and addresses must be unique within the file and against the
//! store, and a password hash must be bcrypt, which log-in verifies and upgrades to
//! argon2id. Every user is written in one transaction, and only when no record was refused,
//! so a bad file changes nothing.
//!
//! Imported users are not signing up: no sign-up defaults or actions run, and log-in counts
//! and dates from the export are kept, so a `first_login` default waits for a user who has
//! never logged in.

mod record;

use std::collections::HashMap;

use serde_json::Value;

use super::Editor;
use crate::audit::UserChange;
use crate::error::Error;
use crate::model::{Connection, User};
use crate::store::{ImportedUser, Store, StoreError};

/// Why one record cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("\"{field}\" must be {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    /// What the Management API would answer for the same user.
    #[error("{0}")]
    Invalid(String),
    #[error(
        "\"{user_id}\" is a {provider} user; only database users (auth0|…) can be imported into a database connection"
    )]
    NotDatabaseUser { user_id: String, provider: String },
    #[error("password_hash and custom_password_hash are mutually exclusive")]
    TwoHashes,
    #[error("password hash algorithm \"{0}\" is not supported; only bcrypt hashes can be imported")]
    UnsupportedAlgorithm(String),
    /// `scheme` is the hash's `$…$` prefix at most, never the hash.
    #[error(
        "the password hash ({scheme}) is not a bcrypt hash ($2a$, $2b$ or $2y$ with a cost of 4 to 31); only bcrypt hashes can be imported"
    )]
    UnknownHashFormat { scheme: String },
    #[error("{what} \"{value}\" is also on line {line}")]
    Duplicate {
        what: &'static str,
        value: String,
        line: usize,
    },
    #[error("{what} \"{value}\" already belongs to a user of the database")]
    Taken { what: &'static str, value: String },
}

/// A refused record and its line in the file (the line it starts on, in a JSON array).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineError {
    pub line: usize,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} record(s) refused; nothing was imported", .0.len())]
    Refused(Vec<LineError>),
    #[error(
        "the connection \"{0}\" does not exist (apply the tenant's configuration or start the server once first)"
    )]
    UnknownConnection(String),
    #[error(transparent)]
    Core(#[from] Error),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        Self::Core(e.into())
    }
}

/// What an import wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub connection: String,
    pub users: usize,
    pub with_password: usize,
}

/// Records being checked, in file order.
pub struct UserImport {
    connection: Connection,
    now: i64,
    accepted: Vec<(usize, ImportedUser)>,
    ids: HashMap<String, usize>,
    emails: HashMap<String, usize>,
    usernames: HashMap<String, usize>,
    refused: Vec<LineError>,
}

impl UserImport {
    /// Users go to `connection`; `now` dates records that carry no dates.
    pub async fn begin(store: &dyn Store, connection: &str, now: i64) -> Result<Self, ImportError> {
        let connection = store
            .find_connection_by_name(connection)
            .await?
            .ok_or_else(|| ImportError::UnknownConnection(connection.to_string()))?;
        Ok(Self {
            connection,
            now,
            accepted: Vec::new(),
            ids: HashMap::new(),
            emails: HashMap::new(),
            usernames: HashMap::new(),
            refused: Vec::new(),
        })
    }

    /// Checks one record and keeps it, or remembers why it is refused.
    pub fn add(&mut self, line: usize, record: &Value) {
        match self.read(line, record) {
            Ok(user) => self.accepted.push((line, user)),
            Err(problem) => self.refuse(line, problem),
        }
    }

    /// A record the reader could not even parse.
    pub fn refuse(&mut self, line: usize, problem: Problem) {
        self.refused.push(LineError { line, problem });
    }

    /// Records read so far, accepted or not.
    pub fn records(&self) -> usize {
        self.accepted.len() + self.refused.len()
    }

    fn read(&mut self, line: usize, record: &Value) -> Result<ImportedUser, Problem> {
        let record = record.as_object().ok_or(Problem::NotAnObject)?;
        let user = record::user(&self.connection, record, self.now)?;
        let password_hash = record::password_hash(record)?;
        let username = user.username.as_ref().map(|u| u.to_lowercase());
        let email = user.email.clone().unwrap_or_default();
        for (seen, what, key) in [
            (&self.ids, "user_id", Some(&user.user_id)),
            (&self.emails, "email", Some(&email)),
            (&self.usernames, "username", username.as_ref()),
        ] {
            if let Some(first) = key.and_then(|k| seen.get(k)) {
                return Err(Problem::Duplicate {
                    what,
                    value: key.cloned().unwrap_or_default(),
                    line: *first,
                });
            }
        }
        self.ids.insert(user.user_id.clone(), line);
        self.emails.insert(email, line);
        if let Some(username) = username {
            self.usernames.insert(username, line);
        }
        Ok(ImportedUser {
            user,
            password_hash,
        })
    }

    /// Checks the accepted records against the users already stored. Every refused record
    /// comes back, in line order, or none does and the import is ready to write.
    pub async fn check(self, store: &dyn Store) -> Result<CheckedImport, ImportError> {
        let Self {
            connection,
            accepted,
            mut refused,
            ..
        } = self;
        let keys = |f: fn(&User) -> Option<&String>| -> Vec<String> {
            accepted
                .iter()
                .filter_map(|(_, u)| f(&u.user).cloned())
                .collect()
        };
        let taken = store
            .taken_user_keys(
                &connection.name,
                &keys(|u| Some(&u.user_id)),
                &keys(|u| u.email.as_ref()),
                &keys(|u| u.username.as_ref()),
            )
            .await?;
        for (line, ImportedUser { user, .. }) in &accepted {
            let username = user.username.as_ref().map(|u| u.to_lowercase());
            let clashes = [
                ("user_id", Some(&user.user_id), &taken.user_ids),
                ("email", user.email.as_ref(), &taken.emails),
                ("username", username.as_ref(), &taken.usernames),
            ];
            if let Some((what, Some(value), _)) = clashes
                .into_iter()
                .find(|(_, key, set)| key.is_some_and(|k| set.contains(k)))
            {
                refused.push(LineError {
                    line: *line,
                    problem: Problem::Taken {
                        what,
                        value: value.clone(),
                    },
                });
            }
        }
        if !refused.is_empty() {
            refused.sort_by_key(|e| e.line);
            return Err(ImportError::Refused(refused));
        }
        Ok(CheckedImport {
            connection: connection.name,
            users: accepted.into_iter().map(|(_, u)| u).collect(),
        })
    }
}

/// Records that passed every check, ready to write.
pub struct CheckedImport {
    connection: String,
    users: Vec<ImportedUser>,
}

impl CheckedImport {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn summary(&self) -> Summary {
        Summary {
            connection: self.connection.clone(),
            users: self.users.len(),
            with_password: self
                .users
                .iter()
                .filter(|u| u.password_hash.is_some())
                .count(),
        }
    }

    /// Writes every user and the import's audit entry in one transaction. `written`
    /// hears the number of users written so far.
    pub async fn write(
        self,
        ed: &Editor<'_>,
        written: &(dyn Fn(usize) + Send + Sync),
    ) -> Result<Summary, ImportError> {
        let summary = self.summary();
        let tx = ed.begin().await?;
        match tx.insert_users(&self.users, written).await {
            Ok(()) => {}
            // Someone created one of these users after the check: the transaction is gone.
            Err(StoreError::Conflict(_)) => {
                return Err(Error::Conflict(
                    "a user with one of these ids, emails or usernames was created during the import; nothing was imported"
                        .into(),
                )
                .into());
            }
            Err(e) => return Err(e.into()),
        }
        let change = UserChange::Import {
            connection: summary.connection.clone(),
            users: summary.users,
            with_password_hash: summary.with_password,
        };
        ed.commit(tx, [change]).await?;
        Ok(summary)
    }
}
