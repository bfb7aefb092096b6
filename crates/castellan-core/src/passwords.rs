//! Password hashing: argon2id (m=19456 KiB, t=2, p=1) on a bounded pool of blocking
//! threads, so a burst of log-ins queues instead of stalling the async runtime. The queue
//! is bounded too: past it a request fails at once (`Error::Unavailable`, a 503) instead of
//! waiting behind seconds of other people's hashing. Imported bcrypt hashes verify and ask
//! to be upgraded. An unknown user is checked against a dummy hash, so that answer takes as
//! long as a wrong password.
//!
//! Each hash needs 19 MiB of working memory. Allocated afresh per hash, that memory stays
//! with the allocator once freed (glibc keeps it in the arena of whichever blocking thread
//! ran the hash), so bursts of log-ins used to leave the process holding most of a
//! gigabyte. Instead each worker's memory is allocated at its first hash and reused:
//! hashing holds at most `workers` × 19 MiB, for good.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::store::NewPassword;

/// Longer passwords are refused before any hashing: they buy no security and cost time.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP's first choice for argon2id.
fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("valid argon2 parameters")
}

/// What a hash of today's parameters starts with; any other asks to be hashed again.
const CURRENT_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// One hash's working memory.
type Scratch = Vec<Block>;

fn new_scratch() -> Scratch {
    vec![Block::new(); params().block_count()]
}

/// The bcrypt variants `verify_now` accepts.
const BCRYPT_PREFIXES: [&str; 3] = ["$2a$", "$2b$", "$2y$"];

/// Whether a hash made elsewhere can be stored as it is and checked at log-in (then upgraded
/// to argon2id): a well-formed bcrypt hash. Checked before an import writes anything, so a
/// mangled hash is refused with its record rather than found at its user's first log-in.
pub fn is_importable_hash(hash: &str) -> bool {
    BCRYPT_PREFIXES.iter().any(|p| hash.starts_with(p))
        && hash
            .parse::<bcrypt::HashParts>()
            .is_ok_and(|parts| (4..=31).contains(&parts.get_cost()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Valid { needs_rehash: bool },
    Invalid,
}

/// How much hashing may run and wait at once (`[password_hashing]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes computed at once, one blocking thread each.
    pub workers: usize,
    /// Hashes waiting for a worker; one more is refused at once.
    pub queue: usize,
}

/// Waiting hashes per worker by default: at about 12 hashes a second per core, the last in
/// line waits well under a second.
pub const DEFAULT_QUEUE_PER_WORKER: usize = 8;

impl HashingLimits {
    pub fn for_workers(workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            workers,
            queue: workers * DEFAULT_QUEUE_PER_WORKER,
        }
    }
}

impl Default for HashingLimits {
    /// One worker per core.
    fn default() -> Self {
        Self::for_workers(std::thread::available_parallelism().map_or(2, usize::from))
    }
}

pub struct PasswordService {
    permits: Arc<Semaphore>,
    /// Working memory of the hashes not running: at most one per worker, since a hash
    /// takes one only while it holds a permit.
    idle_memory: Arc<Mutex<Vec<Scratch>>>,
    /// Hashes admitted: running or waiting.
    admitted: Arc<AtomicUsize>,
    limits: HashingLimits,
    dummy_hash: String,
    /// Whether a new password leaves the user's refresh tokens and sessions alive (Auth0's
    /// older behaviour); off by default.
    keep_sessions: bool,
    /// Hashes a second all workers together can do, measured once at start.
    capacity: f64,
}

/// One admitted hash; leaving the queue (done, failed or abandoned) makes room.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordService {
    /// `concurrency` hashes run at once; up to the default queue more wait their turn.
    pub fn new(concurrency: usize) -> Self {
        Self::with_limits(HashingLimits::for_workers(concurrency))
    }

    pub fn with_limits(limits: HashingLimits) -> Self {
        let limits = HashingLimits {
            workers: limits.workers.max(1),
            ..limits
        };
        let started = Instant::now();
        // Its memory is given back: a server that has not hashed yet stays small.
        let dummy_hash =
            hash_with("castellan-dummy-password", &mut new_scratch()).expect("hashing a constant");
        let one_hash = started.elapsed().as_secs_f64().max(1e-4);
        Self {
            permits: Arc::new(Semaphore::new(limits.workers)),
            idle_memory: Arc::default(),
            admitted: Arc::new(AtomicUsize::new(0)),
            limits,
            dummy_hash,
            keep_sessions: false,
            capacity: limits.workers as f64 / one_hash,
        }
    }

    /// Password changes leave the user's refresh tokens and sessions alive.
    pub fn keeping_sessions(self, keep: bool) -> Self {
        Self {
            keep_sessions: keep,
            ..self
        }
    }

    /// A password change, hashed, as the store takes it: every password change goes
    /// through here, so none can skip ending the sessions the old password opened.
    pub async fn new_password(&self, password: &str) -> Result<NewPassword> {
        Ok(NewPassword {
            hash: self.hash(password).await?,
            end_sessions: !self.keep_sessions,
        })
    }

    pub fn limits(&self) -> HashingLimits {
        self.limits
    }

    /// About how many hashes a second this machine can do with the configured workers
    /// (from the one timed at start): what per-address budgets must stay well below.
    pub fn hashes_per_second(&self) -> f64 {
        self.capacity
    }

    /// A place in the queue, or `Unavailable` when it is full.
    fn admit(&self) -> Result<Admission> {
        let bound = self.limits.workers.saturating_add(self.limits.queue);
        let before = self.admitted.fetch_add(1, Ordering::AcqRel);
        let admission = Admission(self.admitted.clone());
        if before >= bound {
            tracing::debug!("password hashing queue full; refusing");
            return Err(Error::Unavailable);
        }
        Ok(admission)
    }

    /// Runs `work` on a blocking thread with a worker's memory, once admitted and at a
    /// worker's turn.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T> {
        let _admission = self.admit()?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password pool closed".into()))?;
        let idle = self.idle_memory.lock().expect("hashing memory lock").pop();
        let (done, scratch) = tokio::task::spawn_blocking(move || {
            let mut scratch = idle.unwrap_or_else(new_scratch);
            (work(&mut scratch), scratch)
        })
        .await
        .map_err(|e| Error::Internal(format!("password hashing task: {e}")))?;
        self.idle_memory
            .lock()
            .expect("hashing memory lock")
            .push(scratch);
        Ok(done)
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_string();
        self.blocking(move |memory| hash_with(&password, memory))
            .await?
    }

    /// `stored` is `None` for an unknown user: the dummy hash is checked so the answer
    /// takes the same time, and it is `Invalid`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verification> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let verdict = self
            .blocking(move |memory| verify_with(&password, &stored, memory))
            .await?;
        Ok(if known {
            verdict
        } else {
            Verification::Invalid
        })
    }
}

fn hash_with(password: &str, memory: &mut [Block]) -> Result<String> {
    let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("argon2: {e}"));
    let salt = argon2::password_hash::generate_salt();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        .map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).map_err(|e| failed(&e))?,
        salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

fn verify_with(password: &str, stored: &str, memory: &mut [Block]) -> Verification {
    if password.len() > MAX_PASSWORD_BYTES {
        return Verification::Invalid;
    }
    if stored.starts_with("$argon2") {
        return if argon2_matches(password, stored, memory) {
            Verification::Valid {
                needs_rehash: !stored.starts_with(CURRENT_PREFIX),
            }
        } else {
            Verification::Invalid
        };
    }
    if BCRYPT_PREFIXES.iter().any(|p| stored.starts_with(p)) {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verification::Valid { needs_rehash: true },
            _ => Verification::Invalid,
        };
    }
    tracing::warn!("a stored password hash has an unknown format");
    Verification::Invalid
}

/// Whether `password` gives the argon2 hash `stored`, computed in `memory` when the hash's
/// parameters fit it (a hash with larger ones gets its own, once).
fn argon2_matches(password: &str, stored: &str, memory: &mut [Block]) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Version::try_from(hash.version.unwrap_or(Version::V0x13.into())),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let context = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    let computed = if params.block_count() <= memory.len() {
        context.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    } else {
        context.hash_password_into(password.as_bytes(), salt, &mut out)
    };
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| &out == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_round_trip_and_unknown_users() {
        let service = PasswordService::new(2);
        let hash = service.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            service.verify("correct horse", Some(&hash)).await.unwrap(),
            Verification::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            service.verify("wrong", Some(&hash)).await.unwrap(),
            Verification::Invalid
        );
        assert_eq!(
            service
                .verify("castellan-dummy-password", None)
                .await
                .unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn other_argon2_parameters_verify_and_ask_for_a_rehash() {
        use argon2::PasswordHasher;
        let service = PasswordService::new(1);
        // Smaller than a worker's memory, and larger (computed in memory of its own).
        for m_cost in [8_192, 32_768] {
            let params = Params::new(m_cost, 1, 1, None).unwrap();
            let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"older")
                .unwrap()
                .to_string();
            assert_eq!(
                service.verify("older", Some(&hash)).await.unwrap(),
                Verification::Valid { needs_rehash: true },
                "m={m_cost}"
            );
            assert_eq!(
                service.verify("other", Some(&hash)).await.unwrap(),
                Verification::Invalid
            );
        }
    }

    #[tokio::test]
    async fn hashing_memory_is_reused_never_more_than_one_per_worker() {
        let service = Arc::new(PasswordService::with_limits(HashingLimits {
            workers: 2,
            queue: 16,
        }));
        let hashes: Vec<_> = (0..8)
            .map(|i| {
                let service = service.clone();
                tokio::spawn(async move { service.hash(&format!("password {i}")).await })
            })
            .collect();
        for hash in hashes {
            hash.await.unwrap().unwrap();
        }
        let idle = service.idle_memory.lock().unwrap();
        assert!(
            (1..=2).contains(&idle.len()),
            "{} buffers after 8 hashes on 2 workers",
            idle.len()
        );
    }

    #[tokio::test]
    async fn bcrypt_verifies_and_asks_for_a_rehash() {
        let service = PasswordService::new(1);
        let imported = bcrypt::hash("from auth0", 4).unwrap();
        assert_eq!(
            service.verify("from auth0", Some(&imported)).await.unwrap(),
            Verification::Valid { needs_rehash: true }
        );
        assert_eq!(
            service.verify("nope", Some(&imported)).await.unwrap(),
            Verification::Invalid
        );
        assert_eq!(
            service.verify("x", Some("md5$abc")).await.unwrap(),
            Verification::Invalid
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_makes_room_again() {
        let service = Arc::new(PasswordService::with_limits(HashingLimits {
            workers: 1,
            queue: 2,
        }));
        assert!(service.hashes_per_second() > 0.0);
        let hash = service.hash("queued").await.unwrap();
        let mut running = vec![];
        for _ in 0..3 {
            let (service, hash) = (service.clone(), hash.clone());
            running.push(tokio::spawn(async move {
                service.verify("queued", Some(&hash)).await
            }));
        }
        // Wait until the three have taken the worker and the two places.
        while service.admitted.load(Ordering::Acquire) < 3 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            service.verify("queued", Some(&hash)).await,
            Err(Error::Unavailable)
        ));
        for task in running {
            assert!(matches!(
                task.await.unwrap(),
                Ok(Verification::Valid { .. })
            ));
        }
        assert_eq!(service.admitted.load(Ordering::Acquire), 0);
        assert!(service.verify("queued", Some(&hash)).await.is_ok());
    }

    #[test]
    fn only_well_formed_bcrypt_hashes_are_importable() {
        let good = bcrypt::hash("from auth0", 4).unwrap();
        assert!(is_importable_hash(&good));
        assert!(is_importable_hash(&good.replacen("$2b$", "$2a$", 1)));
        assert!(!is_importable_hash(&good.replacen("$2b$", "$2x$", 1)));
        assert!(!is_importable_hash(&good[..good.len() - 1]));
        assert!(!is_importable_hash(&good.replacen("$04$", "$99$", 1)));
        assert!(!is_importable_hash(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
        ));
        assert!(!is_importable_hash("5f4dcc3b5aa765d61d8327deb882cf99"));
    }
}
