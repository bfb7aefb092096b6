//! Where a password comes from: `--password`, a prompt on the terminal (not echoed, asked
//! twice), or the first line of standard input when it is not a terminal (for scripts:
//! `printf '%s\n' "$PW" | castellan users set-password …`). And generated ones.

use std::io::{BufRead, IsTerminal};

use castellan_core::directory::password_policy::PasswordPolicy;
use castellan_core::model::Connection;

use super::error::CliError;

pub fn read(given: Option<String>) -> Result<String, CliError> {
    if let Some(password) = given {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        if first != again {
            return Err(CliError::Input("the two passwords differ".into()));
        }
        return non_empty(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    non_empty(line.trim_end_matches(['\n', '\r']).to_string())
}

fn non_empty(password: String) -> Result<String, CliError> {
    if password.is_empty() {
        Err(CliError::Input(
            "no password given (use --password, the prompt, or one line on standard input)".into(),
        ))
    } else {
        Ok(password)
    }
}

/// Groups of five letters and digits joined by '-' (four give 119 bits), easy to copy, with
/// every character class a policy may ask for. A draw the connection's policy still refuses
/// (three equal characters in a row, a missing class, a longer minimum) is drawn again, one
/// group longer every few draws; the longest minimum (128) is reached within 22 groups.
pub fn generate(connection: &Connection, email: &str) -> String {
    let policy = PasswordPolicy::from_options(&connection.options);
    let mut attempt = 0usize;
    loop {
        let groups: Vec<String> = (0..4 + attempt / 4)
            .map(|_| castellan_core::ids::alphanumeric(5))
            .collect();
        let candidate = groups.join("-");
        if policy.check(&candidate, Some(email)).is_ok() {
            return candidate;
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connection(options: serde_json::Value) -> Connection {
        Connection {
            id: "con_1".into(),
            name: "db".into(),
            strategy: "auth0".into(),
            options,
            enabled_clients: vec![],
            default_assignments: None,
        }
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        for options in [
            json!({}),
            json!({"passwordPolicy": "excellent"}),
            json!({"password_complexity_options": {"min_length": 128}}),
        ] {
            let password = generate(&connection(options.clone()), "a@b.c");
            assert!(
                PasswordPolicy::from_options(&options)
                    .check(&password, Some("a@b.c"))
                    .is_ok(),
                "{options} {password}"
            );
        }
    }
}
