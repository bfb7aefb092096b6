//! The signing keys a node uses: loaded from the store (so every node sharing a database
//! signs and verifies with the same keys), opened with the master key, refreshed from time
//! to time so a rotation made elsewhere reaches every node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};

use super::keys::Signer;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{Named, SigningAlg, SigningKeyRecord};
use crate::paging::PageRequest;
use crate::secrets::MasterKey;
use crate::store::Store;

/// ID tokens live up to ten hours; a retired key stays published at least that long.
const MIN_RETENTION_SECONDS: i64 = 36_000;
/// Refreshes asked for by unknown `kid`s are spaced out so forged tokens cannot hammer the store.
const UNKNOWN_KID_REFRESH_SPACING: i64 = 5;

pub struct Verifier {
    pub alg: SigningAlg,
    pub key: DecodingKey,
}

/// One consistent snapshot of the keys.
pub struct KeySet {
    signers: HashMap<SigningAlg, Arc<Signer>>,
    verifiers: HashMap<String, Verifier>,
    /// Every key whose tokens may still be alive, with its algorithm.
    published: Vec<(SigningAlg, Value)>,
}

impl KeySet {
    pub fn signer(&self, alg: SigningAlg) -> Option<&Arc<Signer>> {
        self.signers.get(&alg)
    }

    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
        self.verifiers.get(kid)
    }

    /// The `/.well-known/jwks.json` document with the keys of `algs`. Some verifiers
    /// (auth0-python's) refuse a key set that holds any non-RSA key, so keys of an
    /// algorithm no API uses are left out.
    pub fn jwks(&self, algs: &[SigningAlg]) -> Value {
        // RSA first: some clients simply take the first key.
        let keys: Vec<&Value> = SigningAlg::ALL
            .iter()
            .filter(|alg| algs.contains(alg))
            .flat_map(|alg| self.published.iter().filter(move |(a, _)| a == alg))
            .map(|(_, jwk)| jwk)
            .collect();
        json!({ "keys": keys })
    }
}

pub struct Keyring {
    store: Arc<dyn Store>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    current: RwLock<Arc<KeySet>>,
    last_unknown_kid_refresh: AtomicI64,
}

impl Keyring {
    /// Makes sure a current key exists for every algorithm, then loads them all.
    pub async fn open(
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        for alg in SigningAlg::ALL {
            let (_, record) = Signer::generate_record(*alg, &master, clock.now());
            // Losing the race to another node is fine: its key is as good as ours.
            store.create_first_signing_key(&record).await?;
        }
        let current = load(store.as_ref(), &master, clock.now()).await?;
        Ok(Self {
            store,
            master,
            clock,
            current: RwLock::new(Arc::new(current)),
            last_unknown_kid_refresh: AtomicI64::new(i64::MIN),
        })
    }

    pub fn keys(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub async fn refresh(&self) -> Result<()> {
        let fresh = load(self.store.as_ref(), &self.master, self.clock.now()).await?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// A token names a `kid` this node does not know: another node may have rotated.
    /// Returns whether a refresh happened.
    pub async fn refresh_for_unknown_kid(&self) -> bool {
        let now = self.clock.now();
        let last = self.last_unknown_kid_refresh.load(Ordering::Relaxed);
        if now.saturating_sub(last) < UNKNOWN_KID_REFRESH_SPACING
            || self
                .last_unknown_kid_refresh
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        self.refresh().await.is_ok()
    }
}

/// Adds a new current key for `alg`; the previous one stays published while its tokens
/// may live, and keys older than that are dropped. Returns the new `kid`.
pub async fn rotate(
    store: &dyn Store,
    master: &MasterKey,
    alg: SigningAlg,
    now: i64,
) -> Result<String> {
    let (signer, record) = Signer::generate_record(alg, master, now);
    store.rotate_signing_key(&record, now).await?;
    let retention = retention_seconds(store).await?;
    store
        .delete_signing_keys_retired_before(alg, now - retention)
        .await?;
    Ok(signer.kid.clone())
}

/// How long a retired key must stay published: the longest lifetime of any token it signed.
async fn retention_seconds(store: &dyn Store) -> Result<i64> {
    let apis = store.list_resource_servers(PageRequest::ALL).await?;
    Ok(apis
        .items
        .iter()
        .map(|api| api.token_lifetime)
        .fold(MIN_RETENTION_SECONDS, i64::max))
}

async fn load(store: &dyn Store, master: &MasterKey, now: i64) -> Result<KeySet> {
    let records = store.list_signing_keys().await?;
    let retention = retention_seconds(store).await?;
    let published: Vec<&SigningKeyRecord> = records
        .iter()
        .filter(|r| r.retired_at.is_none_or(|at| at + retention > now))
        .collect();
    let mut signers = HashMap::new();
    for record in published.iter().filter(|r| r.retired_at.is_none()) {
        let signer = Signer::from_record(record, master).map_err(|e| {
            Error::Internal(format!(
                "{e}; CASTELLAN_SECRET_KEY must be the key this database was created with"
            ))
        })?;
        signers
            .entry(record.alg)
            .or_insert_with(|| Arc::new(signer));
    }
    let mut verifiers = HashMap::new();
    for record in &published {
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(record.public_jwk.clone())
            .map_err(|e| Error::Internal(format!("stored JWK {}: {e}", record.kid)))?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| Error::Internal(format!("stored JWK {}: {e}", record.kid)))?;
        verifiers.insert(
            record.kid.clone(),
            Verifier {
                alg: record.alg,
                key,
            },
        );
    }
    let published = published
        .iter()
        .map(|r| (r.alg, r.public_jwk.clone()))
        .collect();
    Ok(KeySet {
        signers,
        verifiers,
        published,
    })
}
