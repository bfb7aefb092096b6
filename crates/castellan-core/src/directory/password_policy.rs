//! A connection's password policy, read from its `options` as Auth0 writes them:
//! `passwordPolicy` (`none`, `low`, `fair`, `good`, `excellent`),
//! `password_complexity_options.min_length` and `password_dictionary`. The default asks for
//! 8 characters and refuses the most common passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

use serde_json::Value;

use crate::passwords::MAX_PASSWORD_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    /// Length only.
    Length,
    /// Lower case, upper case and digits.
    Fair,
    /// Three of: lower case, upper case, digits, special characters.
    Good,
    /// As good, and no character more than twice in a row.
    Excellent,
}

/// The 19,640 most common passwords of breach corpora, lower-cased (Royce Williams' list,
/// as Django ships it under its BSD licence): refused by default, as Auth0's password
/// dictionary refuses its own list.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_length: usize,
    strength: Strength,
    /// Auth0's `password_dictionary.enable`; on unless a connection turns it off.
    dictionary: bool,
    /// `password_dictionary.dictionary`: the connection's own words, lower-cased.
    own_words: Vec<String>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self::from_options(&Value::Null)
    }
}

impl PasswordPolicy {
    pub fn from_options(options: &Value) -> Self {
        let (strength, level_min) = match options.get("passwordPolicy").and_then(Value::as_str) {
            Some("none") => (Strength::Length, 1),
            Some("low") => (Strength::Length, 6),
            Some("fair") => (Strength::Fair, 8),
            Some("good") => (Strength::Good, 8),
            Some("excellent") => (Strength::Excellent, 10),
            _ => (Strength::Length, 8),
        };
        let min_length = options
            .pointer("/password_complexity_options/min_length")
            .and_then(Value::as_u64)
            .map_or(level_min, |n| n.clamp(1, 128) as usize);
        let dictionary = options.get("password_dictionary");
        Self {
            min_length,
            strength,
            dictionary: dictionary
                .and_then(|d| d.get("enable"))
                .and_then(Value::as_bool)
                .unwrap_or(true),
            own_words: dictionary
                .and_then(|d| d.get("dictionary"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect(),
        }
    }

    fn in_dictionary(&self, password: &str) -> bool {
        let lower = password.to_lowercase();
        self.dictionary
            && (COMMON_PASSWORDS.contains(lower.as_str()) || self.own_words.contains(&lower))
    }

    /// `Err` says, in words for the person typing it, what the password lacks.
    pub fn check(&self, password: &str, email: Option<&str>) -> Result<(), String> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(format!(
                "Password is too long (at most {MAX_PASSWORD_BYTES} bytes)"
            ));
        }
        if password.chars().count() < self.min_length {
            return Err(format!(
                "Password is too short (at least {} characters)",
                self.min_length
            ));
        }
        if email.is_some_and(|e| {
            e.eq_ignore_ascii_case(password) || e.to_lowercase() == password.to_lowercase()
        }) {
            return Err("Password must not be the email address".into());
        }
        if self.in_dictionary(password) {
            return Err("Password is too common".into());
        }
        let lower = password.chars().any(char::is_lowercase);
        let upper = password.chars().any(char::is_uppercase);
        let digit = password.chars().any(|c| c.is_ascii_digit());
        let special = password.chars().any(|c| !c.is_alphanumeric());
        match self.strength {
            Strength::Length => Ok(()),
            Strength::Fair if !(lower && upper && digit) => {
                Err("Password must contain lower case letters, upper case letters and numbers".into())
            }
            Strength::Good | Strength::Excellent if [lower, upper, digit, special].iter().filter(|c| **c).count() < 3 => {
                Err("Password must contain at least three of: lower case, upper case, numbers, special characters".into())
            }
            Strength::Excellent if password.chars().collect::<Vec<_>>().windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) => {
                Err("Password must not contain more than two identical characters in a row".into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_is_eight_characters_and_never_the_email() {
        let p = PasswordPolicy::from_options(&json!({}));
        assert!(p.check("short", None).is_err());
        assert!(p.check("l0ng-en0ugh", None).is_ok());
        assert!(p.check("Me@Example.com", Some("me@example.com")).is_err());
        assert!(
            p.check(&"x".repeat(1025), None)
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn levels_and_lengths() {
        let fair = PasswordPolicy::from_options(&json!({"passwordPolicy": "fair"}));
        assert!(fair.check("alllowercase1", None).is_err());
        assert!(fair.check("Mixed1case", None).is_ok());
        let excellent = PasswordPolicy::from_options(&json!({"passwordPolicy": "excellent"}));
        assert!(excellent.check("Aaaa1234!xyz", None).is_err());
        assert!(excellent.check("Ab1!Ab1!Ab1!", None).is_ok());
        let long = PasswordPolicy::from_options(
            &json!({"password_complexity_options": {"min_length": 12}}),
        );
        assert!(long.check("elevenchars", None).is_err());
    }

    #[test]
    fn common_passwords_are_refused_unless_the_dictionary_is_off() {
        let p = PasswordPolicy::default();
        for common in [
            "12345678",
            "password",
            "Password1",
            "QWERTYUIOP",
            "iloveyou",
        ] {
            assert_eq!(
                p.check(common, None).unwrap_err(),
                "Password is too common",
                "{common}"
            );
        }
        let own = PasswordPolicy::from_options(
            &json!({"password_dictionary": {"enable": true, "dictionary": ["Castellan2026"]}}),
        );
        assert!(own.check("castellan2026", None).is_err());
        let off = PasswordPolicy::from_options(&json!({"password_dictionary": {"enable": false}}));
        assert!(off.check("12345678", None).is_ok());
    }
}
