//! Small checks shared by the use cases, each returning `Error::Invalid` with a message
//! that names the field.

use crate::error::{Error, Result};
use crate::model::Named;

/// A name or identifier: not blank, at most `max` characters, and no control characters
/// (Auth0 refuses them in names; NUL cannot be stored by PostgreSQL at all).
pub fn non_empty(field: &str, value: &str, max: usize) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Invalid(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(Error::Invalid(format!(
            "{field} must be at most {max} characters"
        )));
    }
    no_control(field, value)
}

/// Free text shown as a name (a user's `name`, `nickname`, ...): no control characters.
pub fn no_control(field: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// The names a user is shown by, each `(field, value)`.
pub fn profile_names(names: &[(&str, &Option<String>)]) -> Result<()> {
    for (field, value) in names {
        if let Some(value) = value {
            no_control(field, value)?;
        }
    }
    Ok(())
}

pub fn named<T: Named>(field: &str, value: &str) -> Result<T> {
    T::parse(value).ok_or_else(|| {
        Error::Invalid(format!(
            "{field} must be one of: {} (got \"{value}\")",
            T::expected()
        ))
    })
}

/// Every entry is a non-empty string without whitespace (URLs, grant types, scope values).
pub fn tokens(field: &str, values: &[String]) -> Result<()> {
    match values
        .iter()
        .find(|v| v.is_empty() || v.chars().any(char::is_whitespace))
    {
        Some(bad) => Err(Error::Invalid(format!(
            "{field} contains an invalid entry: \"{bad}\""
        ))),
        None => Ok(()),
    }
}

/// Every entry is a web origin (`https://app.example.com`, `http://localhost:3000`,
/// `https://*.example.com`): what a browser's `Origin` header is compared with.
pub fn origins(field: &str, values: &[String]) -> Result<()> {
    for value in values {
        if let Err(reason) = crate::model::check_listed_origin(value) {
            return Err(Error::Invalid(format!(
                "{field} contains an invalid origin \"{value}\": it {reason}"
            )));
        }
    }
    Ok(())
}

pub fn no_duplicates(field: &str, values: &[String]) -> Result<()> {
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(Error::Invalid(format!("{field} contains \"{v}\" twice")));
        }
    }
    Ok(())
}
