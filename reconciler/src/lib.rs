//! `kybern-reconciler`: the object store with revisions and watch, and typed access to it.
//!
//! # Where to start
//! - [`store::Store`] is the storage seam: create, get, list (selectors, pagination, reads at
//!   a revision), update (with `resourceVersion` preconditions), the status subresource,
//!   merge/JSON patches, delete (preconditions, finalizers) and watch from a revision, over
//!   ONE global revision counter, with upstream's (API server + etcd3 storage) semantics and
//!   error messages.
//! - [`store::MemoryStore`] is the embedded default: in-process, fast, no persistence.
//! - [`store::DurableStore`] is the embedded durable store: one directory (a `redb` database),
//!   every acknowledged write fsynced (group commit: concurrent writers share one fsync),
//!   objects and the revision counter restored at restart; reads and watches are served by a
//!   `MemoryStore` index.
//! - `store::EtcdStore` (feature `etcd`, needs `protoc` to build) keeps objects in etcd v3 under
//!   upstream's `/registry/...` keys, with `resourceVersion` = `mod_revision` − 1.
//! - [`Api<K>`] is typed access to any `Arc<dyn Store>`, in the shape of kube-rs's `Api<K>`.
//! - `store::conformance` (feature `testing`) is the shared test suite every backend must pass.
//!
//! - [`runtime`] is the controller runtime: watchers, caches, shared informers, the work
//!   queue, `Controller<K>`, finalizers, leader election, events, metrics, and (feature
//!   `testing`) an in-process control plane on virtual time for tests.
//!
//! # What this crate does not do (yet)
//! The store applies the generic registry rules (generation, uid, finalizers, status
//! isolation) but no per-kind validation, defaulting or admission: that belongs to an API layer
//! above it. Deletion has no `propagationPolicy` parameter yet (`kybern-controllers`' garbage
//! collector provides the three policies through finalizers).
//!
//! **Architecture Invariant:** the store knows kinds only as [`kybern_core::ApiResource`]
//! values; it has no per-kind code paths except the field-selector table in
//! [`store::selection`].

pub mod api;
pub mod runtime;
pub mod store;

pub use api::{Api, DeleteParams, ListParams, Scale, WatchParams};
pub use store::{DeleteOutcome, DurableStore, MemoryStore, Patch, Store, StoreError, WatchEvent};
