//! `DurableStore`: the embedded store that survives `kill -9` and power loss — a [`redb`]
//! database in one directory for the objects and the revision counter, with a
//! [`MemoryStore`] as its read, list and watch index.
//!
//! # Write path (group commit)
//! Writers hand their request to one committer thread and wait. The committer takes every
//! request waiting (up to [`MAX_BATCH`]), decides each one in order against the latest state
//! plus the batch's earlier writes (the shared [`rules`] through
//! [`plan`]), writes the whole batch in ONE redb transaction with
//! `Durability::Immediate` (one fsync), then applies it to the index, wakes watchers and
//! answers every writer. So a write is acknowledged only once it is on disk, 64 concurrent
//! writers share one fsync, and nothing a reader or watcher sees was ever undurable.
//!
//! Answers that depend on other writes of the same batch (a Conflict, an AlreadyExists) are
//! also only sent after the batch is durable. When the commit fails, every request of the
//! batch gets an Internal error, nothing of it is applied, and the store refuses further
//! writes (reopen it): after a failed fsync the file's state is unknown.
//!
//! # On disk
//! `<dir>/kybern.redb`, two tables:
//! - `objects`: key `<group>/<resource>/<namespace>/<name>` (namespace empty for cluster-scoped
//!   kinds), value the object as JSON, `resourceVersion` included;
//! - `meta`: `revision` → the store's revision (written in the same transaction as the objects,
//!   so the counter survives deletions and never goes backwards).
//!
//! Only the latest state of each object is persisted. Watch history and older versions live in
//! memory.
//!
//! # Restart
//! [`DurableStore::open`] loads every object and the revision counter into a fresh index whose
//! history starts at the restart revision: a watch or exact list from an older revision gets
//! Expired (410, `too old resource version: R (restart revision)`) and the client relists, as
//! after an etcd compaction. Watches and lists from the restart revision on work as usual.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use async_trait::async_trait;
use kybern_core::{ApiResource, DynamicObject};
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};
use tokio::sync::oneshot;

use super::metrics::Operation;
use super::plan::{self, ChangeKind, Committed, Planned};
use super::{
    DeleteOptions, DeleteOutcome, ListOptions, MemoryStore, MemoryStoreConfig, ObjectPage, Patch,
    PatchOptions, Store, StoreError, StoreMetrics, WatchOptions, WatchStream, WriteScope, names,
    rules,
};

/// Most requests one commit (one fsync) takes.
pub const MAX_BATCH: usize = 1024;

/// The database file inside the store's directory.
pub const DB_FILE: &str = "kybern.redb";

const OBJECTS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("objects");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const REVISION_KEY: &str = "revision";

/// How many times `create` draws a new `generateName` suffix after a name clash.
const GENERATE_NAME_ATTEMPTS: usize = 8;

/// Settings of a [`DurableStore`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DurableStoreConfig {
    /// The in-memory index's settings (watch history retention, bookmark interval).
    pub index: MemoryStoreConfig,
}

/// The durable embedded [`Store`]. Cheap to clone (a handle to shared state); the committer
/// thread stops when the last handle is dropped.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use kybern_core::api::core::v1::ConfigMap;
/// use kybern_core::Resource;
/// use kybern_reconciler::store::{DurableStore, Store};
///
/// let dir = std::env::temp_dir().join(format!("kybern-doc-{}", std::process::id()));
/// let cm = ConfigMap::api_resource(&());
/// {
///     let store = DurableStore::open(&dir).unwrap();
///     let mut obj = kybern_core::DynamicObject::new("settings", &cm);
///     obj.metadata.namespace = Some("default".into());
///     store.create(&cm, obj).await.unwrap();
/// }
/// let reopened = DurableStore::open(&dir).unwrap();
/// let got = reopened.get(&cm, Some("default"), "settings").await.unwrap();
/// assert_eq!(got.metadata.resource_version.as_deref(), Some("1"));
/// # drop(reopened); std::fs::remove_dir_all(&dir).unwrap();
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct DurableStore {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    index: MemoryStore,
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    failed: Arc<AtomicBool>,
    dir: PathBuf,
    committer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Closing the channel stops the committer; wait so the file lock is released.
        if let Ok(mut r) = self.requests.lock() {
            r.take();
        }
        if let Ok(mut c) = self.committer.lock()
            && let Some(handle) = c.take()
        {
            let _ = handle.join();
        }
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Create {
        resource: ApiResource,
        object: DynamicObject,
        reply: Reply<Arc<DynamicObject>>,
    },
    Update {
        resource: ApiResource,
        object: DynamicObject,
        scope: WriteScope,
        reply: Reply<Arc<DynamicObject>>,
    },
    Delete {
        resource: ApiResource,
        namespace: Option<String>,
        name: String,
        options: DeleteOptions,
        reply: Reply<DeleteOutcome<Arc<DynamicObject>>>,
    },
}

fn internal(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal {
        message: format!("durable store: {what}: {e}"),
    }
}

/// `<group>/<resource>/<namespace>/<name>`.
fn storage_key(group: &str, plural: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{group}/{plural}/{}/{name}", namespace.unwrap_or(""))
}

fn object_storage_key(resource: &ApiResource, obj: &DynamicObject) -> String {
    storage_key(
        &resource.gvk.group,
        &resource.plural,
        plan::storage_namespace(resource, obj.metadata.namespace.as_deref()),
        obj.metadata.name.as_deref().unwrap_or(""),
    )
}

impl DurableStore {
    /// Opens (or creates) the store in `dir` with the default configuration.
    ///
    /// # Errors
    /// Internal when the directory or database cannot be created or opened (e.g. another
    /// process has it open), or a stored object does not decode.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(dir, DurableStoreConfig::default())
    }

    /// Opens (or creates) the store in `dir`.
    ///
    /// # Errors
    /// As [`DurableStore::open`].
    pub fn open_with(
        dir: impl AsRef<Path>,
        config: DurableStoreConfig,
    ) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| internal(&format!("create {}", dir.display()), e))?;
        let path = dir.join(DB_FILE);
        let db = Database::create(&path)
            .map_err(|e| internal(&format!("open {}", path.display()), e))?;
        let (objects, revision) = load(&db)?;
        let index = MemoryStore::restored(config.index, objects, revision);
        let (tx, rx) = mpsc::channel();
        let failed = Arc::new(AtomicBool::new(false));
        let committer = Committer {
            db,
            index: index.clone(),
            failed: failed.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("kybern-durable-commit".into())
            .spawn(move || committer.run(rx))
            .map_err(|e| internal("start the committer thread", e))?;
        tracing::debug!(dir = %dir.display(), revision, "durable store opened");
        Ok(DurableStore {
            inner: Arc::new(Shared {
                index,
                requests: Mutex::new(Some(tx)),
                failed,
                dir,
                committer: Mutex::new(Some(handle)),
            }),
        })
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    async fn submit<T>(
        &self,
        op: Operation,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> Result<T, StoreError> {
        let start = Instant::now();
        let r = self.submit_inner(make).await;
        self.inner.index.metrics_recorder().finish(op, start, r)
    }

    async fn submit_inner<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> Result<T, StoreError> {
        if self.inner.failed.load(Ordering::Acquire) {
            return Err(failed_error());
        }
        let (tx, rx) = oneshot::channel();
        {
            let guard = self
                .inner
                .requests
                .lock()
                .map_err(|_| internal("submit", "request channel poisoned"))?;
            let sender = guard.as_ref().ok_or_else(failed_error)?;
            sender.send(make(tx)).map_err(|_| failed_error())?;
        }
        rx.await.map_err(|_| failed_error())?
    }
}

fn failed_error() -> StoreError {
    internal(
        "unavailable",
        "a commit failed or the committer stopped; reopen the store",
    )
}

/// Reads every object and the revision.
type Loaded = (Vec<(String, String, Arc<DynamicObject>)>, u64);

fn load(db: &Database) -> Result<Loaded, StoreError> {
    // Make sure both tables exist, so a read transaction can open them.
    let w = db.begin_write().map_err(|e| internal("init", e))?;
    w.open_table(OBJECTS).map_err(|e| internal("init", e))?;
    w.open_table(META).map_err(|e| internal("init", e))?;
    w.commit().map_err(|e| internal("init", e))?;
    let r = db.begin_read().map_err(|e| internal("load", e))?;
    let meta = r.open_table(META).map_err(|e| internal("load", e))?;
    let revision = meta
        .get(REVISION_KEY)
        .map_err(|e| internal("load", e))?
        .map_or(0, |v| v.value());
    let table = r.open_table(OBJECTS).map_err(|e| internal("load", e))?;
    let mut out = Vec::new();
    for entry in table.iter().map_err(|e| internal("load", e))? {
        let (k, v) = entry.map_err(|e| internal("load", e))?;
        let key = k.value();
        let mut parts = key.splitn(4, '/');
        let (Some(group), Some(plural)) = (parts.next(), parts.next()) else {
            return Err(internal("load", format!("malformed key {key:?}")));
        };
        let obj: DynamicObject = serde_json::from_slice(v.value())
            .map_err(|e| internal(&format!("decode {key:?}"), e))?;
        out.push((group.to_owned(), plural.to_owned(), Arc::new(obj)));
    }
    Ok((out, revision))
}

/// The committer thread's state.
struct Committer {
    db: Database,
    index: MemoryStore,
    failed: Arc<AtomicBool>,
}

/// A decided request, waiting for its batch to be durable.
enum Answer {
    Object(
        Reply<Arc<DynamicObject>>,
        Result<Arc<DynamicObject>, StoreError>,
    ),
    Delete(
        Reply<DeleteOutcome<Arc<DynamicObject>>>,
        Result<DeleteOutcome<Arc<DynamicObject>>, StoreError>,
    ),
}

impl Answer {
    fn send(self, fail: Option<&StoreError>) {
        match self {
            Answer::Object(tx, r) => {
                let _ = tx.send(match fail {
                    Some(e) => Err(e.clone()),
                    None => r,
                });
            }
            Answer::Delete(tx, r) => {
                let _ = tx.send(match fail {
                    Some(e) => Err(e.clone()),
                    None => r,
                });
            }
        }
    }
}

/// The batch being decided: the latest state it wrote per key over the index.
struct Batch<'a> {
    index: &'a MemoryStore,
    overlay: HashMap<String, Option<Arc<DynamicObject>>>,
    revision: u64,
    changes: Vec<(ApiResource, Committed)>,
}

impl Batch<'_> {
    fn latest(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Arc<DynamicObject>> {
        let ns = plan::storage_namespace(resource, namespace);
        let key = storage_key(&resource.gvk.group, &resource.plural, ns, name);
        match self.overlay.get(&key) {
            Some(o) => o.clone(),
            None => self.index.latest(resource, ns, name),
        }
    }

    fn push(&mut self, resource: &ApiResource, change: plan::Change) -> Committed {
        self.revision += 1;
        let c = change.finish(self.revision);
        let stored = (c.kind != ChangeKind::Deleted).then(|| c.object.clone());
        self.overlay
            .insert(object_storage_key(resource, &c.object), stored);
        self.changes.push((resource.clone(), c.clone()));
        c
    }

    fn create(
        &mut self,
        resource: &ApiResource,
        mut obj: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let generated = obj.metadata.name.as_deref().unwrap_or("").is_empty();
        rules::prepare_create(resource, &mut obj, rules::now())?;
        let mut attempts = 0;
        loop {
            let name = obj.metadata.name.as_deref().unwrap_or("");
            if self
                .latest(resource, obj.metadata.namespace.as_deref(), name)
                .is_none()
            {
                break;
            }
            attempts += 1;
            if !generated || attempts >= GENERATE_NAME_ATTEMPTS {
                return Err(StoreError::AlreadyExists {
                    resource: Box::new(resource.clone()),
                    name: name.to_owned(),
                });
            }
            let prefix = obj.metadata.generate_name.clone().unwrap_or_default();
            obj.metadata.name = Some(names::generate_name(&prefix));
        }
        let change = plan::Change {
            kind: ChangeKind::Added,
            object: obj,
            prev: None,
        };
        Ok(self.push(resource, change).object)
    }

    fn update(
        &mut self,
        resource: &ApiResource,
        obj: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        let current = self
            .latest(resource, obj.metadata.namespace.as_deref(), &name)
            .ok_or_else(|| StoreError::not_found(resource, &name))?;
        match plan::update(resource, current, obj, scope)? {
            Planned::Unchanged(o) => Ok(o),
            Planned::Write(change) => Ok(self.push(resource, *change).object),
        }
    }

    fn delete(
        &mut self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        let current = self
            .latest(resource, namespace, name)
            .ok_or_else(|| StoreError::not_found(resource, name))?;
        match plan::delete(resource, current, options, rules::now())? {
            Planned::Unchanged(o) => Ok(DeleteOutcome::Finalizing(o)),
            Planned::Write(change) => Ok(self.push(resource, *change).delete_outcome()),
        }
    }
}

impl Committer {
    fn run(self, rx: mpsc::Receiver<Request>) {
        while let Ok(first) = rx.recv() {
            let mut requests = vec![first];
            while requests.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(r) => requests.push(r),
                    Err(_) => break,
                }
            }
            self.commit_batch(requests);
        }
    }

    fn commit_batch(&self, requests: Vec<Request>) {
        if self.failed.load(Ordering::Acquire) {
            let e = failed_error();
            for r in requests {
                answer_error(r, &e);
            }
            return;
        }
        let mut batch = Batch {
            index: &self.index,
            overlay: HashMap::new(),
            revision: self.index.revision(),
            changes: Vec::new(),
        };
        let mut answers = Vec::with_capacity(requests.len());
        for r in requests {
            answers.push(match r {
                Request::Create {
                    resource,
                    object,
                    reply,
                } => Answer::Object(reply, batch.create(&resource, object)),
                Request::Update {
                    resource,
                    object,
                    scope,
                    reply,
                } => Answer::Object(reply, batch.update(&resource, object, scope)),
                Request::Delete {
                    resource,
                    namespace,
                    name,
                    options,
                    reply,
                } => Answer::Delete(
                    reply,
                    batch.delete(&resource, namespace.as_deref(), &name, &options),
                ),
            });
        }
        let fail = if batch.changes.is_empty() {
            None
        } else {
            match self.persist(&batch.changes, batch.revision) {
                Ok(()) => {
                    self.index.apply_committed(&batch.changes);
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "durable store commit failed; refusing further writes");
                    self.failed.store(true, Ordering::Release);
                    Some(e)
                }
            }
        };
        for a in answers {
            a.send(fail.as_ref());
        }
    }

    /// Writes the batch and the revision in one transaction and fsyncs it.
    fn persist(
        &self,
        changes: &[(ApiResource, Committed)],
        revision: u64,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(|e| internal("commit", e))?;
        {
            let mut objects = txn.open_table(OBJECTS).map_err(|e| internal("commit", e))?;
            let mut buf = Vec::new();
            for (resource, c) in changes {
                let key = object_storage_key(resource, &c.object);
                if c.kind == ChangeKind::Deleted {
                    objects
                        .remove(key.as_str())
                        .map_err(|e| internal("commit", e))?;
                } else {
                    buf.clear();
                    serde_json::to_writer(&mut buf, &*c.object)
                        .map_err(|e| internal("encode", e))?;
                    objects
                        .insert(key.as_str(), buf.as_slice())
                        .map_err(|e| internal("commit", e))?;
                }
            }
            let mut meta = txn.open_table(META).map_err(|e| internal("commit", e))?;
            meta.insert(REVISION_KEY, revision)
                .map_err(|e| internal("commit", e))?;
        }
        // The default durability is Immediate: the commit returns once fsynced.
        txn.commit().map_err(|e| internal("commit", e))
    }
}

fn answer_error(r: Request, e: &StoreError) {
    match r {
        Request::Create { reply, .. } | Request::Update { reply, .. } => {
            let _ = reply.send(Err(e.clone()));
        }
        Request::Delete { reply, .. } => {
            let _ = reply.send(Err(e.clone()));
        }
    }
}

#[async_trait]
impl Store for DurableStore {
    async fn create(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.submit(Operation::Create, |reply| Request::Create {
            resource: resource.clone(),
            object,
            reply,
        })
        .await
    }

    async fn get(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.inner.index.get(resource, namespace, name).await
    }

    async fn list(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError> {
        self.inner.index.list(resource, options).await
    }

    async fn update(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        let op = match scope {
            WriteScope::Status => Operation::UpdateStatus,
            _ => Operation::Update,
        };
        self.submit(op, |reply| Request::Update {
            resource: resource.clone(),
            object,
            scope,
            reply,
        })
        .await
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
        self.inner
            .index
            .metrics_recorder()
            .finish(Operation::Patch, start, r)
    }

    async fn delete(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        self.submit(Operation::Delete, |reply| Request::Delete {
            resource: resource.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            options: options.clone(),
            reply,
        })
        .await
    }

    async fn watch(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError> {
        self.inner.index.watch(resource, options).await
    }

    /// The index's native batches (see [`MemoryStore`]'s).
    async fn watch_batches(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<super::WatchBatchStream, StoreError> {
        self.inner.index.watch_batches(resource, options).await
    }

    async fn current_revision(&self) -> Result<u64, StoreError> {
        self.inner.index.current_revision().await
    }

    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        self.inner.index.compact(revision).await
    }

    fn metrics(&self) -> StoreMetrics {
        self.inner.index.metrics()
    }
}
