//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA-1, six digits,
//! 30-second steps, what Google Authenticator and Guardian's OTP mode read from an
//! `otpauth://totp/` URI.

use aws_lc_rs::hmac;
use data_encoding::BASE32_NOPAD;

use crate::secrets::constant_time_eq;

/// RFC 6238 §4: the default step.
pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
/// RFC 4226 §4 asks for at least 128 bits and recommends 160.
const SECRET_BYTES: usize = 20;

/// A new random secret.
pub fn generate_secret() -> Vec<u8> {
    crate::secrets::random_bytes::<SECRET_BYTES>().to_vec()
}

/// The secret as authenticator apps take it typed in: base32 without padding.
pub fn base32(secret: &[u8]) -> String {
    BASE32_NOPAD.encode(secret)
}

/// The enrolment URI (Google Authenticator's Key Uri Format): the label is
/// `issuer:account`, and `issuer` is repeated as a parameter, as apps expect.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{issuer}:{account}");
    let mut uri = url::Url::parse("otpauth://totp/").expect("a constant URI");
    uri.set_path(&label);
    uri.query_pairs_mut()
        .append_pair("secret", &base32(secret))
        .append_pair("issuer", issuer)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", &DIGITS.to_string())
        .append_pair("period", &STEP_SECONDS.to_string());
    uri.to_string()
}

/// The time step `now` falls in.
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP_SECONDS)
}

/// RFC 4226 §5.3: the code of counter `step`.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &(step as u64).to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:06}", binary % 10u32.pow(DIGITS))
}

/// The step of the code `code` is at `now`, allowing one step either way for clocks that
/// drift (RFC 6238 §5.2); `None` if it matches none. Every candidate is compared in
/// constant time. The caller takes the step once (`FactorAttempt::Passed`), so a code is
/// good once.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut matched = None;
    for step in [current - 1, current, current + 1] {
        if constant_time_eq(code_at_step(secret, step).as_bytes(), code.as_bytes()) {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1, with the last six digits of its eight.
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at_step(secret, step_at(time)), code, "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = generate_secret();
        let now = 1_700_000_000;
        let code = code_at_step(&secret, step_at(now));
        assert_eq!(matching_step(&secret, &code, now), Some(step_at(now)));
        assert_eq!(
            matching_step(&secret, &code, now + STEP_SECONDS),
            Some(step_at(now))
        );
        assert_eq!(
            matching_step(&secret, &code, now - STEP_SECONDS),
            Some(step_at(now))
        );
        assert_eq!(matching_step(&secret, &code, now + 2 * STEP_SECONDS), None);
        assert_eq!(matching_step(&secret, " 12345", now), None);
        assert_eq!(matching_step(&secret, "1234567", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn the_uri_names_issuer_account_and_base32_secret() {
        let uri = otpauth_uri("Castellan", "ada@example.com", b"12345678901234567890");
        assert!(
            uri.starts_with("otpauth://totp/Castellan:ada@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Castellan"),
            "{uri}"
        );
    }
}
