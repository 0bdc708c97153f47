//! The controller runtime: watchers, caches, informers, the work queue, `Controller<K>`,
//! finalizers, leader election, events, metrics and a test harness — kube-runtime's shape
//! with client-go's and controller-runtime's semantics.
//!
//! # Where to start
//! - [`controller::Controller`] runs a level-triggered reconcile loop for a kind.
//! - [`informer::SharedInformers`] shares one watch and one cache per kind and selectors
//!   between controllers; [`reflector::Reader`] reads a cache (indexes included).
//! - [`queue::WorkQueue`] is client-go's rate-limited work queue.
//! - [`finalizer::finalizer`] runs cleanup before deletion.
//! - [`leader::LeaderElector`] elects one active replica through a `Lease`.
//! - [`events::Recorder`] publishes `core/v1` Events with client-go's aggregation (repeats and
//!   similar events).
//! - [`metrics::MetricsRegistry`] renders controller-runtime's metrics in Prometheus format.
//! - [`harness`] (feature `testing`) is an in-process control plane on virtual time for
//!   operator authors' tests.
//!
//! **Architecture Invariant:** everything time-based reads tokio's clock (through
//! [`clock::Clock`] for wall timestamps): tests pause and advance time, never sleep.

pub mod clock;
pub mod controller;
pub mod events;
pub mod finalizer;
#[cfg(feature = "testing")]
pub mod harness;
pub mod informer;
pub mod leader;
pub mod metrics;
pub mod predicates;
pub mod queue;
pub mod reflector;
pub mod shutdown;
pub mod watcher;

use std::fmt::Debug;

use kybern_core::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use controller::{Action, Controller};
pub use informer::{Informer, SharedInformers};
pub use reflector::{ObjectKey, Reader};
pub use shutdown::Shutdown;

/// What the runtime needs of a kind: identity and metadata, cloning, (de)serialization, and
/// thread safety. Implemented for every type that has them.
pub trait Object:
    Resource + Clone + Serialize + DeserializeOwned + Debug + Send + Sync + 'static
{
}

impl<T> Object for T where
    T: Resource + Clone + Serialize + DeserializeOwned + Debug + Send + Sync + 'static
{
}
