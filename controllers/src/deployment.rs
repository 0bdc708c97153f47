//! The Deployment controller: rolls a Deployment's pod template out through ReplicaSets, as
//! upstream's `DeploymentController` (RollingUpdate and Recreate, revisions, history cleanup,
//! pause, progress deadline, status and conditions).
//!
//! # ReplicaSet naming: the pod-template hash
//! Each template gets a ReplicaSet `<deployment>-<hash>` whose selector, labels and pod labels
//! carry `pod-template-hash: <hash>`. The hash is **Kybern's own stable hash**: FNV-1a (32 bit)
//! over the template's canonical JSON (fields in declaration order, maps sorted), followed by
//! the little-endian `collisionCount` when set, printed in decimal and encoded with upstream's
//! `SafeEncodeString` alphabet (`bcdfghjklmnpqrstvwxz2456789`). It is deterministic across
//! runs and platforms, but not bit-identical to upstream's: upstream feeds FNV-32a with
//! go-spew's deep `%#v`-style dump of the Go struct (type names, pointer layout, field
//! order of the Go types), which has no faithful equivalent over our serde model; matching it
//! would mean re-implementing that printer for every pod-spec type. Names therefore differ
//! from a real cluster's for the same template, while collision handling is the same.
//!
//! # Rolling update (upstream's arithmetic)
//! `maxSurge` rounds up and `maxUnavailable` down against `spec.replicas`; both zero makes
//! `maxUnavailable` 1. The new ReplicaSet grows while the total stays ≤ replicas + maxSurge;
//! old ones shrink (unhealthy replicas first) while available pods stay ≥ replicas −
//! maxUnavailable, counting availability from ReplicaSet status.
//!
//! # Scaling during a rollout (upstream's proportional scaling)
//! When `spec.replicas` changes while several ReplicaSets are active, the difference is spread
//! over them in proportion to their size, using each ReplicaSet's
//! `deployment.kubernetes.io/max-replicas` annotation as the size it was scaled for
//! ([`proportional_sizes`]); a saturated new ReplicaSet instead scales the old ones to zero.
//!
//! # Recreate
//! Old ReplicaSets are scaled to zero first; the new one is created (or scaled up) only once no
//! old ReplicaSet reports replicas **and** no pod controlled by one is still running (pods are
//! read from the shared pod cache; a pod's deletion wakes the Deployment).
//!
//! # Rollback
//! [`rollback`] copies a previous revision's template back into the Deployment, as
//! `kubectl rollout undo` does; the controller then rolls it out as a new revision.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::apps::v1::{
    Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec,
};
use kybern_core::api::core::v1::{Pod, PodTemplateSpec};
use kybern_core::api::meta::v1::LabelSelector;
use kybern_core::intstr::scaled_value_from_int_or_percent;
use kybern_core::labels::label_selector_as_selector;
use kybern_core::{IntOrString, Resource, Time, owner_reference};
use kybern_reconciler::runtime::controller::Action;
use kybern_reconciler::runtime::reflector::{Change, INDEX_NAMESPACE, Reader};
use kybern_reconciler::runtime::{ObjectKey, watcher};
use kybern_reconciler::store::{Patch, PatchOptions};
use kybern_reconciler::{Api, DeleteParams, StoreError};
use serde_json::json;

use crate::ControllerManager;

/// The label and selector key distinguishing a Deployment's ReplicaSets.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The revision annotation on Deployments and ReplicaSets.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// The desired-replicas annotation on ReplicaSets.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// The max-replicas annotation on ReplicaSets.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// Why a Deployment reconcile failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A store call failed.
    #[error("deployment {key}: {source}")]
    Store {
        /// The Deployment.
        key: ObjectKey,
        /// The store error.
        #[source]
        source: StoreError,
    },
    /// The Deployment is malformed (never stored, bad maxSurge/maxUnavailable).
    #[error("deployment {key}: {message}")]
    Invalid {
        /// The Deployment.
        key: ObjectKey,
        /// What is wrong.
        message: String,
    },
    /// [`rollback`]: no ReplicaSet has the requested revision.
    #[error("deployment {key}: unable to find specified revision {revision} in history")]
    RevisionNotFound {
        /// The Deployment.
        key: ObjectKey,
        /// The revision asked for (0: the previous one).
        revision: i64,
    },
}

const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The pod-template hash of `template` (see the module docs).
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_vec(template).unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    json.iter().copied().for_each(&mut feed);
    if let Some(c) = collision_count {
        c.to_le_bytes().into_iter().for_each(&mut feed);
    }
    h.to_string()
        .bytes()
        .map(|b| SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()] as char)
        .collect()
}

/// `(maxSurge, maxUnavailable)` resolved against `spec.replicas` with upstream's rounding.
///
/// # Errors
/// A message when a value is neither an integer nor a percentage.
pub fn resolve_fenceposts(d: &Deployment) -> Result<(i32, i32), String> {
    let spec = d.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(1);
    let strategy = spec.and_then(|s| s.strategy.as_ref());
    if strategy.and_then(|s| s.type_.as_deref()) == Some("Recreate") {
        return Ok((0, 0));
    }
    let ru = strategy.and_then(|s| s.rolling_update.as_ref());
    let default = IntOrString::String("25%".into());
    let surge_v = ru.and_then(|r| r.max_surge.as_ref()).unwrap_or(&default);
    let unavail_v = ru
        .and_then(|r| r.max_unavailable.as_ref())
        .unwrap_or(&default);
    let surge = scaled_value_from_int_or_percent(Some(surge_v), replicas, true)
        .map_err(|e| e.to_string())?;
    let mut unavailable = scaled_value_from_int_or_percent(Some(unavail_v), replicas, false)
        .map_err(|e| e.to_string())?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

fn max_unavailable(d: &Deployment, replicas: i32) -> i32 {
    if is_recreate(d) || replicas == 0 {
        return 0;
    }
    resolve_fenceposts(d)
        .map(|(_, u)| u.min(replicas))
        .unwrap_or(0)
}

fn revision_of(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotation(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

fn status_of(rs: &ReplicaSet) -> (i32, i32, i32) {
    rs.status.as_ref().map_or((0, 0, 0), |s| {
        (
            s.replicas,
            s.ready_replicas.unwrap_or(0),
            s.available_replicas.unwrap_or(0),
        )
    })
}

fn template_without_hash(t: Option<&PodTemplateSpec>) -> PodTemplateSpec {
    let mut t = t.cloned().unwrap_or_default();
    if let Some(m) = t.metadata.as_mut() {
        m.labels.remove(POD_TEMPLATE_HASH);
    }
    t
}

fn rs_template(rs: &ReplicaSet) -> Option<&PodTemplateSpec> {
    rs.spec.as_ref().and_then(|s| s.template.as_ref())
}

struct Context {
    manager: ControllerManager,
    replicasets: Reader<ReplicaSet>,
    pods: Reader<Pod>,
}

/// The Deployment controlling a pod's controlling ReplicaSet (to wake a Recreate rollout
/// when old pods go away).
fn deployment_of_pod(replicasets: &Reader<ReplicaSet>, pod: &Pod) -> Option<ObjectKey> {
    let ns = pod.metadata.namespace.as_deref();
    let rs_ref = pod
        .metadata
        .controller_ref()
        .filter(|r| r.kind == "ReplicaSet")?;
    let rs = replicasets.get_named(ns, &rs_ref.name)?;
    let d_ref = rs
        .metadata
        .controller_ref()
        .filter(|r| r.kind == "Deployment")?;
    Some(ObjectKey::new(ns, &d_ref.name))
}

/// Runs the Deployment controller until the manager's shutdown.
pub async fn run(m: ControllerManager) {
    let rs_api = Api::<ReplicaSet>::all(m.store.clone());
    let replicasets = m
        .informers
        .informer(&rs_api, &watcher::Config::default())
        .reader();
    let pods = crate::replicaset::pods_reader(&m);
    let ctx = Arc::new(Context {
        manager: m.clone(),
        replicasets: replicasets.clone(),
        pods,
    });
    m.controller::<Deployment>("deployment")
        .owns(rs_api, watcher::Config::default())
        .watches_changes(
            Api::<Pod>::all(m.store.clone()),
            watcher::Config::default(),
            move |change: &Change<Pod>| {
                let finished = |p: &Pod| {
                    matches!(
                        p.status.as_ref().and_then(|st| st.phase.as_deref()),
                        Some("Failed" | "Succeeded")
                    )
                };
                let gone = match change {
                    Change::Deleted(p) => Some(p.as_ref()),
                    Change::Applied {
                        old: Some(old),
                        new,
                    } if finished(new.as_ref()) && !finished(old.as_ref()) => Some(new.as_ref()),
                    Change::Applied { .. } => None,
                };
                gone.and_then(|p| deployment_of_pod(&replicasets, p))
                    .into_iter()
                    .collect()
            },
        )
        .run(reconcile, |_, _, _| Action::requeue_with_backoff(), ctx)
        .await;
}

struct Sync<'a> {
    d: &'a Deployment,
    key: ObjectKey,
    ns: String,
    ctx: &'a Context,
    replicas: i32,
    surge: i32,
}

impl Sync<'_> {
    fn err(&self, source: StoreError) -> Error {
        Error::Store {
            key: self.key.clone(),
            source,
        }
    }

    fn rs_api(&self) -> Api<ReplicaSet> {
        Api::namespaced(self.ctx.manager.store.clone(), &self.ns)
    }

    /// Sets an RS's replicas and the desired/max annotations; true if anything changed.
    async fn scale(&self, rs: &ReplicaSet, replicas: i32) -> Result<bool, Error> {
        let desired = self.replicas.to_string();
        let max = (self.replicas + self.surge).to_string();
        if spec_replicas(rs) == replicas
            && rs.metadata.annotation(DESIRED_REPLICAS) == Some(desired.as_str())
            && rs.metadata.annotation(MAX_REPLICAS) == Some(max.as_str())
        {
            return Ok(false);
        }
        let mut updated = rs.clone();
        if let Some(s) = updated.spec.as_mut() {
            s.replicas = Some(replicas);
        }
        updated
            .metadata
            .annotations
            .insert(DESIRED_REPLICAS.into(), desired);
        updated
            .metadata
            .annotations
            .insert(MAX_REPLICAS.into(), max);
        self.rs_api()
            .update(&updated)
            .await
            .map_err(|e| self.err(e))?;
        Ok(spec_replicas(rs) != replicas)
    }

    async fn create_new_rs(
        &self,
        old: &[Arc<ReplicaSet>],
        replicas: i32,
    ) -> Result<ReplicaSet, Error> {
        let spec = self.d.spec.clone().unwrap_or_default();
        let collision = self.d.status.as_ref().and_then(|s| s.collision_count);
        let template = template_without_hash(Some(&spec.template));
        let hash = pod_template_hash(&template, collision);
        let mut template = template;
        template
            .metadata
            .get_or_insert_with(Default::default)
            .labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector: LabelSelector = spec.selector.clone();
        selector
            .match_labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let revision = old.iter().map(|r| revision_of(r)).max().unwrap_or(0) + 1;
        let mut rs = ReplicaSet::default();
        rs.metadata.name = Some(format!("{}-{hash}", self.d.name()));
        rs.metadata.namespace = Some(self.ns.clone());
        rs.metadata.labels = template
            .metadata
            .as_ref()
            .map(|m| m.labels.clone())
            .unwrap_or_default();
        rs.metadata.annotations = BTreeMap::from([
            (REVISION.to_owned(), revision.to_string()),
            (DESIRED_REPLICAS.to_owned(), self.replicas.to_string()),
            (
                MAX_REPLICAS.to_owned(),
                (self.replicas + self.surge).to_string(),
            ),
        ]);
        rs.metadata.owner_references =
            vec![
                owner_reference(self.d, &(), true, true).map_err(|e| Error::Invalid {
                    key: self.key.clone(),
                    message: e.to_string(),
                })?,
            ];
        rs.spec = Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        });
        match self.rs_api().create(&rs).await {
            Ok(created) => Ok(created),
            Err(StoreError::AlreadyExists { .. }) => {
                // Someone else's ReplicaSet holds the name: a hash collision. Bump
                // collisionCount so the next attempt gets another name (upstream's way).
                let mut d = self.d.clone();
                let status = d.status.get_or_insert_with(DeploymentStatus::default);
                status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
                Api::<Deployment>::namespaced(self.ctx.manager.store.clone(), &self.ns)
                    .update_status(&d)
                    .await
                    .map_err(|e| self.err(e))?;
                Err(self.err(StoreError::Conflict {
                    resource: Box::new(ReplicaSet::api_resource(&())),
                    name: rs.name().to_owned(),
                    message: "pod-template-hash collision".into(),
                }))
            }
            Err(e) => Err(self.err(e)),
        }
    }
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Context>) -> Result<Action, Error> {
    let key = ObjectKey::of(d.as_ref());
    if d.metadata.is_being_deleted() {
        return Ok(Action::await_change());
    }
    let Some(spec) = d.spec.as_ref() else {
        return Ok(Action::await_change());
    };
    let (surge, _) = resolve_fenceposts(&d).map_err(|message| Error::Invalid {
        key: key.clone(),
        message,
    })?;
    let s = Sync {
        d: &d,
        key: key.clone(),
        ns: d.namespace().unwrap_or("").to_owned(),
        ctx: &ctx,
        replicas: spec.replicas.unwrap_or(1),
        surge,
    };
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let selector =
        label_selector_as_selector(Some(&spec.selector)).map_err(|e| Error::Invalid {
            key: key.clone(),
            message: e.to_string(),
        })?;
    // Claim ReplicaSets: owned ones that still match, plus matching orphans (adopted).
    let mut all: Vec<Arc<ReplicaSet>> = Vec::new();
    for rs in ctx.replicasets.by_index(INDEX_NAMESPACE, &s.ns) {
        match rs.metadata.controller_ref() {
            Some(r) if r.uid == uid && selector.matches(&rs.metadata.labels) => all.push(rs),
            Some(_) => {}
            None if !selector.is_empty()
                && selector.matches(&rs.metadata.labels)
                && !rs.metadata.is_being_deleted() =>
            {
                let mut refs = rs.metadata.owner_references.clone();
                refs.push(owner_reference(d.as_ref(), &(), true, true).map_err(|e| {
                    Error::Invalid {
                        key: key.clone(),
                        message: e.to_string(),
                    }
                })?);
                let options = PatchOptions {
                    resource_version: rs.metadata.resource_version.clone(),
                    ..PatchOptions::default()
                };
                let patch = Patch::Merge(json!({"metadata": {"ownerReferences": refs}}));
                let adopted = s
                    .rs_api()
                    .patch_with(rs.name(), &patch, &options)
                    .await
                    .map_err(|e| s.err(e))?;
                all.push(Arc::new(adopted));
            }
            None => {}
        }
    }
    all.sort_by(|a, b| {
        (a.metadata.creation_timestamp.map(|t| t.0), a.name())
            .cmp(&(b.metadata.creation_timestamp.map(|t| t.0), b.name()))
    });
    let want = template_without_hash(Some(&spec.template));
    let new_rs = all
        .iter()
        .find(|rs| template_without_hash(rs_template(rs)) == want)
        .cloned();
    let old: Vec<Arc<ReplicaSet>> = all
        .iter()
        .filter(|rs| {
            new_rs
                .as_ref()
                .is_none_or(|n| n.metadata.uid != rs.metadata.uid)
        })
        .cloned()
        .collect();
    let paused = spec.paused == Some(true);
    let recreate = is_recreate(&d);
    let mut created: Option<String> = None;

    // Keep the new ReplicaSet's revision the newest.
    let max_old = old.iter().map(|r| revision_of(r)).max().unwrap_or(0);
    let mut new_rs = new_rs;
    if let Some(n) = &new_rs
        && revision_of(n) <= max_old
    {
        let mut updated = (**n).clone();
        updated
            .metadata
            .annotations
            .insert(REVISION.into(), (max_old + 1).to_string());
        new_rs = Some(Arc::new(
            s.rs_api().update(&updated).await.map_err(|e| s.err(e))?,
        ));
    }

    let scaling = all.iter().filter(|rs| spec_replicas(rs) > 0).any(|rs| {
        rs.metadata
            .annotation(DESIRED_REPLICAS)
            .and_then(|v| v.parse::<i32>().ok())
            != Some(s.replicas)
    });
    let mut changed = false;
    if paused || (scaling && new_rs.is_some() && !recreate) {
        changed = scale_proportionally(&s, new_rs.as_deref(), &old).await?;
    } else if recreate {
        let active_old: Vec<_> = old.iter().filter(|r| spec_replicas(r) > 0).collect();
        for rs in &active_old {
            changed |= s.scale(rs, 0).await?;
        }
        let old_running = old_pods_running(&ctx.pods, &old);
        if !changed && !old_running {
            match &new_rs {
                None => {
                    let n = s.create_new_rs(&old, s.replicas).await?;
                    created = Some(n.name().to_owned());
                    new_rs = Some(Arc::new(n));
                    changed = true;
                }
                Some(n) => changed |= s.scale(n, s.replicas).await?,
            }
        }
    } else {
        // Rolling update.
        let total: i32 = all.iter().map(|r| spec_replicas(r)).sum();
        let max_total = s.replicas + s.surge;
        match &new_rs {
            None => {
                let up = if total >= max_total {
                    0
                } else {
                    (max_total - total).min(s.replicas)
                };
                let n = s.create_new_rs(&old, up).await?;
                created = Some(n.name().to_owned());
                new_rs = Some(Arc::new(n));
                changed = true;
            }
            Some(n) => {
                let current = spec_replicas(n);
                let target = if current > s.replicas {
                    s.replicas
                } else if total >= max_total {
                    current
                } else {
                    current + (max_total - total).min(s.replicas - current)
                };
                changed |= s.scale(n, target).await?;
            }
        }
        if !changed && let Some(n) = &new_rs {
            changed |= scale_down_old(&s, n, &old).await?;
        }
    }

    // History cleanup once the rollout is complete.
    let status = calculate_status(&d, new_rs.as_deref(), &all);
    let complete = is_complete(&d, &status);
    if complete && !paused && !changed {
        cleanup(&s, &old).await?;
    }
    sync_status(&s, new_rs.as_deref(), status, created.as_deref(), paused).await
}

async fn scale_down_old(
    s: &Sync<'_>,
    new_rs: &ReplicaSet,
    old: &[Arc<ReplicaSet>],
) -> Result<bool, Error> {
    let old_count: i32 = old.iter().map(|r| spec_replicas(r)).sum();
    if old_count == 0 {
        return Ok(false);
    }
    let all_count = old_count + spec_replicas(new_rs);
    let min_available = s.replicas - max_unavailable(s.d, s.replicas);
    let new_unavailable = spec_replicas(new_rs) - status_of(new_rs).2;
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Ok(false);
    }
    // First the unhealthy replicas of old ReplicaSets (oldest first).
    let mut cleaned = 0;
    let mut after_cleanup: Vec<(Arc<ReplicaSet>, i32)> = Vec::new();
    for rs in old {
        let replicas = spec_replicas(rs);
        let unhealthy = replicas - status_of(rs).2;
        let mut target = replicas;
        if replicas > 0 && unhealthy > 0 && cleaned < max_scaled_down {
            let down = (max_scaled_down - cleaned).min(unhealthy);
            target = replicas - down;
            cleaned += down;
            s.scale(rs, target).await?;
        }
        after_cleanup.push((Arc::clone(rs), target));
    }
    if cleaned > 0 {
        return Ok(true);
    }
    // Then healthy ones, while enough stay available.
    let available: i32 = old.iter().map(|r| status_of(r).2).sum::<i32>() + status_of(new_rs).2;
    if available <= min_available {
        return Ok(false);
    }
    let total_down = available - min_available;
    let mut done = 0;
    for (rs, replicas) in after_cleanup {
        if done >= total_down {
            break;
        }
        if replicas == 0 {
            continue;
        }
        let down = replicas.min(total_down - done);
        s.scale(&rs, replicas - down).await?;
        done += down;
    }
    Ok(done > 0)
}

/// One active ReplicaSet as proportional scaling sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleShare {
    /// Its `spec.replicas` (> 0: only active ReplicaSets take part).
    pub replicas: i32,
    /// Its `deployment.kubernetes.io/max-replicas` annotation: the Deployment's
    /// `replicas + maxSurge` when this ReplicaSet was last scaled.
    pub max_replicas: Option<i32>,
}

/// Upstream's proportional scaling (`DeploymentController.scale` with `GetProportion`): the
/// new sizes of `sets` (oldest first) when a rolling Deployment is resized to `replicas` with
/// `max_surge`. `status_replicas` (the Deployment's `status.replicas`) stands in for a missing
/// `max-replicas` annotation.
///
/// The change `replicas + max_surge − Σ sizes` is spread from the largest set to the smallest
/// (ties: newer first when growing, older first when shrinking); each set's share is
/// `round(size × (replicas + max_surge) / max_replicas) − size`, capped so the total never
/// overshoots, and the leftover goes to the first set in that order.
///
/// ```
/// use kybern_controllers::deployment::{proportional_sizes, ScaleShare};
/// // Scaled from 5 to 10 mid-rollout: an old set of 3 and a new one of 2 become 6 and 4.
/// let sets = [
///     ScaleShare { replicas: 3, max_replicas: Some(5) },
///     ScaleShare { replicas: 2, max_replicas: Some(5) },
/// ];
/// assert_eq!(proportional_sizes(10, 0, 5, &sets), vec![6, 4]);
/// ```
pub fn proportional_sizes(
    replicas: i32,
    max_surge: i32,
    status_replicas: i32,
    sets: &[ScaleShare],
) -> Vec<i32> {
    let mut sizes: Vec<i32> = sets.iter().map(|s| s.replicas).collect();
    let allowed = if replicas > 0 {
        replicas + max_surge
    } else {
        0
    };
    let current: i32 = sizes.iter().sum();
    let to_add = allowed - current;
    if to_add == 0 {
        return sizes;
    }
    // Largest first; ties: newer first when growing, older first when shrinking.
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by(|&a, &b| {
        let by_size = sets[b].replicas.cmp(&sets[a].replicas);
        let by_age = if to_add > 0 { b.cmp(&a) } else { a.cmp(&b) };
        by_size.then(by_age)
    });
    let mut added = 0;
    for &i in &order {
        let size = sets[i].replicas;
        if size == 0 || to_add == added {
            continue;
        }
        let fraction = if replicas == 0 {
            -size
        } else {
            let before = match sets[i].max_replicas {
                Some(m) if m != 0 => m,
                _ => status_replicas,
            };
            if before == 0 {
                0
            } else {
                let scaled = f64::from(size) * f64::from(allowed) / f64::from(before);
                // Go's math.Round: half away from zero (the value is positive here).
                let rounded = scaled.round();
                if rounded.is_finite() && rounded < f64::from(i32::MAX) {
                    // Bounded above, and non-negative: the cast is exact.
                    let r = rounded as i32;
                    r - size
                } else {
                    0
                }
            }
        };
        let left = to_add - added;
        let share = if to_add > 0 {
            fraction.min(left)
        } else {
            fraction.max(left)
        };
        sizes[i] += share;
        added += share;
    }
    if let Some(&first) = order.first() {
        sizes[first] = (sizes[first] + to_add - added).max(0);
    }
    sizes
}

fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    rs.metadata
        .annotation(MAX_REPLICAS)
        .and_then(|v| v.parse().ok())
}

/// Whether the new ReplicaSet already runs the whole Deployment (upstream's `IsSaturated`).
fn is_saturated(s: &Sync<'_>, new_rs: &ReplicaSet) -> bool {
    let desired = new_rs
        .metadata
        .annotation(DESIRED_REPLICAS)
        .and_then(|v| v.parse::<i32>().ok());
    spec_replicas(new_rs) == s.replicas
        && desired == Some(s.replicas)
        && status_of(new_rs).2 == s.replicas
}

/// Scaling (or a paused Deployment), upstream's `scale`: a single active ReplicaSet (or, with
/// none active, the newest) takes `spec.replicas`; a saturated new ReplicaSet scales the old
/// ones to zero; otherwise a rolling Deployment's sets are resized by [`proportional_sizes`].
async fn scale_proportionally(
    s: &Sync<'_>,
    new_rs: Option<&ReplicaSet>,
    old: &[Arc<ReplicaSet>],
) -> Result<bool, Error> {
    let active: Vec<&ReplicaSet> = old
        .iter()
        .map(AsRef::as_ref)
        .chain(new_rs)
        .filter(|r| spec_replicas(r) > 0)
        .collect();
    match active.as_slice() {
        [] => {
            let latest = new_rs.or_else(|| old.last().map(AsRef::as_ref));
            return match latest {
                Some(rs) => s.scale(rs, s.replicas).await,
                None => Ok(false),
            };
        }
        [only] => return s.scale(only, s.replicas).await,
        _ => {}
    }
    if let Some(n) = new_rs
        && is_saturated(s, n)
    {
        let mut changed = false;
        for rs in old.iter().filter(|r| spec_replicas(r) > 0) {
            changed |= s.scale(rs, 0).await?;
        }
        return Ok(changed);
    }
    if is_recreate(s.d) {
        return Ok(false);
    }
    let shares: Vec<ScaleShare> = active
        .iter()
        .map(|r| ScaleShare {
            replicas: spec_replicas(r),
            max_replicas: max_replicas_annotation(r),
        })
        .collect();
    let status_replicas = s.d.status.as_ref().and_then(|st| st.replicas).unwrap_or(0);
    let sizes = proportional_sizes(s.replicas, s.surge, status_replicas, &shares);
    tracing::debug!(deployment = %s.key, ?sizes, "proportional scaling");
    let mut changed = false;
    for (rs, size) in active.iter().zip(sizes) {
        changed |= s.scale(rs, size).await?;
    }
    Ok(changed)
}

fn is_recreate(d: &Deployment) -> bool {
    d.spec
        .as_ref()
        .and_then(|s| s.strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("Recreate")
}

/// Whether pods of the old ReplicaSets still run (upstream's `oldPodsRunning`): any old set
/// reporting replicas, or any pod controlled by one that has not terminated (Failed and
/// Succeeded pods are done).
fn old_pods_running(pods: &Reader<Pod>, old: &[Arc<ReplicaSet>]) -> bool {
    old.iter().any(|rs| {
        if status_of(rs).0 > 0 {
            return true;
        }
        let uid = rs.metadata.uid.as_deref().unwrap_or("");
        pods.owned_by(uid).iter().any(|p| {
            p.metadata.controller_ref().is_some_and(|r| r.uid == uid)
                && !matches!(
                    p.status.as_ref().and_then(|st| st.phase.as_deref()),
                    Some("Failed" | "Succeeded")
                )
        })
    })
}

async fn cleanup(s: &Sync<'_>, old: &[Arc<ReplicaSet>]) -> Result<(), Error> {
    let limit =
        s.d.spec
            .as_ref()
            .and_then(|sp| sp.revision_history_limit)
            .unwrap_or(10);
    let mut dead: Vec<&Arc<ReplicaSet>> = old
        .iter()
        .filter(|r| spec_replicas(r) == 0 && status_of(r).0 == 0 && !r.metadata.is_being_deleted())
        .collect();
    let excess = dead
        .len()
        .saturating_sub(usize::try_from(limit.max(0)).unwrap_or(0));
    dead.sort_by_key(|r| revision_of(r));
    for rs in dead.into_iter().take(excess) {
        let uid = rs.metadata.uid.clone().unwrap_or_default();
        match s
            .rs_api()
            .delete(rs.name(), &DeleteParams::with_uid(&uid))
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(s.err(e)),
        }
    }
    Ok(())
}

fn calculate_status(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    all: &[Arc<ReplicaSet>],
) -> DeploymentStatus {
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let sum = |f: fn((i32, i32, i32)) -> i32| all.iter().map(|r| f(status_of(r))).sum::<i32>();
    let total = sum(|s| s.0);
    let available = sum(|s| s.2);
    let mut status = d.status.clone().unwrap_or_default();
    status.observed_generation = d.metadata.generation;
    status.replicas = Some(total);
    status.updated_replicas = Some(new_rs.map_or(0, |n| status_of(n).0));
    status.ready_replicas = Some(sum(|s| s.1));
    status.available_replicas = Some(available);
    status.unavailable_replicas = Some((replicas - available).max(0));
    status
}

fn is_complete(d: &Deployment, st: &DeploymentStatus) -> bool {
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    st.updated_replicas == Some(replicas)
        && st.replicas == Some(replicas)
        && st.available_replicas == Some(replicas)
        && st.observed_generation >= d.metadata.generation
}

fn set_condition(
    conds: &mut Vec<DeploymentCondition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Time,
) {
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status == status
            && c.reason.as_deref() == Some(reason)
            && c.message.as_deref() == Some(message.as_str())
        {
            return;
        }
        if c.status != status {
            c.last_transition_time = Some(now);
        }
        c.status = status.to_owned();
        c.reason = Some(reason.to_owned());
        c.message = Some(message);
        c.last_update_time = Some(now);
        return;
    }
    conds.push(DeploymentCondition {
        type_: type_.to_owned(),
        status: status.to_owned(),
        reason: Some(reason.to_owned()),
        message: Some(message),
        last_update_time: Some(now),
        last_transition_time: Some(now),
    });
}

fn made_progress(old: Option<&DeploymentStatus>, new: &DeploymentStatus) -> bool {
    let Some(old) = old else { return true };
    let g = |v: Option<i32>| v.unwrap_or(0);
    g(new.updated_replicas) > g(old.updated_replicas)
        || g(new.replicas) < g(old.replicas)
        || g(new.ready_replicas) > g(old.ready_replicas)
        || g(new.available_replicas) > g(old.available_replicas)
}

async fn sync_status(
    s: &Sync<'_>,
    new_rs: Option<&ReplicaSet>,
    mut status: DeploymentStatus,
    created: Option<&str>,
    paused: bool,
) -> Result<Action, Error> {
    let d = s.d;
    let now = Time(s.ctx.manager.clock.wall());
    let min_available = s.replicas - max_unavailable(d, s.replicas);
    if status.available_replicas.unwrap_or(0) >= min_available {
        set_condition(
            &mut status.conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.".into(),
            now,
        );
    } else {
        set_condition(
            &mut status.conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.".into(),
            now,
        );
    }
    let deadline = d.spec.as_ref().and_then(|sp| sp.progress_deadline_seconds);
    let rs_name = new_rs.map(|n| n.name().to_owned()).unwrap_or_default();
    let complete = is_complete(d, &status);
    let mut requeue = None;
    let progressing = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Progressing")
        .cloned();
    if paused {
        set_condition(
            &mut status.conditions,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".into(),
            now,
        );
    } else if progressing
        .as_ref()
        .is_some_and(|c| c.reason.as_deref() == Some("DeploymentPaused"))
    {
        set_condition(
            &mut status.conditions,
            "Progressing",
            "Unknown",
            "DeploymentResumed",
            "Deployment is resumed".into(),
            now,
        );
    } else if let Some(name) = created {
        set_condition(
            &mut status.conditions,
            "Progressing",
            "True",
            "NewReplicaSetCreated",
            format!("Created new replica set \"{name}\""),
            now,
        );
    } else if complete {
        set_condition(
            &mut status.conditions,
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            now,
        );
    } else if made_progress(d.status.as_ref(), &status) || progressing.is_none() {
        set_condition(
            &mut status.conditions,
            "Progressing",
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet \"{rs_name}\" is progressing."),
            now,
        );
    } else if let (Some(secs), Some(c)) = (deadline, progressing.as_ref()) {
        let since = c.last_update_time.map(|t| t.0).unwrap_or(now.0);
        let elapsed = now.0.duration_since(since).as_secs();
        if c.reason.as_deref() != Some("ProgressDeadlineExceeded")
            && c.reason.as_deref() != Some("NewReplicaSetAvailable")
        {
            if elapsed > i64::from(secs) {
                set_condition(
                    &mut status.conditions,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                    now,
                );
            } else {
                let left = u64::try_from(i64::from(secs) - elapsed + 1).unwrap_or(1);
                requeue = Some(Duration::from_secs(left));
            }
        }
    }
    if !complete
        && !paused
        && requeue.is_none()
        && let Some(secs) = deadline
        && status
            .conditions
            .iter()
            .any(|c| c.type_ == "Progressing" && c.status == "True")
    {
        requeue = Some(Duration::from_secs(u64::try_from(secs).unwrap_or(600) + 1));
    }
    let mut updated = d.clone();
    if let Some(n) = new_rs
        && let Some(rev) = n.metadata.annotation(REVISION)
        && d.metadata.annotation(REVISION) != Some(rev)
    {
        updated
            .metadata
            .annotations
            .insert(REVISION.into(), rev.to_owned());
        updated = Api::<Deployment>::namespaced(s.ctx.manager.store.clone(), &s.ns)
            .update(&updated)
            .await
            .map_err(|e| s.err(e))?;
    }
    if d.status.as_ref() != Some(&status) {
        updated.status = Some(status);
        match Api::<Deployment>::namespaced(s.ctx.manager.store.clone(), &s.ns)
            .update_status(&updated)
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_conflict() => return Ok(Action::requeue(Duration::from_millis(100))),
            Err(e) => return Err(s.err(e)),
        }
    }
    Ok(requeue.map_or_else(Action::await_change, Action::requeue))
}

/// Rolls `name` back to `revision` (0: the previous revision) by copying that ReplicaSet's
/// template into the Deployment, as `kubectl rollout undo` does. Returns the revision used.
///
/// # Errors
/// [`Error::RevisionNotFound`] when no owned ReplicaSet has that revision; store errors.
pub async fn rollback(api: &Api<Deployment>, name: &str, revision: i64) -> Result<i64, Error> {
    let d = api.get(name).await.map_err(|source| Error::Store {
        key: ObjectKey::new(api.namespace(), name),
        source,
    })?;
    let key = ObjectKey::of(&d);
    let err = |source| Error::Store {
        key: key.clone(),
        source,
    };
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let ns = d.namespace().unwrap_or("").to_owned();
    let rs_api: Api<ReplicaSet> = Api::namespaced(api.store().clone(), &ns);
    let mut owned: Vec<ReplicaSet> = rs_api
        .list(&Default::default())
        .await
        .map_err(err)?
        .items
        .into_iter()
        .filter(|r| r.metadata.is_controlled_by(&uid))
        .collect();
    owned.sort_by_key(revision_of);
    let current = d
        .metadata
        .annotation(REVISION)
        .and_then(|r| r.parse::<i64>().ok())
        .unwrap_or(0);
    let target = if revision == 0 {
        owned.iter().rev().find(|r| revision_of(r) != current)
    } else {
        owned.iter().find(|r| revision_of(r) == revision)
    };
    let Some(target) = target else {
        return Err(Error::RevisionNotFound { key, revision });
    };
    let mut updated = d.clone();
    if let Some(spec) = updated.spec.as_mut() {
        spec.template = template_without_hash(rs_template(target));
    }
    api.update(&updated).await.map_err(err)?;
    Ok(revision_of(target))
}
