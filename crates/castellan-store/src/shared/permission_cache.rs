//! Computed permissions kept between log-ins.

/// The two counters of `authorization_generation`: `generation` moves when what roles and
/// groups grant changes, `membership` when who holds which role, group or permission does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counters {
    pub(super) generation: i64,
    pub(super) membership: i64,
}

/// Effective permissions kept in memory, each with the counters it was computed at and good
/// while they hold. The read that checks them costs the same for a user with one role and
/// one with 10,000, where computing them does not. What a group's own roles grant is kept
/// apart, tied to `generation` only, so that sign-ups and role assignments (which move
/// `membership`) leave it in place and a user of a group with 10,000 roles is computed again
/// from the group's kept permissions.
#[derive(Default)]
pub struct PermissionCache {
    /// (user id, API identifier) → permissions.
    pub(super) users: Stamped<(String, String), Counters>,
    /// (group id, API identifier) → what the group's own roles grant.
    pub(super) groups: Stamped<(String, String), i64>,
}

/// Beyond this many entries a map starts over rather than track recency.
pub(super) const PERMISSION_CACHE_ENTRIES: usize = 100_000;

pub(super) struct Stamped<K, S> {
    entries: std::sync::Mutex<std::collections::HashMap<K, (S, Vec<String>)>>,
}

impl<K, S> Default for Stamped<K, S> {
    fn default() -> Self {
        Stamped {
            entries: Default::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq, S: Copy + PartialEq> Stamped<K, S> {
    pub(super) fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<K, (S, Vec<String>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn contains(&self, key: &K) -> bool {
        self.lock().contains_key(key)
    }

    /// The value, if it was stored with `stamp`.
    pub(super) fn get(&self, key: &K, stamp: S) -> Option<Vec<String>> {
        self.lock()
            .get(key)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, value)| value.clone())
    }

    pub(super) fn put(&self, key: K, stamp: S, value: Vec<String>) {
        let mut entries = self.lock();
        if entries.len() >= PERMISSION_CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (stamp, value));
    }
}
