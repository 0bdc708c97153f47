//! [`VolumeCache`]: the volume snapshot the scheduler's volume plugins read — volumes,
//! claims and classes fed from watches (shared informer caches), with the matching index,
//! plus the plugins' own assumptions (upstream's assume cache).
//!
//! The plugins never read the store: PreFilter, Filter and Reserve read this cache; Reserve
//! *assumes* its decision here (a volume with the claim in `claimRef`, a claim with the
//! selected node) so the next pod's Filter does not pick the same volume before the writes
//! land; Unreserve restores the watched versions. A watched update with a newer
//! `resourceVersion` replaces an assumed object (the write landed, or someone else won).

use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim};
use kybern_core::api::storage::v1::StorageClass;
use kybern_reconciler::runtime::reflector::Change;
use kybern_reconciler::runtime::{Reader, SharedInformers, Shutdown, watcher};
use kybern_reconciler::{Api, Store};
use tokio::sync::{Notify, watch};

use crate::controller::StorageState;
use crate::controller::state::pick_default_class;
use crate::matching::{MatchError, VolumeIndex};

type ClaimKey = (String, String);

fn claim_key(c: &PersistentVolumeClaim) -> ClaimKey {
    (
        c.metadata.namespace.clone().unwrap_or_default(),
        c.metadata.name.clone().unwrap_or_default(),
    )
}

fn name_of(meta: &kybern_core::api::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// What the cache holds (read it through [`VolumeCache::read`]).
#[derive(Debug, Default)]
pub struct VolumeState {
    volumes: HashMap<String, Arc<PersistentVolume>>,
    claims: HashMap<ClaimKey, Arc<PersistentVolumeClaim>>,
    classes: HashMap<String, Arc<StorageClass>>,
    index: VolumeIndex,
    /// Assumed volumes: name → the watched version to restore.
    assumed_volumes: HashMap<String, Option<Arc<PersistentVolume>>>,
    /// Assumed claims: key → the watched version to restore.
    assumed_claims: HashMap<ClaimKey, Option<Arc<PersistentVolumeClaim>>>,
}

impl VolumeState {
    /// The matching index over the cached (and assumed) volumes.
    pub fn index(&self) -> &VolumeIndex {
        &self.index
    }

    /// How many volumes and claims are cached.
    pub fn len(&self) -> (usize, usize) {
        (self.volumes.len(), self.claims.len())
    }

    /// The cached volume with this name, shared.
    pub fn volume_arc(&self, name: &str) -> Option<&Arc<PersistentVolume>> {
        self.volumes.get(name)
    }

    fn put_volume(&mut self, v: Arc<PersistentVolume>) {
        let name = name_of(&v.metadata);
        if let Some(old) = self.volumes.get(&name)
            && old.metadata.uid != v.metadata.uid
        {
            let uid = old.metadata.uid.clone().unwrap_or_default();
            self.index.remove(&name, &uid);
        }
        self.index.upsert((*v).clone());
        self.volumes.insert(name, v);
    }

    fn drop_volume(&mut self, name: &str) {
        if let Some(old) = self.volumes.remove(name) {
            let uid = old.metadata.uid.clone().unwrap_or_default();
            self.index.remove(name, &uid);
        }
    }

    fn watched_volume(&mut self, change: &Change<PersistentVolume>) {
        let obj = change.object();
        let name = name_of(&obj.metadata);
        if let Some(original) = self.assumed_volumes.get_mut(&name) {
            let same_version = original
                .as_ref()
                .is_some_and(|o| o.metadata.resource_version == obj.metadata.resource_version);
            if same_version && matches!(change, Change::Applied { .. }) {
                // A replay of the version the assumption was made from: keep the assumption.
                *original = Some(obj.clone());
                return;
            }
            self.assumed_volumes.remove(&name);
        }
        match change {
            Change::Applied { new, .. } => self.put_volume(new.clone()),
            Change::Deleted(_) => self.drop_volume(&name),
        }
    }

    fn watched_claim(&mut self, change: &Change<PersistentVolumeClaim>) {
        let obj = change.object();
        let key = claim_key(obj);
        if let Some(original) = self.assumed_claims.get_mut(&key) {
            let same_version = original
                .as_ref()
                .is_some_and(|o| o.metadata.resource_version == obj.metadata.resource_version);
            if same_version && matches!(change, Change::Applied { .. }) {
                *original = Some(obj.clone());
                return;
            }
            self.assumed_claims.remove(&key);
        }
        match change {
            Change::Applied { new, .. } => {
                self.claims.insert(key, new.clone());
            }
            Change::Deleted(_) => {
                self.claims.remove(&key);
            }
        }
    }

    fn watched_class(&mut self, change: &Change<StorageClass>) {
        match change {
            Change::Applied { new, .. } => {
                self.classes.insert(name_of(&new.metadata), new.clone());
            }
            Change::Deleted(old) => {
                self.classes.remove(&name_of(&old.metadata));
            }
        }
    }
}

impl StorageState for VolumeState {
    fn volume(&self, name: &str) -> Option<&PersistentVolume> {
        self.volumes.get(name).map(|v| &**v)
    }

    fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.claims
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|c| &**c)
    }

    fn class(&self, name: &str) -> Option<&StorageClass> {
        self.classes.get(name).map(|c| &**c)
    }

    fn default_class(&self) -> Option<&StorageClass> {
        pick_default_class(self.classes.values().map(|c| &**c))
    }

    /// The scheduler does not read nodes from here (it has its own snapshot).
    fn node(&self, _name: &str) -> Option<&Node> {
        None
    }

    fn best_match(
        &self,
        claim: &PersistentVolumeClaim,
        delay_binding: bool,
    ) -> Result<Option<&PersistentVolume>, MatchError> {
        self.index.find_best_match(claim, delay_binding)
    }

    /// The scheduler's plugins do not ask (pvc-protection is the controller's).
    fn claim_in_use(&self, _namespace: &str, _name: &str) -> bool {
        false
    }

    fn has_provisioner(&self, _name: &str) -> bool {
        false
    }
}

/// The shared volume snapshot of the scheduler's volume plugins (see the module docs).
/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct VolumeCache {
    state: Arc<RwLock<VolumeState>>,
    changed: Arc<watch::Sender<u64>>,
    /// Per claim: woken when the claim, or a volume naming it in `claimRef`, changes.
    claim_waiters: Arc<std::sync::Mutex<HashMap<ClaimKey, Arc<Notify>>>>,
}

impl Default for VolumeCache {
    fn default() -> Self {
        Self::new()
    }
}

impl VolumeCache {
    /// An empty cache.
    pub fn new() -> Self {
        VolumeCache {
            state: Arc::default(),
            changed: Arc::new(watch::channel(0).0),
            claim_waiters: Arc::default(),
        }
    }

    /// Reads the cache.
    pub fn read(&self) -> RwLockReadGuard<'_, VolumeState> {
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, VolumeState> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A receiver that sees every change (for waiting on the PV controller).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, HashMap<ClaimKey, Arc<Notify>>> {
        self.claim_waiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A notifier woken whenever the claim `namespace/name` or a volume whose `claimRef`
    /// names it changes; give it back with [`VolumeCache::release_claim_waiter`].
    pub fn claim_waiter(&self, namespace: &str, name: &str) -> Arc<Notify> {
        self.waiters()
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default()
            .clone()
    }

    /// Gives back a notifier from [`VolumeCache::claim_waiter`].
    pub fn release_claim_waiter(&self, namespace: &str, name: &str, waiter: Arc<Notify>) {
        drop(waiter);
        let key = (namespace.to_owned(), name.to_owned());
        let mut waiters = self.waiters();
        if waiters.get(&key).is_some_and(|w| Arc::strong_count(w) == 1) {
            waiters.remove(&key);
        }
    }

    fn wake(&self, key: &ClaimKey) {
        if let Some(w) = self.waiters().get(key) {
            w.notify_waiters();
        }
    }

    /// Applies a watched volume change.
    pub fn apply_volume(&self, change: &Change<PersistentVolume>) {
        self.write().watched_volume(change);
        let mut keys = Vec::new();
        let mut claim_ref = |v: &PersistentVolume| {
            if let Some(r) = v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                keys.push((
                    r.namespace.clone().unwrap_or_default(),
                    r.name.clone().unwrap_or_default(),
                ));
            }
        };
        match change {
            Change::Applied { old, new } => {
                claim_ref(new);
                if let Some(old) = old {
                    claim_ref(old);
                }
            }
            Change::Deleted(old) => claim_ref(old),
        }
        for k in &keys {
            self.wake(k);
        }
        self.bump();
    }

    /// Applies a watched claim change.
    pub fn apply_claim(&self, change: &Change<PersistentVolumeClaim>) {
        self.write().watched_claim(change);
        self.wake(&claim_key(change.object()));
        self.bump();
    }

    /// Applies a watched StorageClass change.
    pub fn apply_class(&self, change: &Change<StorageClass>) {
        self.write().watched_class(change);
        self.bump();
    }

    /// Assumes `volume` (Reserve) until the watch shows a newer version or
    /// [`VolumeCache::restore_volume`] undoes it.
    pub fn assume_volume(&self, volume: PersistentVolume) {
        let mut st = self.write();
        let name = name_of(&volume.metadata);
        if !st.assumed_volumes.contains_key(&name) {
            let original = st.volumes.get(&name).cloned();
            st.assumed_volumes.insert(name, original);
        }
        st.put_volume(Arc::new(volume));
    }

    /// Assumes `claim` (Reserve).
    pub fn assume_claim(&self, claim: PersistentVolumeClaim) {
        let mut st = self.write();
        let key = claim_key(&claim);
        if !st.assumed_claims.contains_key(&key) {
            let original = st.claims.get(&key).cloned();
            st.assumed_claims.insert(key.clone(), original);
        }
        st.claims.insert(key, Arc::new(claim));
    }

    /// Undoes an assumption of the volume `name` (Unreserve); a no-op when the watch already
    /// replaced it.
    pub fn restore_volume(&self, name: &str) {
        let mut st = self.write();
        if let Some(original) = st.assumed_volumes.remove(name) {
            match original {
                Some(v) => st.put_volume(v),
                None => st.drop_volume(name),
            }
        }
    }

    /// Undoes an assumption of the claim `namespace/name` (Unreserve).
    pub fn restore_claim(&self, namespace: &str, name: &str) {
        let mut st = self.write();
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(original) = st.assumed_claims.remove(&key) {
            match original {
                Some(c) => {
                    st.claims.insert(key, c);
                }
                None => {
                    st.claims.remove(&key);
                }
            }
        }
    }

    /// Feeds the cache from the shared informer caches of volumes, claims and classes in
    /// `store` (started if nobody shares them yet); returns once all three have synced and
    /// keeps feeding in background tasks until `shutdown` fires.
    pub async fn feed(
        &self,
        store: Arc<dyn Store>,
        informers: &SharedInformers,
        shutdown: Shutdown,
    ) {
        let cfg = watcher::Config::default();
        let volumes = informers
            .informer(&Api::<PersistentVolume>::all(store.clone()), &cfg)
            .reader();
        let claims = informers
            .informer(&Api::<PersistentVolumeClaim>::all(store.clone()), &cfg)
            .reader();
        let classes = informers
            .informer(&Api::<StorageClass>::all(store), &cfg)
            .reader();
        spawn_feed(&volumes, self.clone(), shutdown.clone(), |c, ch| {
            c.apply_volume(ch)
        });
        spawn_feed(&claims, self.clone(), shutdown.clone(), |c, ch| {
            c.apply_claim(ch)
        });
        spawn_feed(&classes, self.clone(), shutdown, |c, ch| c.apply_class(ch));
        volumes.wait_until_ready().await;
        claims.wait_until_ready().await;
        classes.wait_until_ready().await;
        // The readers are synced; wait until this cache has taken their current contents.
        let want = (volumes.len(), claims.len());
        let mut rx = self.subscribe();
        loop {
            let (v, c) = self.read().len();
            if v >= want.0 && c >= want.1 {
                break;
            }
            if rx.changed().await.is_err() {
                break;
            }
        }
    }
}

fn spawn_feed<K: kybern_reconciler::runtime::Object>(
    reader: &Reader<K>,
    cache: VolumeCache,
    shutdown: Shutdown,
    apply: fn(&VolumeCache, &Change<K>),
) {
    let mut changes = reader.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                c = changes.recv() => match c {
                    Some(c) => apply(&cache, &c),
                    None => break,
                },
                () = shutdown.wait() => break,
            }
        }
    });
}
