//! Multi-factor authentication: the factors' checks (one-time codes, recovery codes), when
//! a log-in must pass one, and how failures lock a factor. No HTTP here: the log-in pages,
//! the MFA API and the Management API call these.

pub mod factors;
pub mod policy;
pub mod recovery_code;
pub mod totp;

/// Wrong codes in a row that lock a factor. The issue asks for five; Auth0's support
/// articles give ten before "Too many failed codes" and a wait of about six minutes. Five
/// and fifteen minutes are the stricter choice: an attacker who has the password gets at
/// most 480 guesses a day at a code space of a million.
pub const LOCK_THRESHOLD: i64 = 5;
/// How long a locked factor refuses codes, in seconds.
pub const LOCK_SECONDS: i64 = 15 * 60;
/// "Remember this browser" lasts 30 days, as on Auth0.
pub const REMEMBER_BROWSER_SECONDS: i64 = 30 * 86_400;
