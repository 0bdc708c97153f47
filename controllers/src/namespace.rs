//! Namespace lifecycle: creates the initial namespaces and empties a namespace that is
//! being deleted before letting it go, as upstream's namespace controller.
//!
//! - At start: `default`, `kube-system`, `kube-public` and `kube-node-lease` are created if
//!   missing.
//! - Every live namespace gets `spec.finalizers: [kubernetes]` and `status.phase: Active`
//!   (upstream's registry sets the finalizer at create; here the controller adds it).
//! - Deleting a namespace is the store's namespace rule (as upstream's namespace registry):
//!   the first delete sets `deletionTimestamp` and `status.phase: Terminating` and keeps the
//!   namespace while `spec.finalizers` is non-empty.
//! - For a terminating namespace, every namespaced object of every known kind in it is
//!   deleted; once none is left, `kubernetes` is removed from `spec.finalizers` (upstream does
//!   it through the `finalize` subresource), and the store deletes the namespace when no
//!   finalizer is left. A namespace that never had the finalizer is deleted again instead.

use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::core::v1::{Namespace, NamespaceSpec, NamespaceStatus};
use kybern_core::registry::Registry;
use kybern_core::{ApiResource, DynamicObject};
use kybern_reconciler::runtime::controller::Action;
use kybern_reconciler::store::{DeleteOptions, ListOptions, Patch, PatchOptions};
use kybern_reconciler::{Api, DeleteParams, Store, StoreError};
use serde_json::json;

use crate::ControllerManager;

/// The finalizer of namespace content deletion.
pub const KUBERNETES_FINALIZER: &str = "kubernetes";

/// The namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// How often a terminating namespace is checked while its content goes away.
const RECHECK: Duration = Duration::from_secs(1);

struct Context {
    store: Arc<dyn Store>,
    api: Api<Namespace>,
    kinds: Vec<ApiResource>,
}

/// Creates the initial namespaces that are missing.
///
/// # Errors
/// Store errors other than AlreadyExists.
pub async fn create_initial(store: &Arc<dyn Store>) -> Result<(), StoreError> {
    let api: Api<Namespace> = Api::all(store.clone());
    for name in INITIAL_NAMESPACES {
        let mut ns = Namespace::default();
        ns.metadata.name = Some(name.to_owned());
        match api.create(&ns).await {
            Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs the namespace controller until the manager's shutdown, deleting the namespaced kinds
/// of [`Registry::builtin`].
pub async fn run(m: ControllerManager) {
    run_with(m, &Registry::builtin()).await;
}

/// Runs the namespace controller, deleting every namespaced kind `registry` knows.
pub async fn run_with(m: ControllerManager, registry: &Registry) {
    if let Err(e) = create_initial(&m.store).await {
        tracing::warn!(error = %e, "creating the initial namespaces failed");
    }
    let mut kinds: Vec<ApiResource> = registry
        .resources()
        .filter(|r| {
            r.is_namespaced() && registry.is_typed(&r.gvk)
                || r.is_namespaced() && registry.removed_note(&r.gvk).is_none()
        })
        .cloned()
        .collect();
    kinds.sort_by(|a, b| {
        (a.gvk.group.as_ref(), a.plural.as_ref()).cmp(&(b.gvk.group.as_ref(), b.plural.as_ref()))
    });
    kinds.dedup_by(|a, b| a.gvk.group == b.gvk.group && a.plural == b.plural);
    let ctx = Arc::new(Context {
        store: m.store.clone(),
        api: Api::all(m.store.clone()),
        kinds,
    });
    m.controller::<Namespace>("namespace")
        .run(reconcile, |_, _, _| Action::requeue_with_backoff(), ctx)
        .await;
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Context>) -> Result<Action, StoreError> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if !ns.metadata.is_being_deleted() {
        let spec_ok = ns
            .spec
            .as_ref()
            .is_some_and(|s| s.finalizers.iter().any(|f| f == KUBERNETES_FINALIZER));
        if !spec_ok {
            let mut updated = (*ns).clone();
            updated
                .spec
                .get_or_insert_with(NamespaceSpec::default)
                .finalizers
                .push(KUBERNETES_FINALIZER.to_owned());
            ctx.api.update(&updated).await?;
            return Ok(Action::await_change());
        }
        if ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Active") {
            let mut updated = (*ns).clone();
            updated
                .status
                .get_or_insert_with(NamespaceStatus::default)
                .phase = Some("Active".into());
            ctx.api.update_status(&updated).await?;
        }
        return Ok(Action::await_change());
    }
    if ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating") {
        let mut updated = (*ns).clone();
        updated
            .status
            .get_or_insert_with(NamespaceStatus::default)
            .phase = Some("Terminating".into());
        ctx.api.update_status(&updated).await?;
    }
    // Delete the content.
    let mut remaining = 0usize;
    for kind in &ctx.kinds {
        let options = ListOptions {
            namespace: Some(name.clone()),
            ..ListOptions::default()
        };
        let page = match ctx.store.list(kind, &options).await {
            Ok(p) => p,
            Err(e) => return Err(e),
        };
        for obj in page.items {
            remaining += 1;
            if obj.metadata.is_being_deleted() {
                continue;
            }
            delete_one(&ctx.store, kind, &obj).await?;
        }
    }
    if remaining > 0 {
        return Ok(Action::requeue(RECHECK));
    }
    // Empty: release the namespace.
    let spec_finalizers = ns
        .spec
        .as_ref()
        .map(|s| s.finalizers.as_slice())
        .unwrap_or(&[]);
    if !spec_finalizers.iter().any(|f| f == KUBERNETES_FINALIZER) {
        // Nothing of ours to remove (created and deleted before we added it): a second delete
        // removes a namespace without spec finalizers.
        let uid = ns.metadata.uid.clone().unwrap_or_default();
        return match ctx.api.delete(&name, &DeleteParams::with_uid(&uid)).await {
            Ok(_) => Ok(Action::await_change()),
            Err(e) if e.is_not_found() || e.is_conflict() => Ok(Action::await_change()),
            Err(e) => Err(e),
        };
    }
    let rest: Vec<&String> = spec_finalizers
        .iter()
        .filter(|f| *f != KUBERNETES_FINALIZER)
        .collect();
    let options = PatchOptions {
        resource_version: ns.metadata.resource_version.clone(),
        ..PatchOptions::default()
    };
    let patch = Patch::Merge(json!({ "spec": { "finalizers": rest } }));
    tracing::debug!(namespace = %name, "namespace is empty: removing the kubernetes finalizer");
    match ctx.api.patch_with(&name, &patch, &options).await {
        Ok(_) => Ok(Action::await_change()),
        Err(e) if e.is_not_found() => Ok(Action::await_change()),
        Err(e) => Err(e),
    }
}

async fn delete_one(
    store: &Arc<dyn Store>,
    kind: &ApiResource,
    obj: &DynamicObject,
) -> Result<(), StoreError> {
    match store
        .delete(
            kind,
            obj.metadata.namespace.as_deref(),
            obj.metadata.name.as_deref().unwrap_or(""),
            &DeleteOptions::default(),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}
