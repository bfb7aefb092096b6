//! Password hashing: argon2id (m=19456 KiB, t=2, p=1) on a bounded pool of blocking
//! threads, so a burst of log-ins queues instead of stalling the async runtime. The queue
//! is bounded too: past it a request fails at once (`Error::Unavailable`, a 503) instead of
//! waiting behind seconds of other people's hashing. Imported bcrypt hashes verify and ask
//! to be upgraded. An unknown user is checked against a dummy hash, so that answer takes as
//! long as a wrong password.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::store::NewPassword;

/// Longer passwords are refused before any hashing: they buy no security and cost time.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
    )
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
        let dummy_hash = hash_now("castellan-dummy-password").expect("hashing a constant");
        let one_hash = started.elapsed().as_secs_f64().max(1e-4);
        Self {
            permits: Arc::new(Semaphore::new(limits.workers)),
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

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _admission = self.admit()?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("password pool closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::Internal(format!("password hashing task: {e}")))
    }

    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_string();
        self.blocking(move || hash_now(&password)).await?
    }

    /// `stored` is `None` for an unknown user: the dummy hash is checked so the answer
    /// takes the same time, and it is `Invalid`.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verification> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let verdict = self
            .blocking(move || verify_now(&password, &stored))
            .await?;
        Ok(if known {
            verdict
        } else {
            Verification::Invalid
        })
    }
}

fn hash_now(password: &str) -> Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

fn verify_now(password: &str, stored: &str) -> Verification {
    if password.len() > MAX_PASSWORD_BYTES {
        return Verification::Invalid;
    }
    if stored.starts_with("$argon2") {
        return match argon2().verify_password(password.as_bytes(), stored) {
            Ok(()) => Verification::Valid {
                needs_rehash: !stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            },
            Err(_) => Verification::Invalid,
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
