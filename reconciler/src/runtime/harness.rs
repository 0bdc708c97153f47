//! An in-process control plane for tests (feature `testing`): a [`MemoryStore`], shared
//! informers, a metrics registry and a virtual clock, plus helpers to apply manifests, wait for
//! conditions on the caches, advance time, and a fake kubelet that marks pods Ready.
//!
//! Run tests on paused time — `#[tokio::test(start_paused = true)]` — so waits and delays
//! cost nothing: tokio jumps the clock forward whenever every task is idle.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! use std::time::Duration;
//! use kybern_core::api::core::v1::ConfigMap;
//! use kybern_reconciler::runtime::harness::Harness;
//!
//! let h = Harness::new();
//! h.apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: blue}\n")
//!     .await
//!     .unwrap();
//! h.wait_for::<ConfigMap>("the settings ConfigMap is cached", Duration::from_secs(5), |cms| {
//!     cms.get_named(Some("default"), "settings").is_some()
//! })
//! .await
//! .unwrap();
//! h.shutdown().await;
//! # }
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kybern_core::api::core::v1::{Pod, PodCondition, PodStatus};
use kybern_core::load::{LoadOptions, load_objects};
use kybern_core::registry::{Decoded, Registry};
use kybern_core::{DynamicObject, Resource, Time};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Object;
use super::clock::{SharedClock, TokioClock};
use super::controller::{Action, Controller};
use super::informer::SharedInformers;
use super::metrics::MetricsRegistry;
use super::reflector::Reader;
use super::shutdown::Shutdown;
use super::watcher;
use crate::api::Api;
use crate::store::{MemoryStore, Store, StoreError};

/// Why a harness step failed; displays a message meant to be read in a failed test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The manifest did not load.
    #[error("harness: manifest did not load: {0}")]
    Load(#[from] kybern_core::load::LoadError),
    /// A document's kind is not registered.
    #[error(
        "harness: {source_name}: kind {gvk} is not registered (register it with Harness::registry_mut)"
    )]
    UnknownKind {
        /// Where.
        source_name: String,
        /// apiVersion/kind.
        gvk: String,
    },
    /// A typed kind failed to decode.
    #[error("harness: {0}")]
    Decode(#[from] kybern_core::decode::DecodeError),
    /// A typed kind failed validation.
    #[error("harness: {name} is invalid: {errors}")]
    Invalid {
        /// The object.
        name: String,
        /// Upstream's messages.
        errors: String,
    },
    /// A store operation failed.
    #[error("harness: {0}")]
    Store(#[from] StoreError),
    /// A wait timed out.
    #[error("harness: timed out after {timeout:?} waiting for: {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
}

/// An in-process control plane on virtual time.
#[derive(Debug)]
pub struct Harness {
    memory: MemoryStore,
    faults: FaultyStore,
    store: Arc<dyn Store>,
    informers: SharedInformers,
    registry: Registry,
    metrics: MetricsRegistry,
    clock: SharedClock,
    shutdown: Shutdown,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh control plane: empty store, no controllers. Needs a tokio runtime.
    pub fn new() -> Self {
        let memory = MemoryStore::new();
        let faults = FaultyStore::new(Arc::new(memory.clone()));
        let store: Arc<dyn Store> = Arc::new(faults.clone());
        let start =
            jiff::Timestamp::from_second(1_750_000_000).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Harness {
            memory,
            faults,
            store,
            informers: SharedInformers::new(),
            registry: Registry::builtin(),
            metrics: MetricsRegistry::new(),
            clock: Arc::new(TokioClock::starting_at(start)),
            shutdown: Shutdown::new(),
            tasks: Mutex::new(Vec::new()),
        }
    }

    /// The store, as the seam.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The store, as a `MemoryStore` (for compaction and other test levers).
    pub fn memory_store(&self) -> &MemoryStore {
        &self.memory
    }

    /// The fault injector in front of the store (every harness store call goes through it).
    pub fn faults(&self) -> &FaultyStore {
        &self.faults
    }

    /// The shared informers every harness helper and controller should use.
    pub fn informers(&self) -> &SharedInformers {
        &self.informers
    }

    /// The kind registry used to decode manifests.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The kind registry, to register custom kinds before applying their manifests.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The metrics registry controllers started through the harness export to.
    pub fn metrics(&self) -> &MetricsRegistry {
        &self.metrics
    }

    /// The virtual clock (wall timestamps follow tokio time).
    pub fn clock(&self) -> SharedClock {
        Arc::clone(&self.clock)
    }

    /// The signal fired by [`Harness::shutdown`]; pass it to controllers'
    /// `graceful_shutdown_on`.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// `Api<K>` over every namespace.
    pub fn api<K: Object + Resource<DynamicType = ()>>(&self) -> Api<K> {
        Api::all(self.store())
    }

    /// `Api<K>` in `namespace`.
    pub fn api_in<K: Object + Resource<DynamicType = ()>>(&self, namespace: &str) -> Api<K> {
        Api::namespaced(self.store(), namespace)
    }

    /// A controller for `K` (all namespaces) wired to the harness's informers, metrics and
    /// shutdown signal.
    pub fn controller<K: Object + Resource<DynamicType = ()>>(&self) -> Controller<K> {
        Controller::new(self.api::<K>(), watcher::Config::default())
            .shared_informers(&self.informers)
            .metrics(&self.metrics)
            .graceful_shutdown_on(self.shutdown.clone())
    }

    /// The cache of every `K` (shared with controllers using the default watcher config).
    pub fn reader<K: Object + Resource<DynamicType = ()>>(&self) -> Reader<K> {
        self.informers
            .informer(&self.api::<K>(), &watcher::Config::default())
            .reader()
    }

    /// Runs `fut` in the background until [`Harness::shutdown`].
    pub fn spawn(&self, fut: impl Future<Output = ()> + Send + 'static) {
        let stop = self.shutdown.clone();
        let handle = tokio::spawn(async move {
            tokio::select! {
                () = fut => {}
                () = stop.wait() => {}
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(handle);
    }

    /// Applies every object of a YAML/JSON manifest: decoded and checked through the
    /// registry (typed kinds are defaulted and validated), created, or replaced when they
    /// exist. Namespaced objects without a namespace go to `default`.
    ///
    /// # Errors
    /// Load, unknown-kind, decode, validation and store errors, naming the object.
    pub async fn apply_yaml(&self, yaml: &str) -> Result<Vec<Arc<DynamicObject>>, HarnessError> {
        let loaded = load_objects("manifest", yaml, &LoadOptions::default())?;
        let mut out = Vec::with_capacity(loaded.len());
        for item in loaded {
            out.push(self.apply_object(item.object).await?);
        }
        Ok(out)
    }

    /// Applies one object (see [`Harness::apply_yaml`]).
    ///
    /// # Errors
    /// As [`Harness::apply_yaml`].
    pub async fn apply_object(
        &self,
        obj: DynamicObject,
    ) -> Result<Arc<DynamicObject>, HarnessError> {
        let gvk = obj.gvk().map(|g| g.to_string()).unwrap_or_default();
        let name = obj.metadata.name.clone().unwrap_or_default();
        let resource = obj
            .gvk()
            .and_then(|g| self.registry.resource_for_kind(&g).cloned())
            .ok_or_else(|| HarnessError::UnknownKind {
                source_name: name.clone(),
                gvk: gvk.clone(),
            })?;
        let mut obj = obj;
        if resource.is_namespaced() && obj.metadata.namespace.is_none() {
            obj.metadata.namespace = Some("default".into());
        }
        let mut obj = match self.registry.decode(obj)? {
            Decoded::Typed { mut object, .. } => {
                object.set_defaults();
                let errors = object.validate();
                if !errors.is_empty() {
                    return Err(HarnessError::Invalid {
                        name: format!("{gvk} {name:?}"),
                        errors: errors.to_string(),
                    });
                }
                let value = object.to_json().map_err(|e| StoreError::Serialization {
                    kind: gvk.clone(),
                    message: e.to_string(),
                })?;
                DynamicObject::from_value(value).map_err(|e| StoreError::Serialization {
                    kind: gvk.clone(),
                    message: e.to_string(),
                })?
            }
            Decoded::Dynamic(o, _) | Decoded::Removed(o, _) | Decoded::Unknown(o) => o,
        };
        if resource.is_namespaced() && obj.metadata.namespace.is_none() {
            obj.metadata.namespace = Some("default".into());
        }
        match self.store.create(&resource, obj.clone()).await {
            Ok(created) => Ok(created),
            Err(StoreError::AlreadyExists { .. }) => {
                let current = self
                    .store
                    .get(&resource, obj.metadata.namespace.as_deref(), &name)
                    .await?;
                obj.metadata.resource_version = current.metadata.resource_version.clone();
                obj.metadata.uid = current.metadata.uid.clone();
                Ok(self
                    .store
                    .update(&resource, obj, crate::store::WriteScope::Main)
                    .await?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Polls `condition` on the cache of `K` every 10 ms of virtual time until it holds.
    ///
    /// # Errors
    /// [`HarnessError::Timeout`] naming `what` when `timeout` passes first.
    pub async fn wait_for<K: Object + Resource<DynamicType = ()>>(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl Fn(&Reader<K>) -> bool,
    ) -> Result<(), HarnessError> {
        let reader = self.reader::<K>();
        self.wait_until(what, timeout, || condition(&reader)).await
    }

    /// Polls `condition` every 10 ms of virtual time until it holds.
    ///
    /// # Errors
    /// [`HarnessError::Timeout`] naming `what` when `timeout` passes first.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl Fn() -> bool,
    ) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if condition() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: what.to_owned(),
                    timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Moves virtual time forward by `d` (requires paused time), letting tasks run.
    pub async fn advance(&self, d: Duration) {
        tokio::time::advance(d).await;
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    /// Starts a fake kubelet: every pod that is not being deleted becomes `Running` with a
    /// `Ready` condition `ready_after` after it is first seen.
    pub fn start_fake_kubelet(&self, ready_after: Duration) {
        let ctx = Arc::new(FakeKubelet {
            api: self.api::<Pod>(),
            first_seen: Mutex::new(HashMap::new()),
            ready_after,
            clock: self.clock(),
        });
        let controller = self.controller::<Pod>().name("fake-kubelet").concurrency(8);
        self.spawn(async move {
            controller
                .run(
                    FakeKubelet::reconcile,
                    |_, _, _| Action::requeue_with_backoff(),
                    ctx,
                )
                .await;
        });
    }

    /// Fires the shutdown signal, waits for background tasks, stops informers.
    pub async fn shutdown(&self) {
        self.shutdown.trigger();
        let tasks: Vec<_> = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for t in tasks {
            let _ = t.await;
        }
        self.informers.stop_all();
    }
}

/// Marks pods Running and Ready (there is no real kubelet yet).
#[derive(Debug)]
struct FakeKubelet {
    api: Api<Pod>,
    first_seen: Mutex<HashMap<String, Instant>>,
    ready_after: Duration,
    clock: SharedClock,
}

impl FakeKubelet {
    async fn reconcile(pod: Arc<Pod>, ctx: Arc<FakeKubelet>) -> Result<Action, StoreError> {
        if pod.meta().is_being_deleted() {
            return Ok(Action::await_change());
        }
        let ready = pod.status.as_ref().is_some_and(|s| {
            s.phase.as_deref() == Some("Running")
                && s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status == "True")
        });
        if ready {
            return Ok(Action::await_change());
        }
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let seen = *ctx
            .first_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(uid)
            .or_insert_with(Instant::now);
        let due = seen + ctx.ready_after;
        let now = Instant::now();
        if due > now {
            return Ok(Action::requeue(due - now));
        }
        let t = Time(ctx.clock.wall());
        let cond = |type_: &str| PodCondition {
            type_: type_.to_owned(),
            status: "True".to_owned(),
            last_transition_time: Some(t),
            ..PodCondition::default()
        };
        let mut updated = (*pod).clone();
        updated.status = Some(PodStatus {
            phase: Some("Running".to_owned()),
            conditions: vec![
                cond("Initialized"),
                cond("PodScheduled"),
                cond("ContainersReady"),
                cond("Ready"),
            ],
            start_time: Some(t),
            ..PodStatus::default()
        });
        match ctx.api.update_status(&updated).await {
            Ok(_) => Ok(Action::await_change()),
            Err(e) if e.is_not_found() => Ok(Action::await_change()),
            Err(e) => Err(e),
        }
    }
}

/// A store operation class, for [`FaultyStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `get`.
    Get,
    /// `list`.
    List,
    /// `watch`.
    Watch,
    /// `create`, `update`, `patch`, `delete`.
    Write,
}

#[derive(Debug, Default)]
struct Faults {
    /// (operation, plural) → remaining failures (`u64::MAX`: until cleared).
    rules: HashMap<(Operation, String), u64>,
}

/// A [`Store`] wrapper that fails chosen operations on chosen kinds with a 500 error: the
/// lever for fault tests (a lease that cannot be renewed, a list that keeps failing).
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Arc<Mutex<Faults>>,
}

impl FaultyStore {
    /// Wraps `inner`; no faults yet.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        FaultyStore {
            inner,
            faults: Arc::default(),
        }
    }

    /// Fails the next `n` `op`s on resource `plural`.
    pub fn fail_next(&self, op: Operation, plural: &str, n: u64) {
        self.lock().rules.insert((op, plural.to_owned()), n);
    }

    /// Fails every `op` on `plural` until [`FaultyStore::heal`].
    pub fn fail_always(&self, op: Operation, plural: &str) {
        self.fail_next(op, plural, u64::MAX);
    }

    /// Removes every fault.
    pub fn heal(&self) {
        self.lock().rules.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check(&self, op: Operation, resource: &kybern_core::ApiResource) -> Result<(), StoreError> {
        let mut f = self.lock();
        let key = (op, resource.plural.to_string());
        match f.rules.get_mut(&key) {
            Some(0) | None => Ok(()),
            Some(n) => {
                if *n != u64::MAX {
                    *n -= 1;
                }
                Err(StoreError::Internal {
                    message: format!("injected fault: {op:?} {}", resource.plural),
                })
            }
        }
    }
}

#[async_trait::async_trait]
impl Store for FaultyStore {
    async fn create(
        &self,
        resource: &kybern_core::ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.check(Operation::Write, resource)?;
        self.inner.create(resource, object).await
    }

    async fn get(
        &self,
        resource: &kybern_core::ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.check(Operation::Get, resource)?;
        self.inner.get(resource, namespace, name).await
    }

    async fn list(
        &self,
        resource: &kybern_core::ApiResource,
        options: &crate::store::ListOptions,
    ) -> Result<crate::store::ObjectPage, StoreError> {
        self.check(Operation::List, resource)?;
        self.inner.list(resource, options).await
    }

    async fn update(
        &self,
        resource: &kybern_core::ApiResource,
        object: DynamicObject,
        scope: crate::store::WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.check(Operation::Write, resource)?;
        self.inner.update(resource, object, scope).await
    }

    async fn patch(
        &self,
        resource: &kybern_core::ApiResource,
        namespace: Option<&str>,
        name: &str,
        patch: &crate::store::Patch,
        options: &crate::store::PatchOptions,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.check(Operation::Write, resource)?;
        self.inner
            .patch(resource, namespace, name, patch, options)
            .await
    }

    async fn delete(
        &self,
        resource: &kybern_core::ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &crate::store::DeleteOptions,
    ) -> Result<crate::store::DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        self.check(Operation::Write, resource)?;
        self.inner.delete(resource, namespace, name, options).await
    }

    async fn watch(
        &self,
        resource: &kybern_core::ApiResource,
        options: &crate::store::WatchOptions,
    ) -> Result<crate::store::WatchStream, StoreError> {
        self.check(Operation::Watch, resource)?;
        self.inner.watch(resource, options).await
    }

    async fn watch_batches(
        &self,
        resource: &kybern_core::ApiResource,
        options: &crate::store::WatchOptions,
    ) -> Result<crate::store::WatchBatchStream, StoreError> {
        self.check(Operation::Watch, resource)?;
        self.inner.watch_batches(resource, options).await
    }

    async fn current_revision(&self) -> Result<u64, StoreError> {
        self.inner.current_revision().await
    }

    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        self.inner.compact(revision).await
    }

    fn metrics(&self) -> crate::store::StoreMetrics {
        self.inner.metrics()
    }
}
