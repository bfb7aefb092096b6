//! Single-thread signing rate: the raw aws-lc-rs primitive against Castellan's full JWT path
//! (`Signer::encode_jwt`: header and claims to JSON, base64url, sign, base64url).
//!
//!     cargo bench -p castellan-core --bench signing
//!
//! Plain `fn main()`, no harness. Each algorithm's raw and JWT cases run interleaved in short
//! slices (`BENCH_SLICE_MS`, 250 ms) until each has had `BENCH_SECONDS` (3) of wall time, so
//! noise from other processes on a shared machine hits both sides of a ratio alike. Besides
//! operations per wall second it reports operations per CPU-second of the benchmark thread
//! (from `/proc/thread-self/schedstat`), which is what to compare on a contended machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256,
};
use castellan_core::model::{Named, SigningAlg};
use castellan_core::oauth::keys::Signer;
use serde_json::{Value, json};

/// CPU time of the calling thread in nanoseconds, when the kernel exposes it.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[derive(Default)]
struct Tally {
    ops: u64,
    wall: Duration,
    cpu_ns: Option<u64>,
}

impl Tally {
    fn per_wall_second(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }

    fn per_cpu_second(&self) -> Option<f64> {
        self.cpu_ns
            .filter(|ns| *ns > 0)
            .map(|ns| self.ops as f64 / (ns as f64 / 1e9))
    }

    /// Runs `op` for one slice and adds what it did.
    fn slice(&mut self, length: Duration, op: &mut dyn FnMut()) {
        let cpu0 = thread_cpu_ns();
        let start = Instant::now();
        let mut ops = 0u64;
        loop {
            op();
            ops += 1;
            if start.elapsed() >= length {
                break;
            }
        }
        self.wall += start.elapsed();
        self.ops += ops;
        self.cpu_ns = match (cpu0, thread_cpu_ns(), self.cpu_ns.or(Some(0))) {
            (Some(a), Some(b), Some(total)) if b >= a => Some(total + (b - a)),
            _ => None,
        };
    }
}

/// Raw and JWT cases of one algorithm, interleaved.
fn race(
    seconds: f64,
    slice: Duration,
    raw: &mut dyn FnMut(),
    jwt: &mut dyn FnMut(),
) -> (Tally, Tally) {
    // Warm-up (caches, lazy initialisation in the library).
    for _ in 0..20 {
        raw();
        jwt();
    }
    let budget = Duration::from_secs_f64(seconds);
    let (mut a, mut b) = (Tally::default(), Tally::default());
    while a.wall < budget || b.wall < budget {
        a.slice(slice, raw);
        b.slice(slice, jwt);
    }
    (a, b)
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| *v > 0.0)
        .unwrap_or(default)
}

/// The claims Castellan puts in a client_credentials access token (Auth0 `access_token`
/// dialect, see `oauth::access_token`), with realistic lengths.
fn claims(now: i64) -> Value {
    let client_id = "Xq3vT9bLr2mKcW8yZpN4fH6jD1sA7gUe";
    json!({
        "iss": "https://castellan.example.com/",
        "sub": format!("{client_id}@clients"),
        "aud": "https://api.bench.local",
        "iat": now,
        "exp": now + 86_400,
        "scope": "read:users update:roles",
        "azp": client_id,
        "gty": "client-credentials",
        "permissions": ["read:users", "update:roles"],
    })
}

fn main() {
    let seconds = env_f64("BENCH_SECONDS", 3.0);
    let slice = Duration::from_secs_f64(env_f64("BENCH_SLICE_MS", 250.0) / 1000.0);
    let now = 1_780_000_000;
    let claims = claims(now);

    // A raw message the size of the JWT signing input (header.payload), about 300 bytes.
    let (probe, _) = Signer::generate(SigningAlg::Rs256);
    let token = probe.encode_jwt("JWT", &claims);
    let signing_input_len = token.rfind('.').unwrap_or(token.len());
    let message: Vec<u8> = (0..300u32).map(|i| b'A' + (i % 26) as u8).collect();

    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key generation");
    let ec =
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key generation");
    let ed = Ed25519KeyPair::generate().expect("Ed25519 key generation");
    let mut rsa_signature = vec![0u8; rsa.public_modulus_len()];

    println!(
        "signing bench: single thread, {seconds} s per case in {} ms interleaved slices; raw message {} bytes, JWT signing input {} bytes (token {} bytes for RS256)",
        slice.as_millis(),
        message.len(),
        signing_input_len,
        token.len()
    );
    if thread_cpu_ns().is_none() {
        println!("(no /proc/thread-self/schedstat: per-CPU-second figures unavailable)");
    }

    let mut rows = Vec::new();
    for alg in SigningAlg::ALL.iter().copied() {
        let (signer, _) = Signer::generate(alg);
        let mut jwt = || {
            black_box(signer.encode_jwt("JWT", black_box(&claims)));
        };
        let (raw, jwt) = match alg {
            SigningAlg::Rs256 => race(
                seconds,
                slice,
                &mut || {
                    rsa.sign(
                        &RSA_PKCS1_SHA256,
                        &rng,
                        black_box(&message),
                        &mut rsa_signature,
                    )
                    .expect("RSA signing");
                    black_box(&rsa_signature);
                },
                &mut jwt,
            ),
            SigningAlg::Es256 => race(
                seconds,
                slice,
                &mut || {
                    black_box(ec.sign(&rng, black_box(&message)).expect("ECDSA signing"));
                },
                &mut jwt,
            ),
            SigningAlg::EdDsa => race(
                seconds,
                slice,
                &mut || {
                    black_box(ed.sign(black_box(&message)));
                },
                &mut jwt,
            ),
        };
        rows.push((alg, raw, jwt));
    }

    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
    println!();
    println!(
        "{:<6} {:>10} {:>10} {:>7}   {:>12} {:>12} {:>7}",
        "alg", "raw/s", "jwt/s", "ratio", "raw/cpu-s", "jwt/cpu-s", "ratio"
    );
    for (alg, raw, jwt) in &rows {
        let cpu_ratio = match (raw.per_cpu_second(), jwt.per_cpu_second()) {
            (Some(r), Some(j)) => format!("{:.3}", j / r),
            _ => "-".into(),
        };
        println!(
            "{:<6} {:>10.0} {:>10.0} {:>7.3}   {:>12} {:>12} {:>7}",
            alg.name(),
            raw.per_wall_second(),
            jwt.per_wall_second(),
            jwt.per_wall_second() / raw.per_wall_second(),
            fmt(raw.per_cpu_second()),
            fmt(jwt.per_cpu_second()),
            cpu_ratio,
        );
    }
    println!();
    println!(
        "ratio = jwt / raw; raw = aws-lc-rs sign() on a pre-parsed key; jwt = Signer::encode_jwt with the claims of a client_credentials token"
    );
}
