//! The ReplicaSet controller: keeps `spec.replicas` pods matching the selector, as upstream's
//! `ReplicaSetController`.
//!
//! Each reconcile: claim pods (adopt matching orphans, release owned pods that stopped
//! matching), then — only when the expectations of earlier writes are satisfied — create the
//! missing pods (`generateName: <rs-name>-`, in slow-start batches of 1, 2, 4, …, at most
//! 500 per reconcile) or delete the surplus in upstream's order ([`crate::pod::sort_for_deletion`]),
//! and finally write `status` (replicas, fullyLabeledReplicas, readyReplicas,
//! availableReplicas, observedGeneration).

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use kybern_core::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use kybern_core::api::core::v1::Pod;
use kybern_core::api::meta::v1::OwnerReference;
use kybern_core::labels::label_selector_as_selector;
use kybern_core::{LabelMap, Resource, Time, owner_reference};
use kybern_reconciler::runtime::controller::Action;
use kybern_reconciler::runtime::reflector::{CacheConfig, Change, INDEX_NAMESPACE, Reader};
use kybern_reconciler::runtime::{ObjectKey, watcher};
use kybern_reconciler::store::{Patch, PatchOptions};
use kybern_reconciler::{Api, DeleteParams, StoreError};
use serde_json::json;

use crate::ControllerManager;
use crate::expectations::Expectations;
use crate::pod::{is_active, is_available, is_ready, sort_for_deletion};

/// Upstream's cap on creations/deletions per reconcile (`BurstReplicas`).
pub const BURST_REPLICAS: usize = 500;

/// Index of pods that have no controller, by namespace (adoption candidates).
pub const INDEX_ORPHAN_NAMESPACE: &str = "orphan-namespace";

/// Why a ReplicaSet reconcile failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A store call failed.
    #[error("replicaset {key}: {source}")]
    Store {
        /// The ReplicaSet.
        key: ObjectKey,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// The ReplicaSet has no uid or name (never stored).
    #[error("replicaset {key}: {source}")]
    Owner {
        /// The ReplicaSet.
        key: ObjectKey,
        /// Why.
        #[source]
        source: kybern_core::OwnerError,
    },
}

/// The pod cache configuration the ReplicaSet and Deployment controllers rely on: namespace,
/// owner uid and orphan indexes.
pub fn pod_cache_config() -> CacheConfig<Pod> {
    CacheConfig::default().with_index(INDEX_ORPHAN_NAMESPACE, |p: &Pod| {
        if p.metadata.controller_ref().is_none() {
            vec![p.metadata.namespace.clone().unwrap_or_default()]
        } else {
            Vec::new()
        }
    })
}

/// The pods reader shared by the built-in controllers.
pub fn pods_reader(m: &ControllerManager) -> Reader<Pod> {
    m.informers
        .informer_with(
            &Api::<Pod>::all(m.store.clone()),
            &watcher::Config::default(),
            pod_cache_config,
        )
        .reader()
}

/// What a reconcile needs.
#[derive(Debug)]
pub struct Context {
    pods: Api<Pod>,
    cache: Reader<Pod>,
    expectations: Arc<Expectations>,
    manager: ControllerManager,
}

fn rs_key_of_pod(pod: &Pod) -> Option<ObjectKey> {
    pod.metadata
        .controller_ref()
        .filter(|r| r.kind == "ReplicaSet" && r.api_version == "apps/v1")
        .map(|r| ObjectKey::new(pod.metadata.namespace.as_deref(), &r.name))
}

/// Runs the ReplicaSet controller until the manager's shutdown.
pub async fn run(m: ControllerManager) {
    let cache = pods_reader(&m);
    let expectations = Arc::new(Expectations::new());
    let exp = Arc::clone(&expectations);
    let rs_reader = m
        .informers
        .informer(
            &Api::<ReplicaSet>::all(m.store.clone()),
            &watcher::Config::default(),
        )
        .reader();
    let ctx = Arc::new(Context {
        pods: Api::all(m.store.clone()),
        cache,
        expectations,
        manager: m.clone(),
    });
    m.controller::<ReplicaSet>("replicaset")
        .watches_changes(
            Api::<Pod>::all(m.store.clone()),
            watcher::Config::default(),
            move |change: &Change<Pod>| match change {
                Change::Applied { old, new } => {
                    if let Some(key) = rs_key_of_pod(new) {
                        if old.is_none() {
                            exp.creation_observed(&key);
                        }
                        let mut keys = vec![key];
                        if let Some(old_key) = old.as_deref().and_then(rs_key_of_pod)
                            && old_key != keys[0]
                        {
                            keys.push(old_key);
                        }
                        keys
                    } else {
                        // An orphan: every ReplicaSet in its namespace whose selector matches.
                        matching_replicasets(&rs_reader, new)
                    }
                }
                Change::Deleted(pod) => match rs_key_of_pod(pod) {
                    Some(key) => {
                        exp.deletion_observed(&key);
                        vec![key]
                    }
                    None => Vec::new(),
                },
            },
        )
        .run(reconcile, |_, _, _| Action::requeue_with_backoff(), ctx)
        .await;
}

fn matching_replicasets(rs_reader: &Reader<ReplicaSet>, pod: &Pod) -> Vec<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    rs_reader
        .by_index(INDEX_NAMESPACE, ns)
        .iter()
        .filter(|rs| {
            rs.spec.as_ref().is_some_and(|s| {
                label_selector_as_selector(Some(&s.selector))
                    .is_ok_and(|sel| !sel.is_empty() && sel.matches(&pod.metadata.labels))
            })
        })
        .map(|rs| ObjectKey::of(rs.as_ref()))
        .collect()
}

fn store_err(key: &ObjectKey) -> impl Fn(StoreError) -> Error + '_ {
    move |source| Error::Store {
        key: key.clone(),
        source,
    }
}

async fn set_owner_refs(
    api: &Api<Pod>,
    pod: &Pod,
    refs: Vec<OwnerReference>,
) -> Result<Pod, StoreError> {
    let ns_api: Api<Pod> = Api::namespaced(
        api.store().clone(),
        pod.metadata.namespace.as_deref().unwrap_or(""),
    );
    let options = PatchOptions {
        resource_version: pod.metadata.resource_version.clone(),
        ..PatchOptions::default()
    };
    let patch = Patch::Merge(json!({ "metadata": { "ownerReferences": refs } }));
    ns_api
        .patch_with(pod.metadata.name.as_deref().unwrap_or(""), &patch, &options)
        .await
}

/// Builds a pod from a ReplicaSet's template (`generateName: <rs-name>-`, controller ref set).
///
/// # Errors
/// [`kybern_core::OwnerError`] when the ReplicaSet was never stored.
pub fn pod_from_template(rs: &ReplicaSet) -> Result<Pod, kybern_core::OwnerError> {
    let template = rs
        .spec
        .as_ref()
        .and_then(|s| s.template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut pod = Pod::default();
    pod.metadata.generate_name = Some(format!("{}-", rs.name()));
    pod.metadata.namespace = rs.metadata.namespace.clone();
    pod.metadata.labels = meta.labels;
    pod.metadata.annotations = meta.annotations;
    pod.metadata.finalizers = meta.finalizers;
    pod.metadata.owner_references = vec![owner_reference(rs, &(), true, true)?];
    pod.spec = template.spec;
    Ok(pod)
}

fn labels_superset(have: &LabelMap, want: &LabelMap) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

/// The status upstream's `calculateStatus` computes from the owned active pods.
pub fn calculate_status(rs: &ReplicaSet, pods: &[Arc<Pod>], now: Time) -> ReplicaSetStatus {
    let spec = rs.spec.as_ref();
    let template_labels = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.metadata.as_ref())
        .map(|m| m.labels.clone())
        .unwrap_or_default();
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let count = |f: &dyn Fn(&Pod) -> bool| {
        i32::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX)
    };
    let mut status = rs.status.clone().unwrap_or_default();
    status.replicas = i32::try_from(pods.len()).unwrap_or(i32::MAX);
    status.fully_labeled_replicas = Some(count(&|p| {
        labels_superset(&p.metadata.labels, &template_labels)
    }));
    status.ready_replicas = Some(count(&|p| is_ready(p)));
    status.available_replicas = Some(count(&|p| is_available(p, min_ready, now)));
    status.observed_generation = rs.metadata.generation;
    status
}

async fn reconcile(rs: Arc<ReplicaSet>, ctx: Arc<Context>) -> Result<Action, Error> {
    let key = ObjectKey::of(rs.as_ref());
    let err = store_err(&key);
    let ns = rs.namespace().unwrap_or("").to_owned();
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let Some(spec) = rs.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    let Ok(selector) = label_selector_as_selector(Some(&spec.selector)) else {
        tracing::warn!(replicaset = %key, "invalid selector");
        return Ok(Action::await_change());
    };
    let deleting = rs.metadata.is_being_deleted();
    let my_ref = owner_reference(rs.as_ref(), &(), true, true).map_err(|source| Error::Owner {
        key: key.clone(),
        source,
    })?;

    // Claim: owned pods that still match; release those that do not; adopt matching orphans.
    let mut owned: Vec<Arc<Pod>> = Vec::new();
    for pod in ctx.cache.owned_by(&uid) {
        if !pod.metadata.is_controlled_by(&uid) {
            continue;
        }
        if deleting || selector.matches(&pod.metadata.labels) {
            owned.push(pod);
        } else {
            let refs: Vec<OwnerReference> = pod
                .metadata
                .owner_references
                .iter()
                .filter(|r| r.uid != uid)
                .cloned()
                .collect();
            match set_owner_refs(&ctx.pods, &pod, refs).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() || e.is_conflict() => {}
                Err(e) => return Err(err(e)),
            }
        }
    }
    if !deleting && !selector.is_empty() {
        // The orphan index exists when this controller created the shared pod cache; another
        // component may have created it first with the default indexes.
        let orphans = if ctx.cache.has_index(INDEX_ORPHAN_NAMESPACE) {
            ctx.cache.by_index(INDEX_ORPHAN_NAMESPACE, &ns)
        } else {
            let mut v = ctx.cache.in_namespace(&ns);
            v.retain(|p| p.metadata.controller_ref().is_none());
            v
        };
        for pod in orphans {
            if pod.metadata.is_being_deleted() || !selector.matches(&pod.metadata.labels) {
                continue;
            }
            let mut refs = pod.metadata.owner_references.clone();
            refs.push(my_ref.clone());
            match set_owner_refs(&ctx.pods, &pod, refs).await {
                Ok(adopted) => owned.push(Arc::new(adopted)),
                Err(e) if e.is_not_found() || e.is_conflict() => {}
                Err(e) => return Err(err(e)),
            }
        }
    }
    let active: Vec<Arc<Pod>> = owned.iter().filter(|p| is_active(p)).cloned().collect();

    // Manage replicas, unless earlier writes are still on their way to the cache.
    let mut manage_error = None;
    if !deleting && ctx.expectations.satisfied(&key) {
        let want = usize::try_from(spec.replicas.unwrap_or(1).max(0)).unwrap_or(0);
        if active.len() < want {
            let n = (want - active.len()).min(BURST_REPLICAS);
            ctx.expectations
                .expect(&key, i64::try_from(n).unwrap_or(0), 0);
            let pod = pod_from_template(&rs).map_err(|source| Error::Owner {
                key: key.clone(),
                source,
            })?;
            let api: Api<Pod> = Api::namespaced(ctx.pods.store().clone(), &ns);
            let mut remaining = n;
            let mut batch = 1;
            while remaining > 0 {
                let size = batch.min(remaining);
                let results = join_all((0..size).map(|_| api.create(&pod))).await;
                let failed = results.iter().filter(|r| r.is_err()).count();
                remaining -= size;
                if failed > 0 {
                    for _ in 0..failed + remaining {
                        ctx.expectations.creation_observed(&key);
                    }
                    manage_error = results.into_iter().find_map(Result::err);
                    break;
                }
                batch *= 2;
            }
        } else if active.len() > want {
            let n = (active.len() - want).min(BURST_REPLICAS);
            let mut victims = active.clone();
            sort_for_deletion(&mut victims, &owned);
            victims.truncate(n);
            ctx.expectations
                .expect(&key, 0, i64::try_from(n).unwrap_or(0));
            let results = join_all(victims.iter().map(|p| {
                let api: Api<Pod> = Api::namespaced(ctx.pods.store().clone(), &ns);
                let name = p.metadata.name.clone().unwrap_or_default();
                let uid = p.metadata.uid.clone().unwrap_or_default();
                async move { api.delete(&name, &DeleteParams::with_uid(&uid)).await }
            }))
            .await;
            for r in results {
                if let Err(e) = r {
                    ctx.expectations.deletion_observed(&key);
                    if !e.is_not_found() {
                        manage_error = Some(e);
                    }
                }
            }
        }
    }

    // Status.
    let now = Time(ctx.manager.clock.wall());
    let status = calculate_status(&rs, &active, now);
    if rs.status.as_ref() != Some(&status) {
        let mut updated = (*rs).clone();
        updated.status = Some(status.clone());
        let api: Api<ReplicaSet> = Api::namespaced(ctx.manager.store.clone(), &ns);
        match api.update_status(&updated).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() || e.is_conflict() => {}
            Err(e) => return Err(err(e)),
        }
    }
    if let Some(e) = manage_error {
        return Err(err(e));
    }
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    if min_ready > 0 && status.ready_replicas != status.available_replicas {
        return Ok(Action::requeue(Duration::from_secs(
            u64::try_from(min_ready).unwrap_or(0),
        )));
    }
    Ok(Action::await_change())
}
