//! How bytes cross between JavaScript and the host: as latin1 strings, one character
//! (U+0000 to U+00FF) a byte. Reading a typed array's memory from Rust needs `unsafe` in
//! rquickjs, which this crate keeps to `compiled.rs`; `Buffer` converts to and from latin1
//! itself (`toString('latin1')`, `Buffer.from(s, 'latin1')`).

use rquickjs::{Ctx, Exception};

/// The bytes a latin1 string stands for; a character past U+00FF is a caller's mistake.
pub(super) fn decode(ctx: &Ctx<'_>, text: &str) -> rquickjs::Result<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)))
        .collect::<Result<_, _>>()
        .map_err(|_| Exception::throw_type(ctx, "bytes must be a latin1 string"))
}

pub(super) fn encode(bytes: &[u8]) -> String {
    bytes.iter().copied().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_byte_is_one_character() {
        let all: Vec<u8> = (0..=255).collect();
        let text = super::encode(&all);
        assert_eq!(text.chars().count(), 256);
        let back: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        assert_eq!(back, all);
    }
}
