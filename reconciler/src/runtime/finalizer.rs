//! `finalizer`: run cleanup before an object is deleted, with kube-runtime's documented flow.
//!
//! 1. The object is live and lacks the finalizer: add it (the write wakes the controller
//!    again; this call returns [`Action::await_change`]).
//! 2. The object is live and has the finalizer: run [`Event::Apply`].
//! 3. The object is being deleted and has the finalizer: run [`Event::Cleanup`]; when it
//!    succeeds, remove the finalizer (the store then deletes the object).
//! 4. The object is being deleted without the finalizer: nothing to do.
//!
//! # Guarantees
//! Finalizer writes carry the object's `resourceVersion` as a precondition, so they never
//! clobber a concurrent change; a conflict is returned as an error and retried by the
//! controller. Cleanup may run more than once (if removing the finalizer fails): keep it
//! idempotent.

use std::future::Future;
use std::sync::Arc;

use serde_json::json;

use super::Object;
use super::controller::Action;
use crate::api::Api;
use crate::store::{Patch, PatchOptions, StoreError};

/// What the finalizer helper asks the caller to do.
#[derive(Debug)]
pub enum Event<K> {
    /// Make the world match this live object.
    Apply(Arc<K>),
    /// The object is being deleted: release what it holds.
    Cleanup(Arc<K>),
}

/// Why the finalizer helper failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<E: std::error::Error + 'static> {
    /// The caller's apply step failed.
    #[error("apply failed: {0}")]
    ApplyFailed(#[source] E),
    /// The caller's cleanup step failed (the finalizer stays).
    #[error("cleanup failed: {0}")]
    CleanupFailed(#[source] E),
    /// Adding the finalizer failed.
    #[error("failed to add finalizer: {0}")]
    AddFinalizer(#[source] StoreError),
    /// Removing the finalizer failed.
    #[error("failed to remove finalizer: {0}")]
    RemoveFinalizer(#[source] StoreError),
    /// The object has no name (it was never stored).
    #[error("object has no name")]
    UnnamedObject,
}

async fn write_finalizers<K: Object>(
    api: &Api<K>,
    obj: &K,
    finalizers: Vec<String>,
) -> Result<K, StoreError> {
    let options = PatchOptions {
        resource_version: obj.meta().resource_version.clone(),
        ..PatchOptions::default()
    };
    let patch = Patch::Merge(json!({ "metadata": { "finalizers": finalizers } }));
    api.patch_with(obj.name(), &patch, &options).await
}

/// Runs `reconcile` under finalizer `name` on `obj` (see the module docs for the flow).
///
/// # Errors
/// The caller's error wrapped as [`Error::ApplyFailed`]/[`Error::CleanupFailed`], or the
/// store error of a finalizer write.
pub async fn finalizer<K, E, F, Fut>(
    api: &Api<K>,
    name: &str,
    obj: Arc<K>,
    reconcile: F,
) -> Result<Action, Error<E>>
where
    K: Object,
    E: std::error::Error + 'static,
    F: FnOnce(Event<K>) -> Fut,
    Fut: Future<Output = Result<Action, E>>,
{
    if obj.name().is_empty() {
        return Err(Error::UnnamedObject);
    }
    let meta = obj.meta();
    let has = meta.has_finalizer(name);
    match (meta.is_being_deleted(), has) {
        (false, false) => {
            let mut finalizers = meta.finalizers.clone();
            finalizers.push(name.to_owned());
            write_finalizers(api, &obj, finalizers)
                .await
                .map_err(Error::AddFinalizer)?;
            Ok(Action::await_change())
        }
        (false, true) => reconcile(Event::Apply(obj))
            .await
            .map_err(Error::ApplyFailed),
        (true, true) => {
            let action = reconcile(Event::Cleanup(Arc::clone(&obj)))
                .await
                .map_err(Error::CleanupFailed)?;
            let rest: Vec<String> = obj
                .meta()
                .finalizers
                .iter()
                .filter(|f| *f != name)
                .cloned()
                .collect();
            match write_finalizers(api, &obj, rest).await {
                Ok(_) => Ok(action),
                Err(e) if e.is_not_found() => Ok(action),
                Err(e) => Err(Error::RemoveFinalizer(e)),
            }
        }
        (true, false) => Ok(Action::await_change()),
    }
}
