//! Recovery codes: one per user, shown once at the first enrolment (as Auth0 does), kept
//! as a digest, and replaced by a new one when used or regenerated.

use crate::secrets::{constant_time_eq, token_digest};

/// Auth0's recovery codes are 24 characters of capital letters and digits.
const LENGTH: usize = 24;
/// Without the characters people confuse (0/O, 1/I/L): 31 symbols, about 119 bits.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A new code, to be shown once.
pub fn generate() -> String {
    crate::ids::drawn_from(ALPHABET, LENGTH)
}

/// What is stored: the digest of the code as typed in canonical form.
pub fn digest(code: &str) -> String {
    token_digest(&canonical(code))
}

/// Whether `typed` is the code whose digest is `stored`. Spaces and dashes people add, and
/// the case, do not matter.
pub fn matches(typed: &str, stored: &str) -> bool {
    constant_time_eq(digest(typed).as_bytes(), stored.as_bytes())
}

fn canonical(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_digest_however_it_is_typed() {
        let code = generate();
        assert_eq!(code.len(), LENGTH);
        let stored = digest(&code);
        assert!(matches(&code, &stored));
        let typed = format!(" {}-{} ", &code[..12].to_lowercase(), &code[12..]);
        assert!(matches(&typed, &stored));
        assert!(!matches(&generate(), &stored));
        assert!(!matches("", &stored));
    }
}
