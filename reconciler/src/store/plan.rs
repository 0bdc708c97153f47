//! Write planning shared by the backends that keep their own write path (the durable store and
//! etcd): given the stored object, what an update or delete writes, as one [`Change`].
//!
//! This is the glue around [`rules`] that every backend needs in the same form: it picks the
//! event type (MODIFIED, or DELETED when the last finalizer goes), keeps the previous state for
//! watch selector transitions, and leaves only the revision to the backend, which sets
//! `resourceVersion` once its commit assigned one ([`Change::finish`]).

use std::sync::Arc;

use kybern_core::{ApiResource, DynamicObject, Time};

use super::rules::{self, DeletePlan, UpdatePlan};
use super::{DeleteOptions, DeleteOutcome, StoreError, WriteScope};

/// What kind of event a change produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// The object was created.
    Added,
    /// The object changed (including being marked for deletion).
    Modified,
    /// The object is gone; the change's object is its last state.
    Deleted,
}

/// One planned write: the new state (the last state for a deletion) and the previous one.
#[derive(Clone, Debug)]
pub struct Change {
    /// The event type.
    pub kind: ChangeKind,
    /// The new object, `resourceVersion` not yet set (the last state for [`ChangeKind::Deleted`]).
    pub object: DynamicObject,
    /// The state before the change (`None` for a create).
    pub prev: Option<Arc<DynamicObject>>,
}

impl Change {
    /// Stamps the committed revision on the object and returns it as stored.
    pub fn finish(mut self, revision: u64) -> Committed {
        self.object.metadata.resource_version = Some(revision.to_string());
        Committed {
            kind: self.kind,
            revision,
            object: Arc::new(self.object),
            prev: self.prev,
        }
    }
}

/// A change with its revision, as applied to an index and sent to watchers.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The event type.
    pub kind: ChangeKind,
    /// The revision the change was committed at.
    pub revision: u64,
    /// The stored object (for a deletion: the last state at the deletion's revision).
    pub object: Arc<DynamicObject>,
    /// The state before the change.
    pub prev: Option<Arc<DynamicObject>>,
}

impl Committed {
    /// The answer a delete call gives for this change.
    pub fn delete_outcome(&self) -> DeleteOutcome<Arc<DynamicObject>> {
        match self.kind {
            ChangeKind::Deleted => DeleteOutcome::Deleted(self.object.clone()),
            _ => DeleteOutcome::Finalizing(self.object.clone()),
        }
    }
}

/// The outcome of planning: write a change, or nothing to write.
#[derive(Debug)]
pub enum Planned {
    /// Write this change.
    Write(Box<Change>),
    /// Nothing changes; the answer is the stored object (no-op update, or a delete of an
    /// object already waiting for finalizers).
    Unchanged(Arc<DynamicObject>),
}

/// Plans an update of `current` (the stored object) with `object` under `scope`.
///
/// # Errors
/// As [`rules::prepare_update`]: Conflict, Invalid.
pub fn update(
    resource: &ApiResource,
    current: Arc<DynamicObject>,
    object: DynamicObject,
    scope: WriteScope,
) -> Result<Planned, StoreError> {
    Ok(
        match rules::prepare_update(resource, &current, object, scope)? {
            UpdatePlan::NoOp => Planned::Unchanged(current),
            UpdatePlan::Write(new) => Planned::Write(Box::new(Change {
                kind: ChangeKind::Modified,
                object: new,
                prev: Some(current),
            })),
            UpdatePlan::Delete(last) => Planned::Write(Box::new(Change {
                kind: ChangeKind::Deleted,
                object: last,
                prev: Some(current),
            })),
        },
    )
}

/// Plans a delete of `current`: preconditions, then delete or mark for deletion.
///
/// # Errors
/// Conflict when a precondition fails.
pub fn delete(
    resource: &ApiResource,
    current: Arc<DynamicObject>,
    options: &DeleteOptions,
    now: Time,
) -> Result<Planned, StoreError> {
    rules::check_preconditions(resource, &current, options.preconditions.as_ref())?;
    Ok(
        match rules::prepare_delete(resource, &current, options, now) {
            DeletePlan::AlreadyDeleting => Planned::Unchanged(current),
            DeletePlan::Delete => Planned::Write(Box::new(Change {
                kind: ChangeKind::Deleted,
                object: DynamicObject::clone(&current),
                prev: Some(current),
            })),
            DeletePlan::MarkDeleting(next) => Planned::Write(Box::new(Change {
                kind: ChangeKind::Modified,
                object: *next,
                prev: Some(current),
            })),
        },
    )
}

/// The namespace an object of `resource` is stored under (`None` for cluster-scoped kinds).
pub fn storage_namespace<'a>(
    resource: &ApiResource,
    namespace: Option<&'a str>,
) -> Option<&'a str> {
    namespace.filter(|_| resource.is_namespaced())
}

/// The event a watch with `selection` sees for one committed change, with upstream's watch
/// cache rules: an object that starts matching is ADDED, one that stops matching is DELETED
/// (its previous state, at the change's revision), and changes outside the selection are
/// dropped. Shared by every backend's watch (the memory store's history holds [`Committed`]
/// changes too). Inlined: it runs once per event per watcher, in every watcher's drain loop.
#[inline]
pub fn watch_event(
    selection: &super::selection::Selection,
    resource: &ApiResource,
    change: &Committed,
) -> Option<super::WatchEvent<Arc<DynamicObject>>> {
    use super::WatchEvent;
    // An unfiltered watch (the common case) skips matching altogether.
    let all = selection.selects_all();
    let now = all || selection.matches(resource, &change.object);
    match change.kind {
        ChangeKind::Added => now.then(|| WatchEvent::Added(change.object.clone())),
        ChangeKind::Deleted => now.then(|| WatchEvent::Deleted(change.object.clone())),
        ChangeKind::Modified => {
            let before = change
                .prev
                .as_ref()
                .is_some_and(|p| all || selection.matches(resource, p));
            match (before, now) {
                (true, true) => Some(WatchEvent::Modified(change.object.clone())),
                (false, true) => Some(WatchEvent::Added(change.object.clone())),
                (true, false) => {
                    let prev = change.prev.as_ref()?;
                    let mut gone = DynamicObject::clone(prev);
                    gone.metadata.resource_version = Some(change.revision.to_string());
                    Some(WatchEvent::Deleted(Arc::new(gone)))
                }
                (false, false) => None,
            }
        }
    }
}
