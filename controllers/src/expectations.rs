//! Controller expectations (client-go's `ControllerExpectations`): remember how many creations
//! and deletions a controller issued and has not yet seen in its cache, so a slow cache never
//! makes it act twice (e.g. create the same missing pods again).
//!
//! A controller calls [`Expectations::expect`] before issuing writes, the watch handlers call
//! [`Expectations::creation_observed`] / [`Expectations::deletion_observed`] as the changes
//! arrive, and the controller only acts when [`Expectations::satisfied`] — or when the
//! expectations are older than the TTL (5 minutes upstream), in case a watch event was lost.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kybern_reconciler::runtime::ObjectKey;
use tokio::time::Instant;

/// How long expectations are trusted (upstream `ExpectationsTimeout`).
pub const EXPECTATIONS_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Expected {
    adds: i64,
    dels: i64,
    at: Instant,
}

/// Outstanding creations/deletions per controller key.
#[derive(Debug, Default)]
pub struct Expectations {
    map: Mutex<HashMap<ObjectKey, Expected>>,
}

impl Expectations {
    /// No expectations.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectKey, Expected>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `key` may act: nothing outstanding, never recorded, or expired.
    pub fn satisfied(&self, key: &ObjectKey) -> bool {
        match self.lock().get(key) {
            None => true,
            Some(e) => (e.adds <= 0 && e.dels <= 0) || e.at.elapsed() > EXPECTATIONS_TTL,
        }
    }

    /// Records that `adds` creations and `dels` deletions are about to be issued.
    pub fn expect(&self, key: &ObjectKey, adds: i64, dels: i64) {
        self.lock().insert(
            key.clone(),
            Expected {
                adds,
                dels,
                at: Instant::now(),
            },
        );
    }

    /// One expected creation was seen (or failed and will not come).
    pub fn creation_observed(&self, key: &ObjectKey) {
        if let Some(e) = self.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// One expected deletion was seen (or failed and will not come).
    pub fn deletion_observed(&self, key: &ObjectKey) {
        if let Some(e) = self.lock().get_mut(key) {
            e.dels -= 1;
        }
    }

    /// Forgets `key` (its controller object was deleted).
    pub fn delete(&self, key: &ObjectKey) {
        self.lock().remove(key);
    }

    /// Outstanding `(adds, dels)` for `key`.
    pub fn pending(&self, key: &ObjectKey) -> (i64, i64) {
        self.lock().get(key).map_or((0, 0), |e| (e.adds, e.dels))
    }
}
