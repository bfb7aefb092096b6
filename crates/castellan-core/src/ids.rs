//! Identifier formats shared with Auth0, so ids look familiar to existing tooling.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from letters and digits.
pub fn alphanumeric(len: usize) -> String {
    drawn_from(ALPHANUMERIC, len)
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 of them).
pub fn drawn_from(alphabet: &[u8], len: usize) -> String {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(len);
    let mut byte = [0u8; 1];
    // The largest multiple of the alphabet's size a byte can hold: rejecting the bytes
    // above it keeps the distribution uniform.
    let limit = 256 - 256 % alphabet.len();
    while out.len() < len {
        rng.fill(&mut byte)
            .expect("the system random source is available");
        if usize::from(byte[0]) < limit {
            out.push(alphabet[usize::from(byte[0]) % alphabet.len()] as char);
        }
    }
    out
}

pub fn hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the system random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn client_id() -> String {
    alphanumeric(32)
}

pub fn resource_server_id() -> String {
    hex(12)
}

pub fn client_grant_id() -> String {
    format!("cgr_{}", alphanumeric(16))
}

pub fn role_id() -> String {
    format!("rol_{}", alphanumeric(16))
}

pub fn rule_id() -> String {
    format!("rul_{}", alphanumeric(16))
}

/// Actions, their versions and bindings carry UUIDs, as in Auth0.
pub fn action_id() -> String {
    guid()
}

pub fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn connection_id() -> String {
    format!("con_{}", alphanumeric(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(client_id().len(), 32);
        assert!(client_id().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(resource_server_id().len(), 24);
        assert!(client_grant_id().starts_with("cgr_"));
        assert_eq!(connection_id().len(), 20);
        assert_ne!(client_id(), client_id());
    }
}
