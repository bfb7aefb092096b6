//! The signing keys a node uses: loaded from the store (so every node sharing a database
//! signs and verifies with the same keys), opened with the master key, refreshed from time
//! to time so a rotation made elsewhere reaches every node.
//!
//! Keys follow Auth0's cycle. Each algorithm always has a `next` key, published in the
//! JWKS but not signing. A rotation makes it current, but never before it has been
//! published for a JWKS cache lifetime (plus the time other nodes take to load it): a
//! verifier holding any JWKS fetched since it appeared knows it. When it is younger than
//! that, the switch is scheduled in the store, and every node changes keys at that moment
//! by its clock instead of at its own refresh. The retired key stays published while
//! tokens it signed may live, unless it is revoked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};

use super::keys::Signer;
use crate::audit::ApplicationChange;
use crate::clock::Clock;
use crate::directory::Editor;
use crate::error::{Error, Result};
use crate::model::{KeyRole, Named, SigningAlg, SigningKeyRecord};
use crate::paging::PageRequest;
use crate::secrets::MasterKey;
use crate::store::{Promotion, ResourceServerStore, SigningKeyStore, Store};

/// Seconds between two loads of the keys by a node: how late a node may learn of a
/// rotation, a revocation or a new `next` key.
pub const REFRESH_SECONDS: i64 = 30;
/// Refreshes asked for by unknown `kid`s are spaced out so forged tokens cannot hammer the store.
const UNKNOWN_KID_REFRESH_SPACING: i64 = 5;

pub struct Verifier {
    pub alg: SigningAlg,
    pub key: DecodingKey,
}

/// One consistent snapshot of the keys.
pub struct KeySet {
    /// Per algorithm, the keys that sign now or are scheduled to, latest start first.
    signers: HashMap<SigningAlg, Vec<(i64, Arc<Signer>)>>,
    verifiers: HashMap<String, Verifier>,
    /// Every key whose tokens may still be alive, and every `next` key, with its algorithm.
    published: Vec<(SigningAlg, Value)>,
}

impl KeySet {
    /// The key that signs at `now`: the one whose scheduled start came last. Should the
    /// clock go back before every start, the earliest key still beats refusing to sign.
    pub fn signer(&self, alg: SigningAlg, now: i64) -> Option<&Arc<Signer>> {
        let keys = self.signers.get(&alg)?;
        keys.iter()
            .find(|(since, _)| *since <= now)
            .or_else(|| keys.last())
            .map(|(_, signer)| signer)
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
    jwks_max_age: i64,
    current: RwLock<Arc<KeySet>>,
    last_unknown_kid_refresh: AtomicI64,
}

impl Keyring {
    /// Makes sure every algorithm has a current and a `next` key, then loads them all.
    /// `jwks_max_age` is how long clients may cache the JWKS.
    pub async fn open(
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        jwks_max_age: i64,
    ) -> Result<Self> {
        let records = store.list_signing_keys().await?;
        for alg in SigningAlg::ALL {
            let now = clock.now();
            let mine = || records.iter().filter(|r| r.alg == *alg);
            if !mine().any(|r| r.current_since.is_some() && r.retired_at.is_none()) {
                // The first key signs at once: no verifier can hold an older JWKS.
                let (_, mut first) = Signer::generate_record(*alg, &master, now);
                first.current_since = Some(now);
                // Losing the race to another node is fine: its key is as good as ours.
                store.add_signing_key_if_vacant(&first).await?;
            }
            if !mine().any(|r| r.current_since.is_none()) {
                let (_, next) = Signer::generate_record(*alg, &master, now);
                store.add_signing_key_if_vacant(&next).await?;
            }
        }
        let keyring = Self {
            store,
            master,
            clock,
            jwks_max_age,
            current: RwLock::new(Arc::new(KeySet {
                signers: HashMap::new(),
                verifiers: HashMap::new(),
                published: Vec::new(),
            })),
            last_unknown_kid_refresh: AtomicI64::new(i64::MIN),
        };
        keyring.refresh().await?;
        Ok(keyring)
    }

    pub fn keys(&self) -> Arc<KeySet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The `Cache-Control: max-age` of the JWKS, which rotations wait out.
    pub fn jwks_max_age(&self) -> i64 {
        self.jwks_max_age
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

    /// Every stored key, newest first.
    pub async fn records(&self) -> Result<Vec<SigningKeyRecord>> {
        Ok(self.store.list_signing_keys().await?)
    }

    pub async fn record(&self, kid: &str) -> Result<SigningKeyRecord> {
        find(self.store.as_ref(), kid).await
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Rotates `alg`: its `next` key becomes current as soon as verifiers can know it
    /// (see the module's comment), a new `next` key is published, and keys whose tokens
    /// have all expired are dropped, in one transaction with its audit entry. This node
    /// reloads at once; others within `REFRESH_SECONDS`, well before a scheduled switch.
    pub async fn rotate(&self, ed: &Editor<'_>, alg: SigningAlg) -> Result<Promotion> {
        let now = self.clock.now();
        let (_, new_next) = Signer::generate_record(alg, &self.master, now);
        let lead = self.jwks_max_age + REFRESH_SECONDS;
        let tx = ed.begin().await?;
        let promotion = tx
            .rotate_signing_key(&new_next, now, lead)
            .await
            .map_err(|e| match Error::from(e) {
                Error::NotFound { .. } => {
                    Error::Internal(format!("no next {} key to promote", alg.name()))
                }
                other => other,
            })?;
        let retention = retention_seconds(tx.as_ref()).await?;
        tx.delete_signing_keys_retired_before(alg, now - retention)
            .await?;
        let change = ApplicationChange::RotateSigningKey {
            alg,
            kid: promotion.kid.clone(),
            current_since: promotion.current_since,
            next: new_next.kid,
        };
        ed.commit(tx, [change]).await?;
        self.refresh().await?;
        Ok(promotion)
    }

    /// Withdraws a retired key from the JWKS: tokens it signed stop verifying (on other
    /// nodes within `REFRESH_SECONDS`). The current and `next` keys cannot be revoked,
    /// as on Auth0: rotate first.
    pub async fn revoke(&self, ed: &Editor<'_>, kid: &str) -> Result<SigningKeyRecord> {
        let now = self.clock.now();
        let tx = ed.begin().await?;
        let record = find(tx.as_ref(), kid).await?;
        match record.role(now) {
            KeyRole::Revoked => return Ok(record),
            KeyRole::Previous => {}
            KeyRole::Current | KeyRole::Next => {
                return Err(Error::Conflict(
                    "Only a previously used signing key can be revoked; rotate first".into(),
                ));
            }
        }
        if !tx.revoke_signing_key(kid, now).await? {
            // Revoked, or deleted, by someone else meanwhile.
            drop(tx);
            return self.record(kid).await;
        }
        let change = ApplicationChange::RevokeSigningKey {
            alg: record.alg,
            kid: kid.to_string(),
            revoked_at: now,
        };
        ed.commit(tx, [change]).await?;
        self.refresh().await?;
        self.record(kid).await
    }
}

async fn find<S: SigningKeyStore + ?Sized>(store: &S, kid: &str) -> Result<SigningKeyRecord> {
    store
        .list_signing_keys()
        .await?
        .into_iter()
        .find(|r| r.kid == kid)
        .ok_or(Error::NotFound {
            kind: "signing key",
        })
}

/// How long a retired key must stay published: the longest lifetime of any token it
/// signed (ID tokens, and the access tokens of every API), plus the refresh interval,
/// during which a node that has not yet seen an immediate switch still signs with it.
async fn retention_seconds<S: ResourceServerStore + ?Sized>(store: &S) -> Result<i64> {
    let apis = store.list_resource_servers(PageRequest::ALL).await?;
    let longest = apis
        .items
        .iter()
        .map(|api| api.token_lifetime)
        .fold(crate::oidc::id_token::ID_TOKEN_LIFETIME, i64::max);
    Ok(longest + REFRESH_SECONDS)
}

async fn load(store: &dyn Store, master: &MasterKey, now: i64) -> Result<KeySet> {
    let records = store.list_signing_keys().await?;
    let retention = retention_seconds(store).await?;
    let mut published: Vec<&SigningKeyRecord> = records
        .iter()
        .filter(|r| r.revoked_at.is_none())
        .filter(|r| r.retired_at.is_none_or(|at| at + retention > now))
        .collect();
    // The key that signs now first, then the next one, then the previous ones.
    published.sort_by_key(|r| match r.role(now) {
        KeyRole::Current => 0,
        KeyRole::Next => 1,
        KeyRole::Previous | KeyRole::Revoked => 2,
    });
    let mut signers: HashMap<SigningAlg, Vec<(i64, Arc<Signer>)>> = HashMap::new();
    for record in &published {
        let Some(since) = record.current_since else {
            continue;
        };
        if record.retired_at.is_some_and(|at| at <= now) {
            continue;
        }
        let signer = Signer::from_record(record, master).map_err(|e| {
            Error::Internal(format!(
                "{e}; CASTELLAN_SECRET_KEY must be the key this database was created with"
            ))
        })?;
        signers
            .entry(record.alg)
            .or_default()
            .push((since, Arc::new(signer)));
    }
    for keys in signers.values_mut() {
        keys.sort_by_key(|(since, _)| std::cmp::Reverse(*since));
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
