//! The EndpointSlice controller on the Kybern runtime (`Controller<Service>`): reconciles
//! Services, watches Pods (mapped to the Services whose selectors match them, through the
//! shared Service cache) and the EndpointSlices it writes.
//!
//! # Incremental path
//! Per Service the controller keeps a [`SliceIndex`] of its slices. A Pod event records the
//! pod's name as dirty for every Service that selects it (before or after the change); the
//! Service's reconcile then runs [`SliceIndex::pod_changed`] for each dirty pod (its current
//! state read from the Pod cache), so one pod's change costs one slice, not all pods.
//!
//! The full reconcile ([`super::SliceReconciler::reconcile`]) runs, and rebuilds the index,
//! when the index cannot be trusted: on the first sync of a Service, when the Service itself
//! changed (its `resourceVersion` differs from the one the index was built for), after a
//! failed write, and when a slice changed or disappeared in a way this controller did not
//! write (a slice event whose `resourceVersion` it did not produce).
//!
//! # Deviations from upstream
//! - Upstream recomputes every pod on every sync (O(pods)); the index is an addition.
//! - Slices of a deleted Service are left to the garbage collector through their owner
//!   reference, as upstream does (`kybern-controllers`' GC); the index is dropped.
//! - The legacy `Endpoints` mirror (optional, [`Settings::mirror_endpoints`]) is recomputed from
//!   the cached pods of the Service on each sync: O(pods), like upstream's endpoints
//!   controller. Turn it off for O(one slice) pod updates (Endpoints is deprecated in v1.33).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use kybern_core::api::core::v1::{Endpoints, Pod, Service};
use kybern_core::api::discovery::v1::EndpointSlice;
use kybern_reconciler::runtime::reflector::Change;
use kybern_reconciler::runtime::{
    Action, Controller, ObjectKey, Reader, SharedInformers, Shutdown, watcher,
};
use kybern_reconciler::{Api, ListParams, Store, StoreError};

use super::controller::{SyncStats, write_changes, write_endpoints};
use super::desired::selects;
use super::index::SliceIndex;
use super::reconciler::SliceReconciler;
use super::{CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME};

/// The controller's name (metrics label), upstream's.
pub const CONTROLLER: &str = "endpointslice-controller";

/// Settings of the runtime controller.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Packing settings (slice size, node zones).
    pub reconciler: SliceReconciler,
    /// Whether to also maintain the legacy `Endpoints` object (O(pods) per sync).
    pub mirror_endpoints: bool,
    /// Concurrent reconciles (distinct Services).
    pub concurrency: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reconciler: SliceReconciler::default(),
            mirror_endpoints: true,
            concurrency: 4,
        }
    }
}

/// Counters of a running controller (what it wrote and which path it took).
#[derive(Debug, Default)]
pub struct Stats {
    /// Slices created.
    pub created: AtomicU64,
    /// Slices updated.
    pub updated: AtomicU64,
    /// Slices deleted.
    pub deleted: AtomicU64,
    /// `Endpoints` objects written.
    pub endpoints_written: AtomicU64,
    /// Full reconciles (index rebuilt).
    pub full_syncs: AtomicU64,
    /// Pod changes applied through the index.
    pub incremental_pods: AtomicU64,
}

impl Stats {
    /// Slice writes so far (creates + updates + deletes).
    pub fn slice_writes(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
            + self.updated.load(Ordering::Relaxed)
            + self.deleted.load(Ordering::Relaxed)
    }

    fn add(&self, s: &SyncStats) {
        self.created.fetch_add(s.created as u64, Ordering::Relaxed);
        self.updated.fetch_add(s.updated as u64, Ordering::Relaxed);
        self.deleted.fetch_add(s.deleted as u64, Ordering::Relaxed);
        if s.endpoints_written {
            self.endpoints_written.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A slice event seen by the watch, judged at the next reconcile of its Service.
#[derive(Debug)]
enum SliceEvent {
    Applied { name: String, version: String },
    Deleted { name: String },
}

/// The index of one Service and the `resourceVersion` of the Service it was built for.
#[derive(Debug)]
struct Built {
    index: SliceIndex,
    service_version: Option<String>,
}

/// Per-Service state shared between the watch mappers and the reconcile.
#[derive(Debug, Default)]
struct ServiceState {
    /// Checked out by the reconcile while it runs.
    built: Option<Built>,
    dirty_pods: BTreeSet<String>,
    slice_events: Vec<SliceEvent>,
    /// Slice `resourceVersion`s this controller wrote and has not yet seen come back.
    own_versions: HashSet<String>,
}

/// Bound on remembered own versions (events lost to a relist would otherwise pile up).
const MAX_OWN_VERSIONS: usize = 10_000;

type States = Arc<Mutex<HashMap<ObjectKey, ServiceState>>>;

fn lock(states: &States) -> MutexGuard<'_, HashMap<ObjectKey, ServiceState>> {
    states.lock().unwrap_or_else(|e| e.into_inner())
}

struct Context {
    store: Arc<dyn Store>,
    pods: Reader<Pod>,
    settings: Settings,
    states: States,
    stats: Arc<Stats>,
}

/// The Services (keys) in the pod's namespace whose selector selects it.
fn services_selecting(services: &Reader<Service>, pod: &Pod) -> Vec<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    services
        .in_namespace(ns)
        .iter()
        .filter(|s| selects(s, pod))
        .map(|s| ObjectKey::of(s.as_ref()))
        .collect()
}

/// The cached pods `service` selects.
fn selected_pods(pods: &Reader<Pod>, service: &Service) -> Vec<Arc<Pod>> {
    let ns = service.metadata.namespace.as_deref().unwrap_or("");
    let mut out = pods.in_namespace(ns);
    out.retain(|p| selects(service, p));
    out
}

/// Runs the controller until `shutdown` fires, counting its work in `stats`.
///
/// `informers` shares the Service, Pod and EndpointSlice caches with other controllers of
/// the process (pass a fresh `SharedInformers::new()` when there are none).
pub async fn run(
    store: Arc<dyn Store>,
    informers: &SharedInformers,
    shutdown: Shutdown,
    settings: Settings,
    stats: Arc<Stats>,
) {
    let config = watcher::Config::default();
    let services_api = Api::<Service>::all(store.clone());
    let pods_api = Api::<Pod>::all(store.clone());
    let slices_api = Api::<EndpointSlice>::all(store.clone());
    let services = informers.informer(&services_api, &config).reader();
    let pods = informers.informer(&pods_api, &config).reader();
    let states: States = Arc::default();
    let concurrency = settings.concurrency;
    let ctx = Arc::new(Context {
        store,
        pods,
        settings,
        states: states.clone(),
        stats,
    });

    let pod_states = states.clone();
    let map_pod = move |change: &Change<Pod>| {
        let mut keys = Vec::new();
        let mut pods: Vec<&Pod> = vec![change.object().as_ref()];
        if let Change::Applied { old: Some(old), .. } = change {
            pods.push(old.as_ref());
        }
        for pod in &pods {
            keys.extend(services_selecting(&services, pod));
        }
        keys.sort();
        keys.dedup();
        let name = change.object().metadata.name.clone().unwrap_or_default();
        let mut st = lock(&pod_states);
        for k in &keys {
            st.entry(k.clone())
                .or_default()
                .dirty_pods
                .insert(name.clone());
        }
        keys
    };
    let slice_states = states.clone();
    let map_slice = move |change: &Change<EndpointSlice>| {
        let slice = change.object();
        let labels = &slice.metadata.labels;
        let Some(service) = labels.get(LABEL_SERVICE_NAME) else {
            return Vec::new();
        };
        if labels.get(LABEL_MANAGED_BY).map(String::as_str) != Some(CONTROLLER_NAME) {
            return Vec::new(); // slices managed by someone else are not ours to judge
        }
        let key = ObjectKey::new(slice.metadata.namespace.as_deref(), service);
        let name = slice.metadata.name.clone().unwrap_or_default();
        let event = match change {
            Change::Applied { new, .. } => SliceEvent::Applied {
                name,
                version: new.metadata.resource_version.clone().unwrap_or_default(),
            },
            Change::Deleted(_) => SliceEvent::Deleted { name },
        };
        lock(&slice_states)
            .entry(key.clone())
            .or_default()
            .slice_events
            .push(event);
        vec![key]
    };
    let gone_states = states;
    let map_service = move |change: &Change<Service>| {
        if let Change::Deleted(s) = change {
            lock(&gone_states).remove(&ObjectKey::of(s.as_ref()));
        }
        Vec::new()
    };

    Controller::for_(services_api.clone(), config.clone())
        .name(CONTROLLER)
        .shared_informers(informers)
        .concurrency(concurrency)
        .graceful_shutdown_on(shutdown)
        .watches_changes(pods_api, config.clone(), map_pod)
        .watches_changes(slices_api, config.clone(), map_slice)
        .watches_changes(services_api, config, map_service)
        .run(reconcile, |_, _, _| Action::requeue_with_backoff(), ctx)
        .await;
}

/// Whether the slice events leave the index trustworthy (every event is one of our writes).
fn events_are_own(events: &[SliceEvent], built: &Built, own: &mut HashSet<String>) -> bool {
    let mut trusted = true;
    for ev in events {
        let own_event = match ev {
            SliceEvent::Applied { name, version } => {
                own.remove(version)
                    || built
                        .index
                        .get(name)
                        .and_then(|s| s.metadata.resource_version.as_deref())
                        == Some(version.as_str())
            }
            SliceEvent::Deleted { name } => built.index.get(name).is_none(),
        };
        trusted &= own_event;
    }
    trusted
}

async fn reconcile(service: Arc<Service>, ctx: Arc<Context>) -> Result<Action, StoreError> {
    let key = ObjectKey::of(service.as_ref());
    let ns = service.metadata.namespace.clone().unwrap_or_default();
    let (built, dirty) = {
        let mut states = lock(&ctx.states);
        let st = states.entry(key.clone()).or_default();
        let events = std::mem::take(&mut st.slice_events);
        let dirty = std::mem::take(&mut st.dirty_pods);
        let built = st.built.take().filter(|b| {
            b.service_version == service.metadata.resource_version
                && events_are_own(&events, b, &mut st.own_versions)
        });
        (built, dirty)
    };
    if service.spec.as_ref().is_none_or(|s| s.selector.is_empty()) {
        return Ok(Action::await_change()); // endpoints of selectorless Services are by hand
    }
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.store.clone(), &ns);
    let mut stats = SyncStats::default();
    let result = match built {
        Some(built) => incremental(&ctx, &service, &slices, built, &dirty, &mut stats).await,
        None => full(&ctx, &service, &slices, &mut stats).await,
    };
    ctx.stats.add(&stats);
    let built = result?;
    if ctx.settings.mirror_endpoints {
        let pods = selected_pods(&ctx.pods, &service);
        let eps: Api<Endpoints> = Api::namespaced(ctx.store.clone(), &ns);
        if write_endpoints(&eps, &service, &pods).await? {
            ctx.stats.endpoints_written.fetch_add(1, Ordering::Relaxed);
        }
    }
    let mut states = lock(&ctx.states);
    let st = states.entry(key).or_default();
    st.built = Some(built);
    Ok(Action::await_change())
}

/// Records what was written in the index and as own versions.
fn record(
    ctx: &Context,
    key: &ObjectKey,
    index: &mut SliceIndex,
    written: super::controller::Written,
) {
    let mut states = lock(&ctx.states);
    let st = states.entry(key.clone()).or_default();
    if st.own_versions.len() > MAX_OWN_VERSIONS {
        st.own_versions.clear();
    }
    for name in written.deleted {
        index.remove(&name);
    }
    for s in written.slices {
        if let Some(v) = s.metadata.resource_version.clone() {
            st.own_versions.insert(v);
        }
        index.upsert(s);
    }
}

async fn incremental(
    ctx: &Context,
    service: &Service,
    slices: &Api<EndpointSlice>,
    mut built: Built,
    dirty: &BTreeSet<String>,
    stats: &mut SyncStats,
) -> Result<Built, StoreError> {
    let key = ObjectKey::of(service);
    let ns = service.metadata.namespace.as_deref();
    for pod_name in dirty {
        let pod = ctx.pods.get_named(ns, pod_name);
        let changes =
            built
                .index
                .pod_changed(&ctx.settings.reconciler, service, pod_name, pod.as_deref());
        ctx.stats.incremental_pods.fetch_add(1, Ordering::Relaxed);
        if changes.is_empty() {
            continue;
        }
        // A failed write leaves the index unknown: the next reconcile does a full sync.
        let written = write_changes(slices, changes, stats).await?;
        record(ctx, &key, &mut built.index, written);
    }
    Ok(built)
}

async fn full(
    ctx: &Context,
    service: &Service,
    slices: &Api<EndpointSlice>,
    stats: &mut SyncStats,
) -> Result<Built, StoreError> {
    let key = ObjectKey::of(service);
    let name = service.metadata.name.as_deref().unwrap_or("");
    let by_service = ListParams::default().labels(&format!("{LABEL_SERVICE_NAME}={name}"));
    let existing = slices.list(&by_service).await?.items;
    let pods = selected_pods(&ctx.pods, service);
    let changes = ctx
        .settings
        .reconciler
        .reconcile_shared(service, &pods, &existing);
    tracing::debug!(
        service = name,
        pods = pods.len(),
        writes = changes.writes(),
        "full EndpointSlice sync"
    );
    ctx.stats.full_syncs.fetch_add(1, Ordering::Relaxed);
    let written = write_changes(slices, changes, stats).await?;
    let mut index = SliceIndex::new(service, existing);
    record(ctx, &key, &mut index, written);
    Ok(Built {
        index,
        service_version: service.metadata.resource_version.clone(),
    })
}
