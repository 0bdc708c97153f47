//! The ClusterRole aggregation controller on the Kybern runtime (feature `controller`): keeps
//! the `rules` of every ClusterRole with an `aggregationRule` equal to the union of the rules of
//! the ClusterRoles its selectors match, as upstream's `clusterrole-aggregation-controller` does.
//!
//! The computation is [`crate::aggregate_one`] (pure, shared with [`crate::bootstrap`]); this
//! module only wires it to a `Controller<ClusterRole>`: any ClusterRole change re-queues every
//! aggregating ClusterRole (a new `aggregate-to-view` role must reach `view`, `edit` and
//! `admin`), and a reconcile writes `rules` only when they differ (level-triggered, idempotent).

use std::sync::Arc;

use kybern_core::api::rbac::v1::ClusterRole;
use kybern_reconciler::runtime::controller::key_of;
use kybern_reconciler::runtime::{Action, Controller, Reader, SharedInformers, Shutdown, watcher};
use kybern_reconciler::store::Patch;
use kybern_reconciler::{Api, StoreError};

use crate::aggregation::aggregate_one;

/// What the reconcile needs: the ClusterRole API and the shared cache of every ClusterRole.
struct Context {
    api: Api<ClusterRole>,
    roles: Reader<ClusterRole>,
}

/// Runs the aggregation controller until `shutdown` fires.
///
/// `informers` lets it share the ClusterRole watch and cache with other controllers in the same
/// process (pass a fresh `SharedInformers::new()` when there are none).
pub async fn run(api: Api<ClusterRole>, informers: &SharedInformers, shutdown: Shutdown) {
    let config = watcher::Config::default();
    let roles = informers.informer(&api, &config).reader();
    let mapper_roles = roles.clone();
    let ctx = Arc::new(Context {
        api: api.clone(),
        roles,
    });
    Controller::new(api.clone(), config.clone())
        .name("clusterrole-aggregation-controller")
        .shared_informers(informers)
        .graceful_shutdown_on(shutdown)
        // Any ClusterRole change may change what an aggregating role selects.
        .watches(api, config, move |_changed: &ClusterRole| {
            mapper_roles
                .state()
                .iter()
                .filter(|r| r.aggregation_rule.is_some())
                .map(|r| key_of(r.as_ref()))
                .collect()
        })
        .run(reconcile, |_, _, _| Action::requeue_with_backoff(), ctx)
        .await;
}

async fn reconcile(role: Arc<ClusterRole>, ctx: Arc<Context>) -> Result<Action, StoreError> {
    if role.aggregation_rule.is_none() {
        return Ok(Action::await_change());
    }
    let all: Vec<ClusterRole> = ctx.roles.state().iter().map(|r| (**r).clone()).collect();
    // An invalid selector leaves the role as it is (upstream logs and skips it).
    let Some(rules) = aggregate_one(&role, &all) else {
        return Ok(Action::await_change());
    };
    if rules != role.rules {
        let name = role.metadata.name.as_deref().unwrap_or("");
        tracing::info!(
            clusterrole = name,
            rules = rules.len(),
            "aggregating ClusterRole rules"
        );
        let patch = serde_json::json!({ "rules": rules });
        ctx.api.patch(name, &Patch::Merge(patch)).await?;
    }
    Ok(Action::await_change())
}

/// Keeps an [`RbacAuthorizer`](crate::RbacAuthorizer) current from the store: it subscribes to
/// the shared caches of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings and applies
/// every change incrementally ([`RbacAuthorizer::apply`](crate::RbacAuthorizer::apply)) — the
/// index is never rebuilt. Returns once all four caches have synced (the authorizer then
/// reflects the store); the feeding continues in background tasks until `shutdown` fires.
pub async fn feed_authorizer(
    authorizer: Arc<std::sync::RwLock<crate::RbacAuthorizer>>,
    store: Arc<dyn kybern_reconciler::Store>,
    informers: &SharedInformers,
    shutdown: Shutdown,
) {
    use kybern_core::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
    let config = watcher::Config::default();
    let roles = informers
        .informer(&Api::<Role>::all(store.clone()), &config)
        .reader();
    let cluster_roles = informers
        .informer(&Api::<ClusterRole>::all(store.clone()), &config)
        .reader();
    let bindings = informers
        .informer(&Api::<RoleBinding>::all(store.clone()), &config)
        .reader();
    let cluster_bindings = informers
        .informer(&Api::<ClusterRoleBinding>::all(store), &config)
        .reader();
    spawn_feed(
        &roles,
        authorizer.clone(),
        shutdown.clone(),
        crate::RbacObject::Role,
    );
    spawn_feed(
        &cluster_roles,
        authorizer.clone(),
        shutdown.clone(),
        crate::RbacObject::ClusterRole,
    );
    spawn_feed(
        &bindings,
        authorizer.clone(),
        shutdown.clone(),
        crate::RbacObject::RoleBinding,
    );
    spawn_feed(
        &cluster_bindings,
        authorizer,
        shutdown,
        crate::RbacObject::ClusterRoleBinding,
    );
    roles.wait_until_ready().await;
    cluster_roles.wait_until_ready().await;
    bindings.wait_until_ready().await;
    cluster_bindings.wait_until_ready().await;
}

fn spawn_feed<K>(
    reader: &Reader<K>,
    authorizer: Arc<std::sync::RwLock<crate::RbacAuthorizer>>,
    shutdown: Shutdown,
    wrap: fn(K) -> crate::RbacObject,
) where
    K: kybern_reconciler::runtime::Object + Clone,
{
    use kybern_reconciler::runtime::reflector::Change;
    let mut changes = reader.subscribe();
    tokio::spawn(async move {
        loop {
            let change = tokio::select! {
                c = changes.recv() => match c { Some(c) => c, None => break },
                () = shutdown.wait() => break,
            };
            let event = match change {
                Change::Applied { new, .. } => crate::RbacEvent::Applied(wrap((*new).clone())),
                Change::Deleted(old) => crate::RbacEvent::Deleted(wrap((*old).clone())),
            };
            match authorizer.write() {
                Ok(mut a) => a.apply(event),
                Err(poisoned) => poisoned.into_inner().apply(event),
            }
        }
    });
}
