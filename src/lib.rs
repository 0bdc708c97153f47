//! Kybern: a library-first orchestration SDK with Kubernetes' semantics.
//!
//! This facade re-exports the workspace crates behind features, the way the `kube` crate does:
//! `core` (on by default) gives [`core`] (`kybern-core`, the object model); `reconciler` (on by
//! default) gives [`reconciler`] (the store, `Api<K>`); `rbac` (on by default) gives [`rbac`];
//! `storage` (on by default) gives [`storage`] (PV binding, provisioning, reclaim);
//! `scheduler` and `netsvc` add the other crates as they land, and `full`
//! turns them all on. Start with [`core`] and the examples in `examples/`.

#[doc(inline)]
pub use kybern_core as core;

#[cfg(feature = "reconciler")]
#[doc(inline)]
pub use kybern_reconciler as reconciler;

#[cfg(feature = "scheduler")]
#[doc(inline)]
pub use kybern_scheduler as scheduler;

#[cfg(feature = "storage")]
#[doc(inline)]
pub use kybern_storage as storage;

#[cfg(feature = "netsvc")]
#[doc(inline)]
pub use kybern_netsvc as netsvc;

#[cfg(feature = "rbac")]
#[doc(inline)]
pub use kybern_rbac as rbac;
