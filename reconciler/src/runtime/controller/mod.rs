//! `Controller<K>`: the level-triggered reconcile loop — watch a primary kind (and the kinds it
//! owns or depends on), queue the keys of objects that need attention, and reconcile them with
//! bounded concurrency (kube-runtime's `Controller`, controller-runtime's semantics).
//!
//! # Contract
//! `reconcile(Arc<K>, Arc<Ctx>) -> Result<Action, E>` looks at the object's *current* state
//! (from the cache) and makes the world match it; it must be idempotent. On error,
//! `error_policy(Arc<K>, &E, Arc<Ctx>) -> Action` decides the retry ([`Action::requeue_with_backoff`]
//! uses the queue's per-item exponential backoff). A key is never reconciled by two workers
//! at once; a success resets its backoff.
//!
//! ```no_run
//! # async fn doc(store: std::sync::Arc<dyn kybern_reconciler::Store>) {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use kybern_core::api::apps::v1::ReplicaSet;
//! use kybern_core::api::core::v1::Pod;
//! use kybern_reconciler::Api;
//! use kybern_reconciler::runtime::controller::{Action, Controller};
//! use kybern_reconciler::runtime::watcher;
//!
//! async fn reconcile(rs: Arc<ReplicaSet>, _ctx: Arc<()>) -> Result<Action, std::io::Error> {
//!     Ok(Action::requeue(Duration::from_secs(300)))
//! }
//! Controller::new(Api::<ReplicaSet>::all(store.clone()), watcher::Config::default())
//!     .owns(Api::<Pod>::all(store), watcher::Config::default())
//!     .concurrency(4)
//!     .run(reconcile, |_, _, _| Action::requeue_with_backoff(), Arc::new(()))
//!     .await;
//! # }
//! ```

mod action;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use kybern_core::{ApiResource, Resource};
use tokio::time::Instant;

pub use action::{Action, Requeue};

use super::Object;
use super::informer::SharedInformers;
use super::metrics::{ControllerMetrics, MetricsRegistry};
use super::predicates::Predicate;
use super::queue::{RateLimiter, WorkQueue, default_controller_rate_limiter};
use super::reflector::{Change, ObjectKey};
use super::shutdown::Shutdown;
use super::watcher;
use crate::api::Api;

type Source = Box<
    dyn FnOnce(&SharedInformers, WorkQueue<ObjectKey>, Shutdown) -> BoxFuture<'static, ()> + Send,
>;

type LimiterFactory = Box<dyn FnOnce() -> Box<dyn RateLimiter<ObjectKey>> + Send>;

/// Builds and runs a controller for kind `K`.
pub struct Controller<K: Object> {
    name: String,
    api: Api<K>,
    config: watcher::Config,
    informers: SharedInformers,
    predicates: Vec<Predicate<K>>,
    sources: Vec<Source>,
    concurrency: usize,
    registry: MetricsRegistry,
    limiter: LimiterFactory,
    graceful: Shutdown,
    cancel: Shutdown,
}

impl<K: Object> fmt::Debug for Controller<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("name", &self.name)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// Maps a changed object to the keys of the primary objects to reconcile.
fn forward<C: Object>(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Change<C>>,
    queue: WorkQueue<ObjectKey>,
    stop: Shutdown,
    map: impl Fn(&Change<C>) -> Vec<ObjectKey> + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stop.wait() => break,
                change = rx.recv() => match change {
                    Some(change) => for key in map(&change) { queue.add(key) },
                    None => break,
                }
            }
        }
    });
}

/// Whether `owner` (an owner reference) points at kind `resource`.
fn refers_to(r: &kybern_core::api::meta::v1::OwnerReference, resource: &ApiResource) -> bool {
    r.kind == resource.kind() && r.api_version == resource.api_version()
}

impl<K: Object> Controller<K> {
    /// A controller reconciling the objects of `api` that `config` selects.
    pub fn new(api: Api<K>, config: watcher::Config) -> Self {
        let name = api.resource().kind().to_lowercase();
        Controller {
            name,
            api,
            config,
            informers: SharedInformers::new(),
            predicates: Vec::new(),
            sources: Vec::new(),
            concurrency: 4,
            registry: MetricsRegistry::new(),
            limiter: Box::new(|| Box::new(default_controller_rate_limiter())),
            graceful: Shutdown::new(),
            cancel: Shutdown::new(),
        }
    }

    /// Same as [`Controller::new`] (controller-runtime's `For`).
    pub fn for_(api: Api<K>, config: watcher::Config) -> Self {
        Self::new(api, config)
    }

    /// Names the controller (metrics label `controller`; default: the kind in lower case).
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// Shares informers (watches and caches) with other controllers.
    pub fn shared_informers(mut self, informers: &SharedInformers) -> Self {
        self.informers = informers.clone();
        self
    }

    /// Exports metrics to `registry`.
    pub fn metrics(mut self, registry: &MetricsRegistry) -> Self {
        self.registry = registry.clone();
        self
    }

    /// At most `n` reconciles at a time (at least 1; default 4).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Replaces the queue's rate limiter (default: client-go's `DefaultControllerRateLimiter`).
    pub fn rate_limiter(
        mut self,
        make: impl FnOnce() -> Box<dyn RateLimiter<ObjectKey>> + Send + 'static,
    ) -> Self {
        self.limiter = Box::new(make);
        self
    }

    /// Filters changes of the primary kind (all predicates must pass).
    pub fn with_predicate(mut self, predicate: Predicate<K>) -> Self {
        self.predicates.push(predicate);
        self
    }

    /// When `signal` fires: stop taking keys, let in-flight reconciles finish, return.
    pub fn graceful_shutdown_on(mut self, signal: Shutdown) -> Self {
        self.graceful = signal;
        self
    }

    /// When `signal` fires: abandon in-flight reconciles at their next await point and return
    /// (leader-election fencing).
    pub fn cancel_on(mut self, signal: Shutdown) -> Self {
        self.cancel = signal;
        self
    }

    /// Also reconciles the controller of each changed `C` (through `controller: true` owner
    /// references pointing at `K`).
    pub fn owns<C: Object>(mut self, api: Api<C>, config: watcher::Config) -> Self {
        let owner = self.api.resource().clone();
        let owner_namespaced = owner.is_namespaced();
        self.sources.push(Box::new(move |informers, queue, stop| {
            let informer = informers.informer(&api, &config);
            let reader = informer.reader();
            forward(reader.subscribe(), queue, stop, move |change| {
                let obj = change.object();
                let mut keys = Vec::new();
                let mut push = |o: &C| {
                    if let Some(r) = o.meta().controller_ref()
                        && refers_to(r, &owner)
                    {
                        let ns = if owner_namespaced {
                            o.namespace()
                        } else {
                            None
                        };
                        keys.push(ObjectKey::new(ns, &r.name));
                    }
                };
                push(obj);
                if let Change::Applied { old: Some(old), .. } = change {
                    push(old);
                }
                keys.dedup();
                keys
            });
            Box::pin(async move { reader.wait_until_ready().await })
        }));
        self
    }

    /// Also reconciles the keys `mapper` returns for each changed `C`.
    pub fn watches<C: Object>(
        mut self,
        api: Api<C>,
        config: watcher::Config,
        mapper: impl Fn(&C) -> Vec<ObjectKey> + Send + Sync + 'static,
    ) -> Self {
        self.sources.push(Box::new(move |informers, queue, stop| {
            let informer = informers.informer(&api, &config);
            let reader = informer.reader();
            forward(reader.subscribe(), queue, stop, move |change| {
                mapper(change.object())
            });
            Box::pin(async move { reader.wait_until_ready().await })
        }));
        self
    }

    /// Also reconciles the keys `mapper` returns for each change of a `C` (it sees the old and
    /// new state, or the deleted object): for controllers that track expectations.
    pub fn watches_changes<C: Object>(
        mut self,
        api: Api<C>,
        config: watcher::Config,
        mapper: impl Fn(&Change<C>) -> Vec<ObjectKey> + Send + Sync + 'static,
    ) -> Self {
        self.sources.push(Box::new(move |informers, queue, stop| {
            let informer = informers.informer(&api, &config);
            let reader = informer.reader();
            forward(reader.subscribe(), queue, stop, mapper);
            Box::pin(async move { reader.wait_until_ready().await })
        }));
        self
    }

    /// Runs until a shutdown or cancel signal fires.
    ///
    /// # Guarantees
    /// Reconciles start only after every watched cache has synced; at most `concurrency` run
    /// at a time; one key never runs twice concurrently. Graceful shutdown returns after
    /// in-flight reconciles finish.
    pub async fn run<Ctx, E, F, Fut, P>(self, reconcile: F, error_policy: P, ctx: Arc<Ctx>)
    where
        Ctx: Send + Sync + 'static,
        E: fmt::Display + Send + 'static,
        F: Fn(Arc<K>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, E>> + Send + 'static,
        P: Fn(Arc<K>, &E, Arc<Ctx>) -> Action + Send + Sync + 'static,
    {
        let Controller {
            name,
            api,
            config,
            informers,
            predicates,
            sources,
            concurrency,
            registry,
            limiter,
            graceful,
            cancel,
        } = self;
        let queue = WorkQueue::with_limiter(&name, limiter(), &registry);
        let metrics = ControllerMetrics::new(&registry, &name);
        let stop = Shutdown::new();

        let primary = informers.informer(&api, &config).reader();
        forward(
            primary.subscribe(),
            queue.clone(),
            stop.clone(),
            move |change| match change {
                Change::Applied { old, new } => {
                    let pass = predicates.iter().all(|p| p(old.as_deref(), new));
                    if pass {
                        vec![ObjectKey::of(new.as_ref())]
                    } else {
                        Vec::new()
                    }
                }
                Change::Deleted(_) => Vec::new(),
            },
        );
        let mut ready = vec![{
            let r = primary.clone();
            Box::pin(async move { r.wait_until_ready().await }) as BoxFuture<'static, ()>
        }];
        for source in sources {
            ready.push(source(&informers, queue.clone(), stop.clone()));
        }
        let synced = tokio::select! {
            () = futures::future::join_all(ready).map_unit() => true,
            () = graceful.wait() => false,
            () = cancel.wait() => false,
        };
        if synced {
            let reconcile = Arc::new(reconcile);
            let error_policy = Arc::new(error_policy);
            let mut workers = Vec::with_capacity(concurrency);
            for _ in 0..concurrency {
                workers.push(tokio::spawn(worker(
                    queue.clone(),
                    primary.clone(),
                    Arc::clone(&reconcile),
                    Arc::clone(&error_policy),
                    Arc::clone(&ctx),
                    metrics.clone(),
                    cancel.clone(),
                )));
            }
            tokio::select! {
                () = graceful.wait() => {}
                () = cancel.wait() => {}
            }
            queue.shutdown();
            for w in workers {
                let _ = w.await;
            }
        }
        stop.trigger();
        tracing::debug!(controller = %name, "controller stopped");
    }
}

trait MapUnit: Future + Sized {
    fn map_unit(self) -> futures::future::Map<Self, fn(Self::Output)> {
        futures::FutureExt::map(self, drop as fn(Self::Output))
    }
}
impl<F: Future> MapUnit for F {}

async fn worker<K, Ctx, E, F, Fut, P>(
    queue: WorkQueue<ObjectKey>,
    cache: super::reflector::Reader<K>,
    reconcile: Arc<F>,
    error_policy: Arc<P>,
    ctx: Arc<Ctx>,
    metrics: ControllerMetrics,
    cancel: Shutdown,
) where
    K: Object,
    Ctx: Send + Sync + 'static,
    E: fmt::Display + Send + 'static,
    F: Fn(Arc<K>, Arc<Ctx>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
    P: Fn(Arc<K>, &E, Arc<Ctx>) -> Action + Send + Sync + 'static,
{
    loop {
        let key = tokio::select! {
            k = queue.get() => k,
            () = cancel.wait() => None,
        };
        let Some(key) = key else { break };
        let Some(obj) = cache.get(&key) else {
            // Gone from the cache: nothing to reconcile (deletions are handled by finalizers).
            queue.forget(&key);
            queue.done(&key);
            continue;
        };
        metrics.active_workers.add(1);
        let started = Instant::now();
        let outcome = tokio::select! {
            r = reconcile(Arc::clone(&obj), Arc::clone(&ctx)) => Some(r),
            () = cancel.wait() => None,
        };
        metrics.reconcile_time.observe_duration(started.elapsed());
        metrics.active_workers.add(-1);
        let action = match outcome {
            None => {
                queue.done(&key);
                break;
            }
            Some(Ok(action)) => {
                queue.forget(&key);
                match action.requeue_kind() {
                    None => metrics.success.inc(),
                    Some(Requeue::After(_)) => metrics.requeue_after.inc(),
                    Some(Requeue::Backoff) => metrics.requeue.inc(),
                }
                action
            }
            Some(Err(e)) => {
                metrics.error.inc();
                metrics.errors_total.inc();
                tracing::debug!(object = %key, error = %e, "reconcile failed");
                error_policy(Arc::clone(&obj), &e, Arc::clone(&ctx))
            }
        };
        match action.requeue_kind() {
            None => {}
            Some(Requeue::After(d)) => queue.add_after(key.clone(), d),
            Some(Requeue::Backoff) => queue.add_rate_limited(key.clone()),
        }
        queue.done(&key);
    }
}

/// The default error policy: retry with the queue's per-item exponential backoff.
pub fn default_error_policy<K, E, Ctx>(_obj: Arc<K>, _err: &E, _ctx: Arc<Ctx>) -> Action {
    Action::requeue_with_backoff()
}

/// The [`ObjectKey`] of `obj` (what the controller queues).
pub fn key_of<K: Resource>(obj: &K) -> ObjectKey {
    ObjectKey::of(obj)
}
