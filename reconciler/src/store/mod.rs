//! The `Store` seam: objects keyed by kind, namespace and name, versioned by one global
//! revision, with list-at-revision, pagination and watch-from-revision.
//!
//! # Objects at the seam
//! Objects go in as an owned [`DynamicObject`] (the store takes ownership, so a write never
//! copies the caller's object) and come out as `Arc<DynamicObject>`: the stored value itself,
//! shared with the event history and with every watcher. A get, a list of 100,000 items or an
//! event fanned out to 100 watchers clones pointers, never objects. `DynamicObject` rather than
//! `serde_json::Value` because metadata is already typed: the store reads and writes
//! `resourceVersion`, `uid`, finalizers … without walking a JSON map, and [`crate::Api`]
//! converts to typed kinds once at the edge.
//!
//! # Revisions
//! Every successful write takes the next value of ONE store-wide counter; the object's
//! `metadata.resourceVersion` is that revision as a decimal string, lists report the revision
//! they were read at, and a watch from revision `R` yields every change with a revision greater
//! than `R`, in order. Revisions are ordered and comparable, not contiguous or absolute: the
//! embedded stores start at 0 and count only their own writes, while the etcd backend uses
//! etcd's revision as is (upstream's `resourceVersion` is the key's `mod_revision`), so an
//! empty etcd store can be at any revision.
//!
//! # Order
//! Lists (and a watch's initial events) come in etcd's order on every backend: by the bytes
//! of `<namespace>/<name>` (upstream's key suffix), so namespace `a-b` sorts before `a`. [`Store::compact`] forgets history up to a revision: reads and watches
//! older than it fail with [`StoreError::Expired`] (410).
//!
//! # Watch starts
//! A watch starts as the v1.33 API server (with `WatchList`, on by default) starts one: a
//! legacy watch (no `resourceVersion`, or `"0"`) is a streaming list — an ADDED event per
//! object, then, when bookmarks were asked for, a BOOKMARK marked
//! [`Bookmark::initial_events_end`], then the changes; `"N"` sends the changes after `N`;
//! [`WatchOptions::send_initial_events`] chooses explicitly. Option combinations the API server
//! rejects get its 422 (`ListOptions.meta.k8s.io "" is invalid: …`), cause for cause.
//!
//! # Upstream rules
//! The registry rules every backend applies (generation, uid, finalizers, no-op updates,
//! status isolation, preconditions) live in [`rules`], written once, so the durable and etcd
//! backends behave exactly as [`MemoryStore`] does; [`conformance`] (feature `testing`) checks
//! that with one shared suite.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Stream;
use kybern_core::api::meta::v1::Preconditions;
use kybern_core::{ApiResource, DynamicObject};

pub mod batch;
#[cfg(feature = "testing")]
pub mod conformance;
pub mod continue_token;
pub mod durable;
mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
pub mod memory;
pub mod metrics;
pub mod names;
pub mod patch;
pub mod plan;
pub mod propagation;
mod read;
pub mod rules;
pub mod selection;

pub use batch::{WatchBatch, WatchBatchStream, WatchEventRef};
pub use durable::{DurableStore, DurableStoreConfig};
pub use error::{CONFLICT_MODIFIED, CONTINUE_EXPIRED, StoreError};
#[cfg(feature = "etcd")]
pub use etcd::{EtcdStore, EtcdStoreConfig};
pub use memory::{MemoryStore, MemoryStoreConfig};
pub use metrics::StoreMetrics;
pub use patch::Patch;
pub use propagation::PropagationPolicy;

/// How a list read chooses its revision (`resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// The state at exactly `resourceVersion` (410 Expired if compacted).
    Exact,
    /// Any state at least as new as `resourceVersion` (this store serves the latest).
    NotOlderThan,
}

impl ResourceVersionMatch {
    /// The wire value: `Exact` or `NotOlderThan`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceVersionMatch::Exact => "Exact",
            ResourceVersionMatch::NotOlderThan => "NotOlderThan",
        }
    }
}

/// Parameters of [`Store::list`], as upstream's `ListOptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Only this namespace; `None` lists every namespace (and cluster-scoped kinds).
    pub namespace: Option<String>,
    /// A label selector string (`app=web,tier!=db`).
    pub label_selector: Option<String>,
    /// A field selector string (`metadata.name=x,spec.nodeName=`).
    pub field_selector: Option<String>,
    /// At most this many items; `None` or `0` means no limit.
    pub limit: Option<u64>,
    /// The token from a previous page's [`ObjectPage::continue_token`].
    pub continue_token: Option<String>,
    /// `None`/`""` = the latest state (a consistent read); `"0"` = any state (this store serves
    /// the latest); `"N"` = see [`ListOptions::resource_version_match`].
    pub resource_version: Option<String>,
    /// How `resource_version` is matched; unset with an `"N"` means not-older-than.
    pub resource_version_match: Option<ResourceVersionMatch>,
}

/// One page of a list: the items, the revision they were read at and the next page's token.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectPage {
    /// The objects, in etcd's key order (`<namespace>/<name>` bytes, see the module docs).
    pub items: Vec<Arc<DynamicObject>>,
    /// The revision the page was read at; every page of one paginated list has the same.
    pub resource_version: u64,
    /// Set when more items follow: pass it as [`ListOptions::continue_token`].
    pub continue_token: Option<String>,
    /// With a continue token and no label or field selector: how many objects follow this
    /// page at its revision (upstream's `remainingItemCount`; unset when filtered, as upstream
    /// cannot count what a selector would keep).
    pub remaining_item_count: Option<u64>,
}

/// Parameters of [`Store::watch`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Only this namespace; `None` watches every namespace.
    pub namespace: Option<String>,
    /// A label selector string.
    pub label_selector: Option<String>,
    /// A field selector string.
    pub field_selector: Option<String>,
    /// `None`/`""`/`"0"`: first a synthetic ADDED event per existing object, then every change.
    /// `"N"`: every change after revision N, no initial events. Both as modified by
    /// [`WatchOptions::send_initial_events`].
    pub resource_version: Option<String>,
    /// Send periodic BOOKMARK events carrying the current revision (upstream's
    /// `allowWatchBookmarks`).
    pub bookmarks: bool,
    /// Upstream's `sendInitialEvents` (streaming lists, the `WatchList` feature, on by default
    /// since v1.32). `Some(true)`: start with a synthetic ADDED event per object of a state at
    /// least as new as `resource_version` (unset: the latest), then — when
    /// [`WatchOptions::bookmarks`] is set — a BOOKMARK at that state's revision marked
    /// [`Bookmark::initial_events_end`], then every change after it. `Some(false)`: no initial
    /// events; unset or `"0"` `resource_version` starts from now. Requires
    /// `resource_version_match` [`ResourceVersionMatch::NotOlderThan`] (422 Invalid otherwise).
    ///
    /// Unset with neither `resource_version_match` nor a `"N"` `resource_version`, it defaults
    /// to `Some(true)` with `NotOlderThan`, as the API server defaults a legacy watch: such a
    /// watch that asks for bookmarks also gets the initial-events-end bookmark.
    pub send_initial_events: Option<bool>,
    /// For a watch, only [`ResourceVersionMatch::NotOlderThan`], and only together with
    /// [`WatchOptions::send_initial_events`] (422 Invalid otherwise, with upstream's causes).
    pub resource_version_match: Option<ResourceVersionMatch>,
}

/// One change seen by a watch.
#[derive(Clone, Debug, PartialEq)]
pub enum WatchEvent<T> {
    /// The object was created (or started matching the watch's selectors).
    Added(T),
    /// The object changed (and still matches).
    Modified(T),
    /// The object was deleted (or stopped matching); it carries the deletion's revision.
    Deleted(T),
    /// No change, just progress: every change up to this revision has been sent.
    Bookmark(Bookmark),
}

impl<T> WatchEvent<T> {
    /// Maps the object of an ADDED/MODIFIED/DELETED event.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> WatchEvent<U> {
        match self {
            WatchEvent::Added(o) => WatchEvent::Added(f(o)),
            WatchEvent::Modified(o) => WatchEvent::Modified(f(o)),
            WatchEvent::Deleted(o) => WatchEvent::Deleted(f(o)),
            WatchEvent::Bookmark(b) => WatchEvent::Bookmark(b),
        }
    }

    /// The event with its object borrowed (a bookmark's payload is copied).
    pub fn as_ref(&self) -> WatchEvent<&T> {
        match self {
            WatchEvent::Added(o) => WatchEvent::Added(o),
            WatchEvent::Modified(o) => WatchEvent::Modified(o),
            WatchEvent::Deleted(o) => WatchEvent::Deleted(o),
            WatchEvent::Bookmark(b) => WatchEvent::Bookmark(b.clone()),
        }
    }

    /// Upstream's event type name: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`.
    pub fn type_name(&self) -> &'static str {
        match self {
            WatchEvent::Added(_) => "ADDED",
            WatchEvent::Modified(_) => "MODIFIED",
            WatchEvent::Deleted(_) => "DELETED",
            WatchEvent::Bookmark(_) => "BOOKMARK",
        }
    }
}

/// The annotation upstream puts on the bookmark that ends a watch's initial events
/// (value `"true"`).
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

/// A BOOKMARK event's payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bookmark {
    /// The store revision every change up to which has been delivered.
    pub resource_version: String,
    /// This bookmark ends the initial events of a watch with
    /// [`WatchOptions::send_initial_events`]: every object of the state at
    /// `resource_version` has been sent (upstream marks it with
    /// [`INITIAL_EVENTS_END_ANNOTATION`]).
    pub initial_events_end: bool,
}

impl Bookmark {
    /// A periodic (progress) bookmark at `revision`.
    pub fn at(revision: u64) -> Self {
        Bookmark {
            resource_version: revision.to_string(),
            initial_events_end: false,
        }
    }

    /// The bookmark that ends the initial events of a state read at `revision`.
    pub fn initial_events_end(revision: u64) -> Self {
        Bookmark {
            resource_version: revision.to_string(),
            initial_events_end: true,
        }
    }
}

/// The stream a watch returns: events in revision order, ending after an error (typically
/// [`StoreError::Expired`]: the watcher fell behind or resumed too far back and must relist).
pub type WatchStream =
    Pin<Box<dyn Stream<Item = Result<WatchEvent<Arc<DynamicObject>>, StoreError>> + Send>>;

/// Which part of an object a write may change (upstream's main resource vs `/status`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WriteScope {
    /// The main resource: spec and metadata; the stored `status` is kept.
    #[default]
    Main,
    /// The status subresource: only `status`; spec and metadata from the request are ignored.
    Status,
    /// Spec, metadata and status together, in one revision: for system writers such as a
    /// Pod binding (`spec.nodeName` + the `PodScheduled` condition).
    Whole,
}

/// Parameters of [`Store::patch`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// Main resource or status subresource.
    pub scope: WriteScope,
    /// Fail with Conflict unless the object is at this resourceVersion.
    pub resource_version: Option<String>,
}

/// Parameters of [`Store::delete`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteOptions {
    /// uid / resourceVersion the object must have (Conflict otherwise).
    pub preconditions: Option<Preconditions>,
    /// How dependents are treated; `None` is the kind's default
    /// ([`propagation::default_policy`]: Background for most kinds). Recorded on the object as
    /// the `orphan` / `foregroundDeletion` finalizer for the garbage collector.
    pub propagation_policy: Option<PropagationPolicy>,
    /// Upstream's `gracePeriodSeconds`. Accepted and ignored: the store treats every kind as
    /// upstream treats kinds without graceful deletion (the object goes at once, or waits for
    /// its finalizers with `deletionGracePeriodSeconds: 0`); a pod's graceful termination
    /// belongs to the node agent.
    pub grace_period_seconds: Option<i64>,
}

/// What a delete did.
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteOutcome<T> {
    /// The object is gone; this is its last state (with the deletion's revision).
    Deleted(T),
    /// The object has finalizers: it now carries `deletionTimestamp` and stays until an update
    /// removes the last finalizer.
    Finalizing(T),
}

impl<T> DeleteOutcome<T> {
    /// The object, either way.
    pub fn into_inner(self) -> T {
        match self {
            DeleteOutcome::Deleted(o) | DeleteOutcome::Finalizing(o) => o,
        }
    }

    /// Maps the object.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> DeleteOutcome<U> {
        match self {
            DeleteOutcome::Deleted(o) => DeleteOutcome::Deleted(f(o)),
            DeleteOutcome::Finalizing(o) => DeleteOutcome::Finalizing(f(o)),
        }
    }
}

/// A store of Kubernetes objects with revisions and watch.
///
/// Object-safe: hold it as `Arc<dyn Store>`. Every backend (memory, durable file, etcd) gives
/// the same answers to the same calls; [`conformance`] is the executable form of that promise.
///
/// # Guarantees
/// - Writes are linearizable: each takes the next global revision, and a read after a write
///   returned sees it.
/// - A watch delivers every change after its starting revision exactly once, in revision
///   order, or ends with an error; it never silently skips.
///
/// # Caveats
/// The store applies the generic registry rules (see [`rules`]), not per-kind validation or
/// defaulting: that is the API layer's job.
#[async_trait]
pub trait Store: Send + Sync + fmt::Debug {
    /// Creates an object and returns it as stored.
    ///
    /// Sets `uid`, `creationTimestamp`, `generation: 1` and `resourceVersion`; a name is
    /// generated from `generateName` when `name` is empty.
    ///
    /// # Errors
    /// AlreadyExists; Invalid (no name, namespace missing for a namespaced kind or set on a
    /// cluster-scoped one); BadRequest when `resourceVersion` is set.
    async fn create(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError>;

    /// Reads the latest state of one object.
    ///
    /// # Errors
    /// NotFound, in upstream's wording.
    async fn get(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError>;

    /// Lists objects, optionally filtered, paginated and read at a revision.
    ///
    /// # Errors
    /// BadRequest for bad selectors, tokens or parameter combinations; Expired when the
    /// requested revision or the continue token's revision was compacted; TooLargeResourceVersion.
    async fn list(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<ObjectPage, StoreError>;

    /// Replaces an object (`scope` chooses main resource, status, or both).
    ///
    /// A non-empty `metadata.resourceVersion` is a precondition. An update that changes
    /// nothing returns the stored object without a new revision. Removing the last finalizer
    /// of an object being deleted deletes it.
    ///
    /// # Errors
    /// NotFound; Conflict; Invalid (immutable fields, new finalizers while deleting).
    async fn update(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError>;

    /// Writes only `status` (the status subresource): `update(…, WriteScope::Status)`.
    ///
    /// # Errors
    /// As [`Store::update`].
    async fn update_status(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.update(resource, object, WriteScope::Status).await
    }

    /// Applies a JSON merge patch (RFC 7386) or JSON patch (RFC 6902) to the latest state.
    ///
    /// The default implementation reads, patches and updates with the read revision as a
    /// precondition, retrying on conflict unless the caller gave a precondition (upstream's
    /// patch loop); backends may do it atomically instead.
    ///
    /// # Errors
    /// NotFound; Conflict; PatchFailed (a JSON patch operation failed); BadRequest (the
    /// patched document is not an object of this shape).
    async fn patch(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        patch: &Patch,
        options: &PatchOptions,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        rules::patch_with_retries(self, resource, namespace, name, patch, options).await
    }

    /// Deletes an object, or marks it deleting when it has finalizers.
    ///
    /// # Errors
    /// NotFound; Conflict when a uid or resourceVersion precondition fails.
    async fn delete(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError>;

    /// Watches a kind from a revision, or from a state sent first (see [`WatchOptions`]).
    ///
    /// # Errors
    /// Expired when the revision was compacted; BadRequest for bad selectors or revisions;
    /// Invalid for option combinations the API server rejects (`sendInitialEvents` without
    /// `NotOlderThan`, a match without `sendInitialEvents`); TooLargeResourceVersion when the
    /// initial state must be newer than the store.
    /// Once started, a watcher that falls too far behind gets Expired as its last item.
    async fn watch(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError>;

    /// Watches a kind like [`Store::watch`], handing out the same events in the same order
    /// grouped into [`WatchBatch`]es: one stream item per run of available events instead of
    /// one per event. The default groups [`Store::watch`]'s stream (see [`batch::batched`]); the
    /// [`MemoryStore`] lends unfiltered watchers its history's events directly.
    ///
    /// # Errors
    /// As [`Store::watch`]; a running watch's error (Expired) comes after the events before it,
    /// as its last item.
    async fn watch_batches(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchBatchStream, StoreError> {
        Ok(batch::batched(self.watch(resource, options).await?))
    }

    /// The latest revision: 0 for an empty [`MemoryStore`] or [`DurableStore`]; etcd's own
    /// revision for the etcd backend (1 for a fresh etcd, moved by writes outside the store's
    /// prefix on a shared one).
    async fn current_revision(&self) -> Result<u64, StoreError>;

    /// Forgets history up to and including `revision` (clamped to the current revision):
    /// reads and watches at older revisions fail with Expired from now on. Returns the
    /// revision compacted to.
    ///
    /// # Errors
    /// Backend failures only.
    async fn compact(&self, revision: u64) -> Result<u64, StoreError>;

    /// Operation counts, latencies and watch queue depth.
    fn metrics(&self) -> StoreMetrics;
}
