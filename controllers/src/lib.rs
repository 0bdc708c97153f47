//! `kybern-controllers`: the built-in controllers — ReplicaSet, Deployment, the garbage
//! collector and namespace lifecycle — written only against the public runtime API of
//! `kybern-reconciler` (`Controller<K>`, shared informers, the work queue, expectations).
//!
//! # Where to start
//! [`ControllerManager`] holds what every controller shares (store, informers, metrics,
//! clock, shutdown) and [`ControllerManager::run_all`] runs them all; each module's `run`
//! starts one. With feature `testing`, [`start_in`] starts them inside a test
//! [`Harness`](kybern_reconciler::runtime::harness::Harness).
//!
//! # What this crate leaves out (for now)
//! StatefulSet, DaemonSet, Job/CronJob, EndpointSlice, node lifecycle and the scheduler are
//! later work. There is no kubelet: tests mark pods Ready with the harness's fake kubelet.
//!
//! **Architecture Invariant:** controllers read from caches and write through `Api<K>`; they
//! never hold a store lock, and never reach into another controller's state.

pub mod deployment;
pub mod expectations;
pub mod gc;
pub mod namespace;
pub mod pod;
pub mod replicaset;

use std::sync::Arc;

use kybern_core::Resource;
use kybern_reconciler::Store;
use kybern_reconciler::runtime::clock::{SharedClock, default_clock};
use kybern_reconciler::runtime::metrics::MetricsRegistry;
use kybern_reconciler::runtime::{Controller, Object, SharedInformers, Shutdown, watcher};

/// What the built-in controllers share.
#[derive(Debug, Clone)]
pub struct ControllerManager {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Shared watches and caches.
    pub informers: SharedInformers,
    /// Where metrics go.
    pub metrics: MetricsRegistry,
    /// Wall-clock timestamps (conditions, progress deadlines) follow this clock.
    pub clock: SharedClock,
    /// Graceful shutdown: finish in-flight reconciles, then stop.
    pub shutdown: Shutdown,
    /// Fencing: abandon in-flight reconciles (leader election lost).
    pub cancel: Shutdown,
    /// Reconciles per controller at a time.
    pub concurrency: usize,
}

impl ControllerManager {
    /// A manager over `store` with fresh informers, metrics and signals.
    pub fn new(store: Arc<dyn Store>) -> Self {
        ControllerManager {
            store,
            informers: SharedInformers::new(),
            metrics: MetricsRegistry::new(),
            clock: default_clock(),
            shutdown: Shutdown::new(),
            cancel: Shutdown::new(),
            concurrency: 4,
        }
    }

    /// A controller for `K` wired to this manager.
    pub fn controller<K: Object + Resource<DynamicType = ()>>(&self, name: &str) -> Controller<K> {
        Controller::new(
            kybern_reconciler::Api::<K>::all(self.store.clone()),
            watcher::Config::default(),
        )
        .name(name)
        .shared_informers(&self.informers)
        .metrics(&self.metrics)
        .concurrency(self.concurrency)
        .graceful_shutdown_on(self.shutdown.clone())
        .cancel_on(self.cancel.clone())
    }

    /// Runs every built-in controller until shutdown (or cancel).
    pub async fn run_all(self) {
        futures::join!(
            replicaset::run(self.clone()),
            deployment::run(self.clone()),
            gc::run(self.clone(), gc::GcConfig::default()),
            namespace::run(self.clone()),
        );
    }
}

/// Starts every built-in controller in `harness`, sharing its store, informers, metrics,
/// clock and shutdown signal; returns the manager.
#[cfg(feature = "testing")]
pub fn start_in(harness: &kybern_reconciler::runtime::harness::Harness) -> ControllerManager {
    let m = manager_for(harness);
    harness.spawn(m.clone().run_all());
    m
}

/// A manager sharing `harness`'s store, informers, metrics, clock and shutdown signal.
#[cfg(feature = "testing")]
pub fn manager_for(harness: &kybern_reconciler::runtime::harness::Harness) -> ControllerManager {
    ControllerManager {
        store: harness.store(),
        informers: harness.informers().clone(),
        metrics: harness.metrics().clone(),
        clock: harness.clock(),
        shutdown: harness.shutdown_signal(),
        cancel: Shutdown::new(),
        concurrency: 4,
    }
}
