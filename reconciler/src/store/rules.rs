//! The registry rules every backend applies, written once: create defaults, update
//! preconditions, generation, status isolation, immutable fields, finalizers and graceful
//! deletion, no-op detection, and the patch retry loop.
//!
//! These mirror upstream's `rest.BeforeCreate`/`BeforeUpdate`, `ValidateObjectMeta(Update)`,
//! the registry store's deletion path (`markAsDeleting`, `ShouldDeleteDuringUpdate`) and the
//! etcd3 store's precondition checks. A backend calls them inside its write transaction; they
//! do no IO.

use std::sync::Arc;

use kybern_core::api::meta::v1::Preconditions;
use kybern_core::validation::{ErrorList, FieldError, FieldPath};
use kybern_core::{ApiResource, DynamicObject, Time, TypeMeta};
use serde_json::Value;

use super::{
    CONFLICT_MODIFIED, DeleteOptions, Patch, PatchOptions, Store, StoreError, WriteScope, names,
    propagation,
};

/// How many times [`patch_with_retries`] re-reads after a conflict before giving up.
pub const PATCH_RETRIES: usize = 16;

/// The current time as upstream stores it (whole seconds, UTC).
pub fn now() -> Time {
    Time(jiff::Timestamp::now()).truncated()
}

/// `apiVersion`/`kind` for objects of `resource`.
pub fn type_meta(resource: &ApiResource) -> TypeMeta {
    TypeMeta {
        api_version: resource.api_version().into_owned(),
        kind: resource.kind().to_owned(),
    }
}

fn meta_path(child: &str) -> FieldPath {
    FieldPath::new("metadata").child(child)
}

/// Checks and fills an object about to be created (everything but the revision).
///
/// Sets `apiVersion`/`kind` when missing, a name from `generateName` (the caller retries with
/// a fresh suffix on AlreadyExists), a new `uid`, `creationTimestamp`, `generation: 1`, and
/// clears `deletionTimestamp`/`deletionGracePeriodSeconds`/`selfLink`.
///
/// # Errors
/// BadRequest when `resourceVersion` is set; Invalid when neither name nor generateName is
/// given, or the namespace is missing (namespaced kind) or present (cluster-scoped kind).
pub fn prepare_create(
    resource: &ApiResource,
    obj: &mut DynamicObject,
    now: Time,
) -> Result<(), StoreError> {
    if obj
        .metadata
        .resource_version
        .as_deref()
        .is_some_and(|rv| !rv.is_empty())
    {
        return Err(StoreError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let mut errs = ErrorList::new();
    let name_empty = obj.metadata.name.as_deref().unwrap_or("").is_empty();
    if name_empty {
        match obj.metadata.generate_name.as_deref() {
            Some(prefix) if !prefix.is_empty() => {
                obj.metadata.name = Some(names::generate_name(prefix));
            }
            _ => errs.push(FieldError::required(
                &meta_path("name"),
                "name or generateName is required",
            )),
        }
    }
    let ns_empty = obj.metadata.namespace.as_deref().unwrap_or("").is_empty();
    if resource.is_namespaced() && ns_empty {
        errs.push(FieldError::required(&meta_path("namespace"), ""));
    } else if !resource.is_namespaced() && !ns_empty {
        errs.push(FieldError::forbidden(
            &meta_path("namespace"),
            "not allowed on this type",
        ));
    }
    if !errs.is_empty() {
        let name = obj.metadata.name.clone().unwrap_or_default();
        return Err(StoreError::invalid(resource, &name, errs));
    }
    if !resource.is_namespaced() {
        obj.metadata.namespace = None;
    }
    if obj.types.is_none() {
        obj.types = Some(type_meta(resource));
    }
    let m = &mut obj.metadata;
    m.uid = Some(names::new_uid());
    m.creation_timestamp = Some(now);
    m.generation = Some(1);
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.self_link = None;
    Ok(())
}

/// What an update amounts to once the rules are applied.
#[derive(Debug)]
pub enum UpdatePlan {
    /// Nothing changed: return the stored object, write nothing, keep the revision.
    NoOp,
    /// Write this object (its `resourceVersion` is set by the backend).
    Write(DynamicObject),
    /// The update removed the last finalizer of an object being deleted: delete it; this is
    /// its final state.
    Delete(DynamicObject),
}

/// Whether two objects differ outside `metadata` and `status` (the "spec" in the wide sense).
pub fn spec_changed(old: &DynamicObject, new: &DynamicObject) -> bool {
    let count = |o: &DynamicObject| o.data.keys().filter(|k| *k != "status").count();
    if count(old) != count(new) {
        return true;
    }
    old.data
        .iter()
        .filter(|(k, _)| *k != "status")
        .any(|(k, v)| new.data.get(k) != Some(v))
}

/// Upstream's etcd key for an object, as it appears in precondition error messages:
/// `/registry/<resource>/<namespace>/<name>`.
pub fn registry_key(resource: &ApiResource, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("/registry/{}/{ns}/{name}", resource.plural),
        None => format!("/registry/{}/{name}", resource.plural),
    }
}

/// Checks delete preconditions (uid, resourceVersion) against the stored object.
///
/// # Errors
/// Conflict with upstream's `Precondition failed: …` message.
pub fn check_preconditions(
    resource: &ApiResource,
    current: &DynamicObject,
    pre: Option<&Preconditions>,
) -> Result<(), StoreError> {
    let Some(pre) = pre else { return Ok(()) };
    let name = current.metadata.name.as_deref().unwrap_or("");
    let key = registry_key(resource, current.metadata.namespace.as_deref(), name);
    let have_uid = current.metadata.uid.as_deref().unwrap_or("");
    if let Some(uid) = &pre.uid
        && uid != have_uid
    {
        return Err(StoreError::conflict(
            resource,
            name,
            format!(
                "StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: {uid}, UID in object meta: {have_uid}"
            ),
        ));
    }
    let have_rv = current.metadata.resource_version.as_deref().unwrap_or("");
    if let Some(rv) = &pre.resource_version
        && rv != have_rv
    {
        return Err(StoreError::conflict(
            resource,
            name,
            format!(
                "StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have_rv}"
            ),
        ));
    }
    Ok(())
}

/// The `resourceVersion` precondition of an update: a non-empty
/// `new.metadata.resourceVersion` must equal the stored one. The first rule
/// [`prepare_update`] applies; a backend may check it on its own first to know whether a
/// state can take the update at all.
///
/// # Errors
/// Conflict with upstream's "the object has been modified" message.
pub fn check_update_version(
    resource: &ApiResource,
    old: &DynamicObject,
    new: &DynamicObject,
) -> Result<(), StoreError> {
    let old_rv = old.metadata.resource_version.as_deref().unwrap_or("");
    match new.metadata.resource_version.as_deref() {
        Some(rv) if !rv.is_empty() && rv != old_rv => Err(StoreError::conflict(
            resource,
            old.metadata.name.as_deref().unwrap_or(""),
            CONFLICT_MODIFIED,
        )),
        _ => Ok(()),
    }
}

/// Applies the update rules to `new` against the stored `old`.
///
/// - A non-empty `new.metadata.resourceVersion` must equal the stored one (Conflict, upstream's
///   "the object has been modified" message).
/// - [`WriteScope::Main`] keeps the stored `status`; [`WriteScope::Status`] keeps everything
///   but `status` (the status subresource); [`WriteScope::Whole`] takes both.
/// - `uid` (when empty, taken from the stored object), `creationTimestamp`, `deletionTimestamp`
///   and `deletionGracePeriodSeconds` cannot change: a missing value is restored, a different
///   `uid` or a new `deletionTimestamp` is Invalid (`field is immutable`).
/// - `generation` is the stored one, plus one when anything outside metadata and status changed.
/// - While deleting, no finalizer may be added (Invalid, upstream's Forbidden cause); once the
///   last one is removed (for a namespace: and `spec.finalizers` is empty), the plan is
///   [`UpdatePlan::Delete`] — also for an update that changes nothing else.
/// - An update that leaves the object as stored is [`UpdatePlan::NoOp`].
///
/// # Errors
/// Conflict and Invalid as above.
pub fn prepare_update(
    resource: &ApiResource,
    old: &DynamicObject,
    mut new: DynamicObject,
    scope: WriteScope,
) -> Result<UpdatePlan, StoreError> {
    let name = old.metadata.name.as_deref().unwrap_or("");
    check_update_version(resource, old, &new)?;
    match scope {
        WriteScope::Main => match old.data.get("status") {
            Some(s) => {
                new.data.insert("status".to_owned(), s.clone());
            }
            None => {
                new.data.shift_remove("status");
            }
        },
        WriteScope::Status => {
            let status = new.data.shift_remove("status");
            let mut base = old.clone();
            match status {
                Some(s) => {
                    base.data.insert("status".to_owned(), s);
                }
                None => {
                    base.data.shift_remove("status");
                }
            }
            new = base;
        }
        WriteScope::Whole => {}
    }
    // Assign only what differs: the write path allocates nothing for fields already equal.
    if new.types != old.types {
        new.types = old.types.clone();
    }
    let mut errs = ErrorList::new();
    {
        let (o, n) = (&old.metadata, &mut new.metadata);
        if n.uid.as_deref().unwrap_or("").is_empty() {
            n.uid = o.uid.clone();
        } else if n.uid != o.uid {
            errs.push(FieldError::invalid(
                &meta_path("uid"),
                n.uid.clone().unwrap_or_default(),
                "field is immutable",
            ));
        }
        n.creation_timestamp = o.creation_timestamp;
        match (o.deletion_timestamp, n.deletion_timestamp) {
            (Some(_), _) => n.deletion_timestamp = o.deletion_timestamp,
            (None, Some(t)) => errs.push(FieldError::invalid(
                &meta_path("deletionTimestamp"),
                t.to_string(),
                "field is immutable",
            )),
            (None, None) => {}
        }
        if o.deletion_grace_period_seconds.is_some() && n.deletion_grace_period_seconds.is_none() {
            n.deletion_grace_period_seconds = o.deletion_grace_period_seconds;
        }
        if n.deletion_grace_period_seconds != o.deletion_grace_period_seconds {
            errs.push(FieldError::invalid(
                &meta_path("deletionGracePeriodSeconds"),
                n.deletion_grace_period_seconds
                    .map_or(Value::Null, Value::from),
                "field is immutable",
            ));
        }
        if o.deletion_timestamp.is_some() {
            let added: Vec<&String> = n
                .finalizers
                .iter()
                .filter(|f| !o.finalizers.contains(f))
                .collect();
            if !added.is_empty() {
                let list = added
                    .iter()
                    .map(|f| format!("{f:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                errs.push(FieldError::forbidden(
                    &meta_path("finalizers"),
                    format!(
                        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{list}}}"
                    ),
                ));
            }
        }
        n.generation = o.generation;
        if n.resource_version != o.resource_version {
            n.resource_version = o.resource_version.clone();
        }
        n.self_link = None;
    }
    if !errs.is_empty() {
        return Err(StoreError::invalid(resource, name, errs));
    }
    if scope != WriteScope::Status && spec_changed(old, &new) {
        new.metadata.generation = Some(old.metadata.generation.unwrap_or(0) + 1);
    }
    // Upstream's `ShouldDeleteDuringUpdate` runs before the no-op check: an update of an
    // object being deleted whose finalizers are all gone deletes it, even when it changes
    // nothing (a namespace also needs its `spec.finalizers` empty).
    if new.metadata.deletion_timestamp.is_some()
        && new.metadata.finalizers.is_empty()
        && !(is_namespace(resource) && has_spec_finalizers(&new))
    {
        return Ok(UpdatePlan::Delete(new));
    }
    if new == *old {
        return Ok(UpdatePlan::NoOp);
    }
    Ok(UpdatePlan::Write(new))
}

/// What a delete amounts to once the rules are applied.
#[derive(Debug)]
pub enum DeletePlan {
    /// No finalizers (after the propagation policy's): remove the object now.
    Delete,
    /// Write this object and keep it: marked for deletion (`deletionTimestamp`,
    /// `deletionGracePeriodSeconds: 0`, generation + 1) with its finalizers, or, when it was
    /// already being deleted, with the finalizers a new propagation policy asked for.
    MarkDeleting(Box<DynamicObject>),
    /// Already being deleted and nothing to change: nothing to write.
    AlreadyDeleting,
}

/// Whether `resource` is core/v1 `namespaces`, whose deletion has its own rules.
pub fn is_namespace(resource: &ApiResource) -> bool {
    resource.gvk.group.is_empty() && resource.plural == "namespaces"
}

/// Whether a namespace still has `spec.finalizers` (its content is not cleaned up yet).
fn has_spec_finalizers(obj: &DynamicObject) -> bool {
    obj.data
        .get("spec")
        .and_then(|s| s.get("finalizers"))
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

/// Applies the deletion rules (after [`check_preconditions`]), upstream's registry
/// `Store.Delete` with `deletionFinalizersForGarbageCollection`:
///
/// - The propagation policy ([`DeleteOptions::propagation_policy`], or the kind's default)
///   puts the `orphan` or `foregroundDeletion` finalizer on the object, or takes it off
///   ([`propagation::gc_finalizers`]).
/// - No finalizers left: [`DeletePlan::Delete`]. Otherwise the object is marked deleting. An
///   object already being deleted only changes when the policy changes its GC finalizers.
/// - Namespaces (upstream's namespace registry): the first delete always keeps the namespace,
///   setting `deletionTimestamp` and `status.phase: Terminating` (GC finalizers only from an
///   explicit policy); later deletes do nothing while `spec.finalizers` is non-empty, then
///   follow the rules above.
///
/// Every kind is deleted with a zero grace period here: graceful pod termination belongs to the
/// node agent and the API layer, not to the store.
pub fn prepare_delete(
    resource: &ApiResource,
    current: &DynamicObject,
    options: &DeleteOptions,
    now: Time,
) -> DeletePlan {
    let policy = options.propagation_policy;
    let deleting = current.metadata.deletion_timestamp.is_some();
    if is_namespace(resource) {
        if !deleting {
            let mut next = current.clone();
            next.metadata.deletion_timestamp = Some(now);
            let (_, finalizers) =
                propagation::namespace_gc_finalizers(&current.metadata.finalizers, policy);
            next.metadata.finalizers = finalizers;
            match next.data.get_mut("status").and_then(Value::as_object_mut) {
                Some(status) => {
                    status.insert("phase".to_owned(), Value::from("Terminating"));
                }
                None => {
                    next.data.insert(
                        "status".to_owned(),
                        serde_json::json!({ "phase": "Terminating" }),
                    );
                }
            }
            return DeletePlan::MarkDeleting(Box::new(next));
        }
        if has_spec_finalizers(current) {
            return DeletePlan::AlreadyDeleting;
        }
    }
    let (changed, finalizers) =
        propagation::gc_finalizers(resource, &current.metadata.finalizers, policy);
    if finalizers.is_empty() {
        return DeletePlan::Delete;
    }
    if deleting && !changed {
        return DeletePlan::AlreadyDeleting;
    }
    let mut next = current.clone();
    let m = &mut next.metadata;
    m.finalizers = finalizers;
    if !deleting {
        if m.generation.unwrap_or(0) > 0 {
            m.generation = Some(m.generation.unwrap_or(0) + 1);
        }
        m.deletion_timestamp = Some(now);
    }
    m.deletion_grace_period_seconds = Some(0);
    DeletePlan::MarkDeleting(Box::new(next))
}

/// The object a DELETED event and a delete response carry: the last state, at the deletion's
/// revision.
pub fn deleted_state(last: &DynamicObject, revision: u64) -> DynamicObject {
    let mut o = last.clone();
    o.metadata.resource_version = Some(revision.to_string());
    o
}

/// Upstream's patch loop over any store: read, patch, update with the read revision as a
/// precondition, and on conflict read again (unless the caller asked for a precondition, or
/// the patch itself sets `metadata.resourceVersion`).
///
/// # Errors
/// As [`Store::patch`]; Conflict after [`PATCH_RETRIES`] lost races.
pub async fn patch_with_retries<S: Store + ?Sized>(
    store: &S,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
    patch: &Patch,
    options: &PatchOptions,
) -> Result<Arc<DynamicObject>, StoreError> {
    let mut last_err = None;
    for _ in 0..PATCH_RETRIES {
        let current = store.get(resource, namespace, name).await?;
        let current_rv = current
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        if let Some(want) = options.resource_version.as_deref()
            && !want.is_empty()
            && want != current_rv
        {
            return Err(StoreError::conflict(resource, name, CONFLICT_MODIFIED));
        }
        let mut patched = patch.apply(resource, &current)?;
        check_patched_identity(resource, &current, &patched)?;
        let patch_sets_rv = patched.metadata.resource_version.as_deref() != Some(&current_rv)
            && patched
                .metadata
                .resource_version
                .as_deref()
                .is_some_and(|rv| !rv.is_empty());
        if !patch_sets_rv {
            patched.metadata.resource_version = Some(current_rv);
        }
        match store.update(resource, patched, options.scope).await {
            Err(e) if e.is_conflict() && !patch_sets_rv && options.resource_version.is_none() => {
                last_err = Some(e);
            }
            other => return other,
        }
    }
    Err(last_err.unwrap_or_else(|| StoreError::conflict(resource, name, CONFLICT_MODIFIED)))
}

/// A patch may not rename or move an object (upstream: the name/namespace in the body must
/// match the request).
///
/// # Errors
/// BadRequest in upstream's wording.
pub fn check_patched_identity(
    resource: &ApiResource,
    current: &DynamicObject,
    patched: &DynamicObject,
) -> Result<(), StoreError> {
    let _ = resource;
    if patched.metadata.name != current.metadata.name {
        return Err(StoreError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({})",
            patched.metadata.name.as_deref().unwrap_or(""),
            current.metadata.name.as_deref().unwrap_or("")
        )));
    }
    if patched.metadata.namespace != current.metadata.namespace {
        return Err(StoreError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}
