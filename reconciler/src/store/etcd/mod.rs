//! `EtcdStore`: the [`Store`] on an etcd v3 cluster (feature `etcd`), laid out and versioned
//! as the Kubernetes API server's etcd3 storage does.
//!
//! # Key layout
//! `<prefix>/registry/<resource>/<namespace>/<name>` for the core group and
//! `<prefix>/registry/<group>/<resource>/<namespace>/<name>` otherwise; cluster-scoped kinds
//! drop the namespace segment. Values are the objects as JSON, stored without
//! `resourceVersion` (as upstream does: it is the key's `mod_revision`).
//!
//! # Revisions
//! The store's revision IS etcd's revision, as upstream's: an object's `resourceVersion` is
//! its key's `mod_revision`, a list's is the header revision it was read at. A fresh etcd
//! starts at revision 1 (not 0 like [`MemoryStore`](super::MemoryStore)), and a shared etcd
//! moves the revision for writes outside this store's prefix: revisions are comparable and
//! ordered, never contiguous or absolute (the conformance suite checks them relative to the
//! store's revision at the start of each test).
//!
//! # Semantics mapping
//! - create: ONE transaction `create_revision(key) == 0` → put, else AlreadyExists.
//! - update / delete: apply the shared rules to the object's last known state, then ONE
//!   transaction `mod_revision(key) == known` → put/delete, else get (the current state comes
//!   back in the same round trip) and retry (upstream's `GuaranteedUpdate`); a caller's
//!   `resourceVersion` precondition makes the retry a Conflict. The last known state comes
//!   from a bounded cache of what this handle last read or wrote per key
//!   ([`UPDATE_CACHE_ENTRIES`]), as upstream takes it from its watch cache, so an update of an
//!   object this handle has seen is a single round trip; the cache is only a guess (the
//!   transaction checks it), and a no-op or a failed rule against a cached state is confirmed
//!   with a real read before it is answered, as upstream does. An update carrying a
//!   `resourceVersion` can only apply to the state at that version, so its object is planned
//!   once and moved, not copied for a retry that could only answer Conflict or NotFound (see
//!   `update_at_version`).
//! - the hot path's client is a clone of etcd's KV client only, as a caller of
//!   `etcd-client` would hold, not of the whole [`Client`] (eight service clients).
//! - list: a range read pinned at one revision (the first page's), filtered client-side,
//!   paginated with upstream's continue tokens (base64 JSON of the revision and the last key).
//! - watch: an etcd watch on the kind's (or namespace's) prefix from `start_revision`, with
//!   previous values, filtered client-side with upstream's watch-cache selector transitions
//!   (MODIFIED out of the selection → DELETED, into it → ADDED). Bookmarks come from etcd
//!   progress requests, sent every `bookmark_interval`.
//! - compaction: [`Store::compact`] is an etcd compaction; reads and watches below it get
//!   Expired (410) in upstream's wording.
//!
//! # Deliberate limits
//! - A watcher that falls more than [`EtcdStoreConfig::watch_buffer`] events behind is ended
//!   with Expired (as upstream's watch cache terminates slow watchers); it relists.
//! - Field and label selectors are evaluated client-side (as upstream's etcd3 storage does);
//!   a selective list reads every key of the range.
//! - Sorting is etcd's byte order of keys (`ns/name`), as upstream's.

mod keys;
mod watch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use etcd_client::{
    Client, CompactionOptions, Compare, CompareOp, GetOptions, KeyValue, KvClient, Txn, TxnOp,
    TxnOpResponse,
};
use kybern_core::{ApiResource, DynamicObject};

use self::keys::prefix_end;
use super::continue_token::ContinueToken;
use super::metrics::{Metrics, Operation};
use super::plan::{self, ChangeKind, Planned};
use super::read::{LIST_TOO_OLD, ListRead, ReadAt, check_not_older_than};
use super::{
    CONTINUE_EXPIRED, DeleteOptions, DeleteOutcome, ListOptions, ObjectPage, Patch, PatchOptions,
    Store, StoreError, StoreMetrics, WatchOptions, WatchStream, WriteScope, names, rules,
};

/// Most keys whose last known state (object and `mod_revision`) an `EtcdStore` handle keeps
/// for single-transaction updates; the cache is emptied when it is full.
pub const UPDATE_CACHE_ENTRIES: usize = 16_384;

/// How many times `create` draws a new `generateName` suffix after a name clash.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// How many times an update or delete re-reads after losing a race before giving up.
const UPDATE_RETRIES: usize = 64;

/// A key's last known state: the object (`resourceVersion` set) and its etcd `mod_revision`.
type State = (Arc<DynamicObject>, i64);

/// key → the last state an `EtcdStore` handle read or wrote. foldhash, as the work queue's
/// maps: a lookup and a replacement per update, on keys of ~50 bytes.
type KnownStates = HashMap<String, State, foldhash::fast::RandomState>;

/// Settings of an [`EtcdStore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtcdStoreConfig {
    /// etcd client endpoints, e.g. `["127.0.0.1:2379"]`.
    pub endpoints: Vec<String>,
    /// Prepended to every key (e.g. `/tenant-a`); empty for upstream's plain `/registry/...`.
    pub prefix: String,
    /// Events a watcher may have pending before it is ended with Expired.
    pub watch_buffer: usize,
    /// How often watches that asked for bookmarks get one.
    pub bookmark_interval: Duration,
}

impl Default for EtcdStoreConfig {
    fn default() -> Self {
        EtcdStoreConfig {
            endpoints: vec!["127.0.0.1:2379".into()],
            prefix: String::new(),
            watch_buffer: 65_536,
            bookmark_interval: Duration::from_secs(60),
        }
    }
}

/// The etcd-backed [`Store`]. Cheap to clone. It connects lazily, on first use, inside the
/// caller's tokio runtime.
#[derive(Clone, Debug)]
pub struct EtcdStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: EtcdStoreConfig,
    client: tokio::sync::OnceCell<Client>,
    metrics: Metrics,
    /// The highest compaction this handle knows of (store revision).
    compacted: AtomicU64,
    /// The newest store revision seen in any response (for metrics).
    seen: AtomicU64,
    watchers: Arc<AtomicU64>,
    /// key → the last state this handle read or wrote and its `mod_revision`.
    known: Mutex<KnownStates>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("config", &self.config)
            .field("connected", &self.client.initialized())
            .finish_non_exhaustive()
    }
}

/// How an etcd failure reads.
enum EtcdFailure {
    Compacted,
    Future,
    Other(StoreError),
}

fn classify(e: etcd_client::Error) -> EtcdFailure {
    let text = e.to_string();
    if text.contains("required revision has been compacted") {
        EtcdFailure::Compacted
    } else if text.contains("required revision is a future revision") {
        EtcdFailure::Future
    } else {
        EtcdFailure::Other(etcd_error(text))
    }
}

fn etcd_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal {
        message: format!("etcd: {e}"),
    }
}

fn other(e: etcd_client::Error) -> StoreError {
    match classify(e) {
        EtcdFailure::Other(e) => e,
        EtcdFailure::Compacted => etcd_error("required revision has been compacted"),
        EtcdFailure::Future => etcd_error("required revision is a future revision"),
    }
}

/// Store revision of an etcd revision (the same number; etcd's are never negative).
fn to_store(etcd: i64) -> u64 {
    u64::try_from(etcd).unwrap_or(0)
}

/// etcd revision of a store revision (the same number).
fn to_etcd(store: u64) -> i64 {
    i64::try_from(store).unwrap_or(i64::MAX)
}

fn header_revision(h: Option<&etcd_client::ResponseHeader>) -> i64 {
    h.map_or(0, |h| h.revision())
}

/// Decodes a stored value, setting `resourceVersion` from its `mod_revision`.
fn decode(kv: &KeyValue) -> Result<DynamicObject, StoreError> {
    let mut obj: DynamicObject =
        serde_json::from_slice(kv.value()).map_err(|e| StoreError::Serialization {
            kind: String::from_utf8_lossy(kv.key()).into_owned(),
            message: e.to_string(),
        })?;
    obj.metadata.resource_version = Some(to_store(kv.mod_revision()).to_string());
    Ok(obj)
}

/// The largest [`ENCODE_BUFFER`] a thread keeps between writes (a larger one, left by an
/// unusually large object, is freed).
const ENCODE_BUFFER_KEEP: usize = 64 * 1024;

thread_local! {
    /// Scratch space `encode` writes into: the JSON is built in this thread's reused buffer
    /// and copied out once at its exact size, rather than grown from empty through
    /// reallocations on every write.
    static ENCODE_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Encodes an object for storage, without `resourceVersion`.
fn encode(obj: &mut DynamicObject) -> Result<Vec<u8>, StoreError> {
    let rv = obj.metadata.resource_version.take();
    let json = ENCODE_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let r = serde_json::to_writer(&mut *buf, &*obj).map(|()| buf.to_vec());
            if buf.capacity() > ENCODE_BUFFER_KEEP {
                *buf = Vec::new();
            }
            r
        }
        // Only if a serializer re-entered `encode`; never on the write path.
        Err(_) => serde_json::to_vec(&*obj),
    });
    let r = json.map_err(|e| StoreError::Serialization {
        kind: obj
            .types
            .as_ref()
            .map_or_else(String::new, |t| t.kind.clone()),
        message: e.to_string(),
    });
    obj.metadata.resource_version = rv;
    r
}

/// The key an update is for, to answer it.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    resource: &'a ApiResource,
    key: &'a str,
    name: &'a str,
}

impl Attempt<'_> {
    fn not_found(&self) -> StoreError {
        StoreError::not_found(self.resource, self.name)
    }

    /// The answer once the key left the version the update was for: Conflict while it
    /// `exists`, NotFound once it is gone.
    fn moved(&self, exists: bool) -> StoreError {
        if exists {
            StoreError::conflict(self.resource, self.name, super::CONFLICT_MODIFIED)
        } else {
            self.not_found()
        }
    }
}

impl EtcdStore {
    /// A store on the etcd at `config.endpoints` (connected on first use).
    pub fn new(config: EtcdStoreConfig) -> Self {
        EtcdStore {
            inner: Arc::new(Inner {
                config,
                client: tokio::sync::OnceCell::new(),
                metrics: Metrics::default(),
                compacted: AtomicU64::new(0),
                seen: AtomicU64::new(0),
                watchers: Arc::new(AtomicU64::new(0)),
                known: Mutex::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EtcdStoreConfig {
        &self.inner.config
    }

    /// The etcd client (connecting on first use).
    ///
    /// # Errors
    /// Internal when etcd cannot be reached.
    pub async fn client(&self) -> Result<Client, StoreError> {
        self.connected().await.cloned()
    }

    /// The KV client the reads and writes use: a clone of one tonic client, where
    /// [`client`](Self::client) clones all eight of etcd's service clients.
    async fn kv(&self) -> Result<KvClient, StoreError> {
        self.connected().await.map(Client::kv_client)
    }

    /// The connected client, connecting on first use.
    ///
    /// Once connected this is a plain read; the connecting future (kilobytes) is boxed so
    /// that it does not enlarge the future of every read and write awaiting this one.
    async fn connected(&self) -> Result<&Client, StoreError> {
        match self.inner.client.get() {
            Some(c) => Ok(c),
            None => Box::pin(self.connect()).await,
        }
    }

    /// Connects (once; concurrent first calls share the attempt).
    async fn connect(&self) -> Result<&Client, StoreError> {
        self.inner
            .client
            .get_or_try_init(|| async {
                Client::connect(&self.inner.config.endpoints, None)
                    .await
                    .map_err(|e| {
                        etcd_error(format!(
                            "connect to {}: {e}",
                            self.inner.config.endpoints.join(",")
                        ))
                    })
            })
            .await
    }

    fn saw(&self, etcd_revision: i64) {
        self.inner
            .seen
            .fetch_max(to_store(etcd_revision), Ordering::Relaxed);
    }

    fn keys(&self) -> keys::Keys<'_> {
        keys::Keys {
            prefix: &self.inner.config.prefix,
        }
    }

    fn known(&self) -> MutexGuard<'_, KnownStates> {
        match self.inner.known.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Remembers (or, with `None`, forgets) the latest state of `key`. A key already known
    /// is replaced in place (no key allocation; a new one is moved in when the caller owns
    /// it); what is replaced is dropped after the lock is released: the state (it may be the
    /// last reference to an object) and, when the cache is full, the whole emptied cache
    /// (thousands of objects, which the other writers would otherwise wait on).
    fn remember(&self, key: impl AsRef<str> + Into<String>, state: Option<&State>) {
        let replaced: (Option<State>, Option<KnownStates>) = {
            let mut known = self.known();
            match state {
                Some(s) => match known.get_mut(key.as_ref()) {
                    Some(slot) => (Some(std::mem::replace(slot, s.clone())), None),
                    None => {
                        let full = (known.len() >= UPDATE_CACHE_ENTRIES)
                            .then(|| std::mem::take(&mut *known));
                        known.insert(key.into(), s.clone());
                        (None, full)
                    }
                },
                None => (known.remove(key.as_ref()), None),
            }
        };
        drop(replaced);
    }

    /// The last state of `key` this handle saw, if any (a guess, checked by the write).
    fn last_known(&self, key: &str) -> Option<State> {
        self.known().get(key).cloned()
    }

    /// The latest state of a key and its etcd `mod_revision`.
    async fn read(&self, key: &str) -> Result<Option<State>, StoreError> {
        let mut kv = self.kv().await?;
        let resp = kv.get(key, None).await.map_err(other)?;
        self.saw(header_revision(resp.header()));
        let state = match resp.kvs().first() {
            Some(kv) => Some((Arc::new(decode(kv)?), kv.mod_revision())),
            None => None,
        };
        self.remember(key, state.as_ref());
        Ok(state)
    }

    async fn create_inner(
        &self,
        resource: &ApiResource,
        mut obj: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let generated = obj.metadata.name.as_deref().unwrap_or("").is_empty();
        rules::prepare_create(resource, &mut obj, rules::now())?;
        let mut client = self.kv().await?;
        let mut attempts = 0;
        loop {
            let key = self.keys().object(
                resource,
                obj.metadata.namespace.as_deref(),
                obj.metadata.name.as_deref().unwrap_or(""),
            );
            let value = encode(&mut obj)?;
            let txn = Txn::new()
                .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key.as_str(), value, None)]);
            let resp = client.txn(txn).await.map_err(other)?;
            if resp.succeeded() {
                let rev = header_revision(resp.header());
                self.saw(rev);
                obj.metadata.resource_version = Some(to_store(rev).to_string());
                let obj = Arc::new(obj);
                self.remember(key, Some(&(obj.clone(), rev)));
                return Ok(obj);
            }
            attempts += 1;
            if !generated || attempts >= GENERATE_NAME_ATTEMPTS {
                return Err(StoreError::AlreadyExists {
                    resource: Box::new(resource.clone()),
                    name: obj.metadata.name.unwrap_or_default(),
                });
            }
            let prefix = obj.metadata.generate_name.clone().unwrap_or_default();
            obj.metadata.name = Some(names::generate_name(&prefix));
        }
    }

    /// Writes `change` if the key is still at `mod_revision`; `Err(Some(new current))` or
    /// `Err(None)` (gone) when it moved.
    async fn write_if_unchanged(
        &self,
        key: &str,
        mod_revision: i64,
        mut change: Box<plan::Change>,
    ) -> Result<Result<plan::Committed, Option<State>>, StoreError> {
        let op = if change.kind == ChangeKind::Deleted {
            TxnOp::delete(key, None)
        } else {
            TxnOp::put(key, encode(&mut change.object)?, None)
        };
        let txn = Txn::new()
            .when([Compare::mod_revision(key, CompareOp::Equal, mod_revision)])
            .and_then([op])
            .or_else([TxnOp::get(key, None)]);
        let mut kv = self.kv().await?;
        let resp = kv.txn(txn).await.map_err(other)?;
        let rev = header_revision(resp.header());
        self.saw(rev);
        if resp.succeeded() {
            let done = (*change).finish(to_store(rev));
            let state = (done.kind != ChangeKind::Deleted).then(|| (done.object.clone(), rev));
            self.remember(key, state.as_ref());
            return Ok(Ok(done));
        }
        let mut current = None;
        for r in resp.op_responses() {
            if let TxnOpResponse::Get(g) = r
                && let Some(kv) = g.kvs().first()
            {
                current = Some((Arc::new(decode(kv)?), kv.mod_revision()));
            }
        }
        self.remember(key, current.as_ref());
        Ok(Err(current))
    }

    async fn update_inner(
        &self,
        resource: &ApiResource,
        obj: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        let key = self
            .keys()
            .object(resource, obj.metadata.namespace.as_deref(), &name);
        // Plan against the last known state when there is one (no read round trip); the
        // transaction checks it is still current.
        let mut current = self.last_known(&key);
        let mut guessed = current.is_some();
        if !guessed {
            current = self.read(&key).await?;
        }
        if obj
            .metadata
            .resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty())
        {
            let at = Attempt {
                resource,
                key: &key,
                name: &name,
            };
            return self
                .update_at_version(at, obj, scope, current, guessed)
                .await;
        }
        for _ in 0..UPDATE_RETRIES {
            let Some((cur, mod_rev)) = current else {
                return Err(StoreError::not_found(resource, &name));
            };
            let change = match plan::update(resource, cur, obj.clone(), scope) {
                Ok(Planned::Write(change)) => change,
                Ok(Planned::Unchanged(o)) if !guessed => return Ok(o),
                Err(e) if !guessed => return Err(e),
                // A no-op or a rule failure against a possibly stale state: confirm it
                // against the real one (upstream's GuaranteedUpdate does the same).
                Ok(Planned::Unchanged(_)) | Err(_) => {
                    tracing::debug!(key, "update planned on a cached state: re-reading");
                    guessed = false;
                    current = self.read(&key).await?;
                    continue;
                }
            };
            match self.write_if_unchanged(&key, mod_rev, change).await? {
                Ok(done) => return Ok(done.object),
                Err(now) => {
                    tracing::debug!(key, "update lost a race or used a stale state: retrying");
                    guessed = false;
                    current = now;
                }
            }
        }
        Err(StoreError::conflict(
            resource,
            &name,
            super::CONFLICT_MODIFIED,
        ))
    }

    /// An update whose object carries a `resourceVersion` (the common case: a caller
    /// writing back what it read). Only the state at exactly that version can take it, so
    /// the caller's object is planned once, moved rather than copied for retries: every
    /// outcome [`update_inner`](Self::update_inner)'s retry loop could reach is answered
    /// directly, with the same result.
    ///
    /// - A (cached) state at another version: a guess is re-read once; the real state at
    ///   another version is Conflict, as `prepare_update` answers.
    /// - The write's transaction failed: the key moved off the caller's version (Conflict) or
    ///   is gone (NotFound), which is what a retry would answer.
    /// - A no-op or a rule failure against a cached state is confirmed with a read: the key
    ///   still at the same `mod_revision` holds the same value (etcd writes a key at most once
    ///   per revision), so the answer stands (a no-op returns the state read); a moved key is
    ///   Conflict, a gone one NotFound.
    async fn update_at_version(
        &self,
        at: Attempt<'_>,
        obj: DynamicObject,
        scope: WriteScope,
        mut current: Option<State>,
        mut guessed: bool,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let (cur, mod_rev) = loop {
            let Some((cur, mod_rev)) = current else {
                return Err(at.not_found());
            };
            match rules::check_update_version(at.resource, &cur, &obj) {
                Ok(()) => break (cur, mod_rev),
                Err(_) if guessed => {
                    tracing::debug!(key = at.key, "cached state at another version: re-reading");
                    guessed = false;
                    current = self.read(at.key).await?;
                }
                Err(e) => return Err(e),
            }
        };
        let answer = match plan::update(at.resource, cur, obj, scope) {
            Ok(Planned::Write(change)) => {
                return match self.write_if_unchanged(at.key, mod_rev, change).await? {
                    Ok(done) => Ok(done.object),
                    Err(now) => {
                        tracing::debug!(key = at.key, "update lost a race: the key moved");
                        Err(at.moved(now.is_some()))
                    }
                };
            }
            Ok(Planned::Unchanged(o)) => Ok(o),
            Err(e) => Err(e),
        };
        if !guessed {
            return answer;
        }
        // A no-op or a rule failure against a cached state: confirm it.
        tracing::debug!(key = at.key, "update planned on a cached state: re-reading");
        match self.read(at.key).await? {
            Some((now, rev)) if rev == mod_rev => answer.map(|_| now),
            now => Err(at.moved(now.is_some())),
        }
    }

    async fn delete_inner(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        let key = self.keys().object(resource, namespace, name);
        let mut current = self.read(&key).await?;
        for _ in 0..UPDATE_RETRIES {
            let Some((cur, mod_rev)) = current else {
                return Err(StoreError::not_found(resource, name));
            };
            match plan::delete(resource, cur, options, rules::now())? {
                Planned::Unchanged(o) => return Ok(DeleteOutcome::Finalizing(o)),
                Planned::Write(change) => {
                    match self.write_if_unchanged(&key, mod_rev, change).await? {
                        Ok(done) => return Ok(done.delete_outcome()),
                        Err(now) => current = now,
                    }
                }
            }
        }
        Err(StoreError::conflict(
            resource,
            name,
            super::CONFLICT_MODIFIED,
        ))
    }

    /// The current etcd revision.
    async fn etcd_revision(&self) -> Result<i64, StoreError> {
        let key = self.keys().root();
        let resp = self
            .kv()
            .await?
            .get(key, Some(GetOptions::new().with_count_only()))
            .await
            .map_err(other)?;
        let rev = header_revision(resp.header());
        self.saw(rev);
        Ok(rev)
    }

    /// The etcd compaction revision, learnt from a watch at revision 1 (only called once a
    /// read said "compacted").
    async fn compaction_revision(&self) -> Result<u64, StoreError> {
        let key = self.keys().root();
        let (_w, mut stream) = self
            .client()
            .await?
            .watch(
                key,
                Some(etcd_client::WatchOptions::new().with_start_revision(1)),
            )
            .await
            .map_err(other)?;
        let found = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(Some(resp)) = stream.message().await {
                if resp.compact_revision() > 0 {
                    return Some(resp.compact_revision());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let c = found.map_or(self.inner.compacted.load(Ordering::Acquire), to_store);
        self.inner.compacted.fetch_max(c, Ordering::AcqRel);
        Ok(c)
    }

    async fn list_inner(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError> {
        let ListRead {
            selection,
            at,
            limit,
        } = ListRead::parse(resource, options)?;
        // The store revision to read at (None = latest), what a compacted revision means,
        // and a not-older-than bound to check.
        let (at, expired_message, not_older_than, token) = match at {
            ReadAt::Latest => (None, "", None, None),
            ReadAt::NotOlderThan(r) => (None, "", Some(r), None),
            ReadAt::Exact(r) => (Some(r), LIST_TOO_OLD, None, None),
            ReadAt::Continue(t) => (Some(t.revision), CONTINUE_EXPIRED, None, Some(t)),
        };
        let keys = self.keys();
        let range_prefix = keys.range(resource, selection.namespace());
        let end = prefix_end(&range_prefix);
        let mut start = match &token {
            Some(t) => {
                let mut k = keys.object(resource, t.namespace.as_deref(), &t.name);
                k.push('\0');
                k.max(range_prefix.clone())
            }
            None => range_prefix.clone(),
        };
        let mut pinned = at.map_or(0, to_etcd);
        let mut items = Vec::new();
        let mut has_more = false;
        // Keys in the range from the page's start at the read revision (etcd counts past the
        // limit): upstream's remainingItemCount is this minus the page.
        let mut in_range: Option<i64> = None;
        let mut client = self.kv().await?;
        loop {
            let mut get = GetOptions::new()
                .with_range(end.clone())
                .with_revision(pinned);
            if let Some(l) = limit {
                let want = (l + 1).saturating_sub(items.len()).max(1);
                let want = if selection.has_selectors() {
                    want.max(256)
                } else {
                    want
                };
                get = get.with_limit(i64::try_from(want).unwrap_or(i64::MAX));
            }
            let resp = match client.get(start.as_str(), Some(get)).await {
                Ok(r) => r,
                Err(e) => {
                    return Err(match classify(e) {
                        EtcdFailure::Compacted => StoreError::Expired {
                            message: expired_message.to_owned(),
                        },
                        EtcdFailure::Future => StoreError::TooLargeResourceVersion {
                            requested: at.unwrap_or(0),
                            current: to_store(self.etcd_revision().await?),
                        },
                        EtcdFailure::Other(e) => e,
                    });
                }
            };
            if pinned == 0 {
                pinned = header_revision(resp.header());
                self.saw(pinned);
            }
            in_range.get_or_insert(resp.count());
            let kvs = resp.kvs();
            for kv in kvs {
                let obj = decode(kv)?;
                if !selection.matches(resource, &obj) {
                    continue;
                }
                if limit.is_some_and(|l| items.len() >= l) {
                    has_more = true;
                    break;
                }
                items.push(Arc::new(obj));
            }
            match kvs.last() {
                Some(last) if resp.more() && !has_more => {
                    start = String::from_utf8_lossy(last.key()).into_owned();
                    start.push('\0');
                }
                _ => break,
            }
        }
        let revision = to_store(pinned);
        check_not_older_than(not_older_than, revision)?;
        let continue_token = match (has_more, items.last()) {
            (true, Some(last)) => Some(
                ContinueToken {
                    revision,
                    namespace: plan::storage_namespace(
                        resource,
                        last.metadata.namespace.as_deref(),
                    )
                    .map(str::to_owned),
                    name: last.metadata.name.clone().unwrap_or_default(),
                }
                .encode(),
            ),
            _ => None,
        };
        let remaining_item_count = match (&continue_token, in_range) {
            (Some(_), Some(count)) if !selection.has_selectors() => u64::try_from(count)
                .ok()
                .map(|c| c.saturating_sub(items.len() as u64)),
            _ => None,
        };
        Ok(ObjectPage {
            items,
            resource_version: revision,
            continue_token,
            remaining_item_count,
        })
    }

    async fn compact_inner(&self, revision: u64) -> Result<u64, StoreError> {
        let current = to_store(self.etcd_revision().await?);
        let target = revision.min(current);
        let known = self.inner.compacted.load(Ordering::Acquire);
        if target <= known || target == 0 {
            return Ok(known);
        }
        let r = self
            .client()
            .await?
            .compact(
                to_etcd(target),
                Some(CompactionOptions::new().with_physical()),
            )
            .await;
        match r {
            Ok(_) => {
                self.inner.compacted.fetch_max(target, Ordering::AcqRel);
                Ok(self.inner.compacted.load(Ordering::Acquire))
            }
            Err(e) => match classify(e) {
                EtcdFailure::Compacted => self.compaction_revision().await,
                EtcdFailure::Future => Err(etcd_error("compaction revision is in the future")),
                EtcdFailure::Other(e) => Err(e),
            },
        }
    }
}

#[async_trait]
impl Store for EtcdStore {
    async fn create(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let r = self.create_inner(resource, object).await;
        self.inner.metrics.finish(Operation::Create, start, r)
    }

    async fn get(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let key = self.keys().object(resource, namespace, name);
        let r = match self.read(&key).await {
            Ok(Some((o, _))) => Ok(o),
            Ok(None) => Err(StoreError::not_found(resource, name)),
            Err(e) => Err(e),
        };
        self.inner.metrics.finish(Operation::Get, start, r)
    }

    async fn list(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError> {
        let start = Instant::now();
        let r = self.list_inner(resource, options).await;
        self.inner.metrics.finish(Operation::List, start, r)
    }

    async fn update(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let op = match scope {
            WriteScope::Status => Operation::UpdateStatus,
            _ => Operation::Update,
        };
        let r = self.update_inner(resource, object, scope).await;
        self.inner.metrics.finish(op, start, r)
    }

    async fn patch(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        options: &PatchOptions,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let start = Instant::now();
        let r = rules::patch_with_retries(self, resource, namespace, name, patch, options).await;
        self.inner.metrics.finish(Operation::Patch, start, r)
    }

    async fn delete(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        let start = Instant::now();
        let r = self.delete_inner(resource, namespace, name, options).await;
        self.inner.metrics.finish(Operation::Delete, start, r)
    }

    async fn watch(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError> {
        let start = Instant::now();
        let r = self.watch_inner(resource, options).await;
        self.inner.metrics.finish(Operation::Watch, start, r)
    }

    async fn current_revision(&self) -> Result<u64, StoreError> {
        Ok(to_store(self.etcd_revision().await?))
    }

    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        let start = Instant::now();
        let r = self.compact_inner(revision).await;
        self.inner.metrics.finish(Operation::Compact, start, r)
    }

    fn metrics(&self) -> StoreMetrics {
        let mut m = self.inner.metrics.snapshot();
        m.revision = self.inner.seen.load(Ordering::Relaxed);
        m.watchers = self.inner.watchers.load(Ordering::Relaxed);
        m
    }
}
