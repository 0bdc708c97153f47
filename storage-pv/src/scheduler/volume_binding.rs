//! The VolumeBinding plugin (PreFilter, Filter, Reserve, Unreserve, PreBind) over a
//! [`VolumeCache`], wrapping [`crate::scheduling::volume_binding`]'s pure decisions.
//!
//! - PreFilter sorts the pod's claims (bound / WaitForFirstConsumer / refused, upstream's
//!   messages) and, as upstream's `GetEligibleNodes`, narrows the nodes to those named by
//!   the bound volumes' `kubernetes.io/hostname In [...]` node affinity (hostname label
//!   values taken as node names, upstream's assumption). A pod without claims skips the
//!   plugin.
//! - Filter checks bound volumes' node affinity and finds, per node, a volume for each
//!   unbound claim or a class that can provision there (`UnschedulableAndUnresolvable`
//!   with upstream's reasons otherwise). Volumes pinned to one node by hostname are looked
//!   up by the node's hostname in [`crate::matching::VolumeIndex`], not scanned.
//! - Reserve assumes the node's decision in the cache; Unreserve restores it.
//! - PreBind is the only step that writes, as upstream's `BindPodVolumes`: the chosen
//!   volumes get the claim in `spec.claimRef` (bound by controller), claims to provision get
//!   `volume.kubernetes.io/selected-node`; then it waits (up to the bind timeout) until the
//!   PV controller has bound every claim of the pod.
//!
//! Deliberate limits: claim, volume and class changes do not reach the scheduler's queue
//! (its intake watches pods and nodes only), so the plugin registers for every event; a pod
//! it rejected is retried on any pod or node event or at the periodic flush.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kybern_core::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kybern_reconciler::{Api, Store, StoreError};
use kybern_scheduler::cache::{NodeInfo, PodInfo, Snapshot};
use kybern_scheduler::framework::{
    ActionType, ClusterEventWithHint, Code, CycleState, EventResource, FilterPlugin, Plugin,
    PreBindPlugin, PreFilterPlugin, PreFilterResult, ReservePlugin, Status,
};

use super::volume_cache::VolumeCache;
use crate::annotations::BIND_COMPLETED;
use crate::controller::{Action, StorageState};
use crate::node_affinity::{check_volume_node_affinity, pinned_node_names};
use crate::scheduling::volume_binding::{
    ERR_REASON_NODE_CONFLICT, ERR_REASON_PV_NOT_EXIST, PodClaims, PodVolumes, filter, pre_filter,
    prebind,
};

/// Upstream's plugin name.
pub const NAME: &str = "VolumeBinding";

/// Upstream's default bind timeout (`bindTimeoutSeconds`: 600).
pub const DEFAULT_BIND_TIMEOUT: Duration = Duration::from_secs(600);

/// The VolumeBinding plugin (see the module docs).
pub struct VolumeBinding {
    cache: VolumeCache,
    store: Arc<dyn Store>,
    bind_timeout: Duration,
}

impl std::fmt::Debug for VolumeBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VolumeBinding")
            .field("bind_timeout", &self.bind_timeout)
            .finish_non_exhaustive()
    }
}

impl VolumeBinding {
    /// The plugin reading `cache` and writing (PreBind only) through `store`.
    pub fn new(cache: VolumeCache, store: Arc<dyn Store>) -> Arc<Self> {
        Self::with_bind_timeout(cache, store, DEFAULT_BIND_TIMEOUT)
    }

    /// As [`VolumeBinding::new`], waiting at most `bind_timeout` in PreBind.
    pub fn with_bind_timeout(
        cache: VolumeCache,
        store: Arc<dyn Store>,
        bind_timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(VolumeBinding {
            cache,
            store,
            bind_timeout,
        })
    }
}

/// Per-cycle state: the pod's claims, their bound volumes, the per-node decisions (Filter)
/// and the writes Reserve chose.
#[derive(Clone, Debug)]
struct BindingState {
    claims: Arc<PodClaims>,
    bound: Arc<Vec<Option<Arc<PersistentVolume>>>>,
    by_node: Arc<Mutex<HashMap<String, PodVolumes>>>,
    writes: Arc<Vec<Action>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn claim_fully_bound(state: &dyn StorageState, claim: &PersistentVolumeClaim) -> bool {
    let ns = claim.metadata.namespace.as_deref().unwrap_or("");
    let name = claim.metadata.name.as_deref().unwrap_or("");
    let Some(current) = state.claim(ns, name) else {
        return false;
    };
    let Some(vname) = current
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .filter(|v| !v.is_empty())
    else {
        return false;
    };
    current.metadata.annotations.contains_key(BIND_COMPLETED)
        && state.volume(vname).is_some_and(|pv| {
            pv.spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .is_some_and(|r| r.uid == current.metadata.uid)
        })
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &str {
        NAME
    }

    fn events_to_register(&self) -> Vec<ClusterEventWithHint> {
        vec![ClusterEventWithHint::always(
            EventResource::Wildcard,
            ActionType::ALL,
        )]
    }
}

impl PreFilterPlugin for VolumeBinding {
    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _snapshot: &Snapshot,
    ) -> (Option<PreFilterResult>, Status) {
        let cache = self.cache.read();
        let claims = match pre_filter(&*cache, pod.pod()) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(pod = %pod.display_name(), reason = %e, "VolumeBinding rejects pod");
                return (None, Status::unresolvable(e.to_string()));
            }
        };
        if claims.is_empty() {
            return (None, Status::skip());
        }
        let bound: Vec<Option<Arc<PersistentVolume>>> = claims
            .bound
            .iter()
            .map(|c| {
                let v = c.spec.as_ref().and_then(|s| s.volume_name.as_deref());
                v.and_then(|v| cache.volume_arc(v)).cloned()
            })
            .collect();
        let mut eligible: Option<BTreeSet<String>> = None;
        let mut narrow = |names: BTreeSet<String>| {
            eligible = Some(match eligible.take() {
                None => names,
                Some(e) => e.intersection(&names).cloned().collect(),
            });
        };
        for pv in bound.iter().flatten() {
            if let Some(names) = pinned_node_names(pv) {
                narrow(names);
            }
        }
        drop(cache);
        state.write(BindingState {
            claims: Arc::new(claims),
            bound: Arc::new(bound),
            by_node: Arc::default(),
            writes: Arc::default(),
        });
        (
            eligible.map(PreFilterResult::nodes),
            Status::code_only(Code::Success),
        )
    }
}

impl FilterPlugin for VolumeBinding {
    fn filter(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(st) = state.read::<BindingState>() else {
            return Status::error("VolumeBinding: no PreFilter state");
        };
        let Some(n) = node.node() else {
            return Status::error("VolumeBinding: node not found");
        };
        if st.claims.delayed.is_empty() {
            // Bound claims only: their volumes were taken in PreFilter.
            let mut reasons: Vec<Cow<'static, str>> = Vec::new();
            for pv in st.bound.iter() {
                match pv {
                    None => reasons.push(ERR_REASON_PV_NOT_EXIST.into()),
                    Some(pv) => {
                        if check_volume_node_affinity(pv, node.name(), &n.metadata.labels).is_err()
                        {
                            reasons.push(ERR_REASON_NODE_CONFLICT.into());
                        }
                    }
                }
            }
            reasons.dedup();
            if reasons.is_empty() {
                return Status::code_only(Code::Success);
            }
            return Status::with_reasons(Code::UnschedulableAndUnresolvable, reasons);
        }
        let cache = self.cache.read();
        match filter(&*cache, cache.index(), &st.claims, n) {
            Ok(volumes) => {
                drop(cache);
                lock(&st.by_node).insert(node.name().to_owned(), volumes);
                Status::code_only(Code::Success)
            }
            Err(reasons) => Status::with_reasons(
                Code::UnschedulableAndUnresolvable,
                reasons.into_iter().map(Cow::Borrowed).collect(),
            ),
        }
    }
}

impl ReservePlugin for VolumeBinding {
    fn reserve(&self, state: &mut CycleState, pod: &PodInfo, node: &str) -> Status {
        let Some(st) = state.read_mut::<BindingState>() else {
            return Status::code_only(Code::Success);
        };
        let Some(volumes) = lock(&st.by_node).remove(node) else {
            return Status::code_only(Code::Success);
        };
        let writes = prebind(&*self.cache.read(), &volumes, node);
        for w in &writes {
            match w {
                Action::UpdateVolume(v) => self.cache.assume_volume((**v).clone()),
                Action::UpdateClaim(c) => self.cache.assume_claim((**c).clone()),
                _ => {}
            }
        }
        tracing::debug!(
            pod = %pod.display_name(),
            node,
            writes = writes.len(),
            "VolumeBinding assumed volumes"
        );
        st.writes = Arc::new(writes);
        Status::code_only(Code::Success)
    }

    fn unreserve(&self, state: &mut CycleState, _pod: &PodInfo, _node: &str) {
        let Some(st) = state.read::<BindingState>() else {
            return;
        };
        for w in st.writes.iter() {
            match w {
                Action::UpdateVolume(v) => {
                    self.cache
                        .restore_volume(v.metadata.name.as_deref().unwrap_or(""));
                }
                Action::UpdateClaim(c) => self.cache.restore_claim(
                    c.metadata.namespace.as_deref().unwrap_or(""),
                    c.metadata.name.as_deref().unwrap_or(""),
                ),
                _ => {}
            }
        }
    }
}

impl VolumeBinding {
    async fn write(&self, action: &Action) -> Result<(), StoreError> {
        match action {
            Action::UpdateVolume(v) => {
                Api::<PersistentVolume>::all(self.store.clone())
                    .update(v)
                    .await?;
            }
            Action::UpdateClaim(c) => {
                let ns = c.metadata.namespace.as_deref().unwrap_or("");
                Api::<PersistentVolumeClaim>::namespaced(self.store.clone(), ns)
                    .update(c)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    fn all_bound(&self, claims: &PodClaims) -> bool {
        let cache = self.cache.read();
        claims
            .bound
            .iter()
            .chain(claims.delayed.iter())
            .all(|c| claim_fully_bound(&*cache, c))
    }
}

#[async_trait]
impl PreBindPlugin for VolumeBinding {
    async fn pre_bind(&self, state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        let Some(st) = state.read::<BindingState>() else {
            return Status::code_only(Code::Success);
        };
        if st.claims.delayed.is_empty() {
            return Status::code_only(Code::Success);
        }
        let keys: Vec<(String, String)> = st
            .claims
            .bound
            .iter()
            .chain(st.claims.delayed.iter())
            .map(|c| {
                (
                    c.metadata.namespace.clone().unwrap_or_default(),
                    c.metadata.name.clone().unwrap_or_default(),
                )
            })
            .collect();
        // Registered before the writes, so no change is missed.
        let waiters: Vec<_> = keys
            .iter()
            .map(|(ns, n)| self.cache.claim_waiter(ns, n))
            .collect();
        let written = async {
            for w in st.writes.iter() {
                self.write(w).await?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        tracing::debug!(pod = %pod.display_name(), node, "VolumeBinding waits for the PV controller");
        let claims = st.claims.clone();
        let outcome = match written {
            Err(e) => Err(Status::error(format!("binding volumes: {e}"))),
            Ok(()) => {
                let wait = async {
                    loop {
                        let mut notified: Vec<_> =
                            waiters.iter().map(|w| Box::pin(w.notified())).collect();
                        for n in &mut notified {
                            n.as_mut().enable();
                        }
                        if self.all_bound(&claims) {
                            return true;
                        }
                        futures::future::select_all(notified).await;
                    }
                };
                Ok(tokio::time::timeout(self.bind_timeout, wait).await)
            }
        };
        for ((ns, n), w) in keys.iter().zip(waiters) {
            self.cache.release_claim_waiter(ns, n, w);
        }
        let outcome = match outcome {
            Err(st) => return st,
            Ok(o) => o,
        };
        match outcome {
            Ok(_) => Status::code_only(Code::Success),
            Err(_) => Status::error("binding volumes: context deadline exceeded"),
        }
    }
}
