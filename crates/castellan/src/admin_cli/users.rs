//! `castellan users create|list|show|block|unblock|delete|set-password`.

use castellan_core::directory::users::{self, NewUser, Unblock};
use castellan_core::model::{DATABASE_CONNECTION, User};
use castellan_core::paging::PageRequest;
use serde_json::{Value, json};

use super::error::CliError;
use super::output::{show, table, when};
use super::password;
use super::tenant::Tenant;

#[derive(Debug, clap::Subcommand)]
pub enum UsersAction {
    /// Create a user in a database connection; its sign-up defaults apply. The password
    /// comes from --password, a prompt, or the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, default_value = DATABASE_CONNECTION)]
        connection: String,
        /// For connections that require usernames.
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Mark the address as verified (no verification mail is sent either way).
        #[arg(long)]
        verified: bool,
    },
    /// List users by email; --query takes the Management API's search syntax
    /// (`email:*@example.com AND blocked:true`).
    List {
        #[arg(long, short)]
        query: Option<String>,
        #[arg(long)]
        connection: Option<String>,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        page: u64,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=1000))]
        per_page: u64,
    },
    /// Show one user (by id or email) with their direct roles and groups.
    Show(UserRef),
    /// Block a user: no log-in until unblocked.
    Block(UserRef),
    /// Unblock a user, and lift the blocks of repeated failed log-ins.
    Unblock(UserRef),
    /// Delete a user with their roles, group memberships and permissions.
    Delete(UserRef),
    /// Set a user's password (checked against the connection's policy). The password comes
    /// from --password, a prompt, or the first line of standard input.
    SetPassword {
        #[command(flatten)]
        user: UserRef,
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct UserRef {
    /// The user id (`auth0|…`) or email address.
    user: String,
    /// The connection, when the address is in several.
    #[arg(long)]
    connection: Option<String>,
}

pub async fn run(tenant: &Tenant, action: UsersAction, json_wanted: bool) -> Result<(), CliError> {
    match action {
        UsersAction::Create {
            email,
            password,
            connection,
            username,
            name,
            verified,
        } => {
            let password = password::read(password)?;
            let request = NewUser {
                connection,
                email: Some(email),
                password: Some(password),
                username,
                name,
                email_verified: verified,
                ..NewUser::default()
            };
            let user = create(tenant, request).await?;
            show(json_wanted, user.to_auth0_json(), || {
                format!("created {} ({})\n", user.user_id, email_of(&user))
            });
        }
        UsersAction::List {
            query,
            connection,
            page,
            per_page,
        } => {
            let request = PageRequest {
                offset: page.saturating_mul(per_page),
                limit: per_page,
            };
            let found = users::search(
                tenant.store.as_ref(),
                query.as_deref(),
                connection.as_deref(),
                Some("email:1"),
                request,
            )
            .await?;
            let listed: Vec<Value> = found.items.iter().map(User::to_auth0_json).collect();
            show(json_wanted, Value::Array(listed), || {
                let rows: Vec<Vec<String>> = found.items.iter().map(row).collect();
                let mut out = table(
                    &[
                        "USER ID",
                        "EMAIL",
                        "CONNECTION",
                        "VERIFIED",
                        "BLOCKED",
                        "LOGINS",
                        "CREATED",
                    ],
                    &rows,
                );
                out.push_str(&footer(request.offset, rows.len(), found.total));
                out
            });
        }
        UsersAction::Show(r) => {
            let user = tenant.user(&r.user, r.connection.as_deref()).await?;
            let roles = tenant
                .store
                .list_user_roles(&user.user_id, PageRequest::ALL)
                .await?
                .items;
            let groups = tenant
                .store
                .list_user_groups(&user.user_id, PageRequest::ALL)
                .await?
                .items;
            let mut value = user.to_auth0_json();
            value["roles"] = json!(
                roles
                    .iter()
                    .map(|r| json!({"id": r.id, "name": r.name}))
                    .collect::<Vec<_>>()
            );
            value["groups"] = json!(
                groups
                    .iter()
                    .map(|g| json!({"id": g.id, "name": g.name}))
                    .collect::<Vec<_>>()
            );
            show(json_wanted, value, || {
                let names = |items: Vec<&String>| {
                    items
                        .into_iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let fields = [
                    ("user id", user.user_id.clone()),
                    ("email", email_of(&user).to_string()),
                    ("connection", user.connection.clone()),
                    ("verified", yes_no(user.email_verified)),
                    ("blocked", yes_no(user.blocked)),
                    ("logins", user.logins_count.to_string()),
                    ("created", when(user.created_at)),
                    ("roles", names(roles.iter().map(|r| &r.name).collect())),
                    ("groups", names(groups.iter().map(|g| &g.name).collect())),
                ];
                fields
                    .iter()
                    .map(|(k, v)| format!("{k:<12}{v}\n"))
                    .collect()
            });
        }
        UsersAction::Block(r) => {
            let user = tenant.user(&r.user, r.connection.as_deref()).await?;
            let user = users::block(&tenant.editor(), &user.user_id).await?;
            show(json_wanted, user.to_auth0_json(), || {
                format!("blocked {} ({})\n", user.user_id, email_of(&user))
            });
        }
        UsersAction::Unblock(r) => {
            let user = tenant.user(&r.user, r.connection.as_deref()).await?;
            let user = users::unblock(&tenant.editor(), &user.user_id, Unblock::Everything).await?;
            show(json_wanted, user.to_auth0_json(), || {
                format!("unblocked {} ({})\n", user.user_id, email_of(&user))
            });
        }
        UsersAction::Delete(r) => {
            let user = tenant.user(&r.user, r.connection.as_deref()).await?;
            users::delete(&tenant.editor(), &user.user_id).await?;
            show(json_wanted, user.to_auth0_json(), || {
                format!("deleted {} ({})\n", user.user_id, email_of(&user))
            });
        }
        UsersAction::SetPassword { user, password } => {
            let found = tenant.user(&user.user, user.connection.as_deref()).await?;
            let password = password::read(password)?;
            let updated = set_password(tenant, &found, &password).await?;
            show(json_wanted, updated.to_auth0_json(), || {
                format!(
                    "set the password of {} ({})\n",
                    updated.user_id,
                    email_of(&updated)
                )
            });
        }
    }
    Ok(())
}

pub async fn create(tenant: &Tenant, request: NewUser) -> Result<User, CliError> {
    Ok(users::create(&tenant.editor(), &tenant.passwords, request).await?)
}

pub async fn set_password(tenant: &Tenant, user: &User, password: &str) -> Result<User, CliError> {
    Ok(users::set_password(&tenant.editor(), &tenant.passwords, &user.user_id, password).await?)
}

fn email_of(user: &User) -> &str {
    user.email
        .as_deref()
        .or(user.username.as_deref())
        .unwrap_or("")
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn row(u: &User) -> Vec<String> {
    vec![
        u.user_id.clone(),
        email_of(u).to_string(),
        u.connection.clone(),
        yes_no(u.email_verified),
        yes_no(u.blocked),
        u.logins_count.to_string(),
        when(u.created_at),
    ]
}

/// "3 users" or "51–100 of 230 users (--page 2 for more)".
pub fn footer(offset: u64, shown: usize, total: u64) -> String {
    let shown = shown as u64;
    if offset == 0 && shown == total {
        return format!("{total} user{}\n", if total == 1 { "" } else { "s" });
    }
    if shown == 0 {
        return format!("no users on this page ({total} in all)\n");
    }
    let last = offset + shown;
    let more = if last < total {
        " (--page for more)"
    } else {
        ""
    };
    format!("{}–{last} of {total} users{more}\n", offset + 1)
}
