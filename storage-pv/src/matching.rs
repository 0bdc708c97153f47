//! Matching claims to volumes: the single rule set shared by the PV controller and the
//! scheduler's volume binding, in upstream's order (`FindMatchingVolume`, the PV controller's
//! access-mode index), plus an index that finds the best volume without scanning them all.
//!
//! The rules, for a claim and one candidate volume:
//! 1. volumes excluded by the caller (the scheduler's already-chosen volumes) are skipped;
//! 2. a volume whose `claimRef` names another claim is skipped (`claimRef: {}`, present but
//!    empty, reserves the volume for "some other claim");
//! 3. capacity must be at least the request, `volumeMode` equal (unset = Filesystem), and the
//!    volume not being deleted;
//! 4. a volume pre-bound to this claim (`claimRef` name + namespace, and uid when set) wins at
//!    once — unless a node is given and its node affinity rejects the node: then nothing
//!    matches;
//! 5. with delayed binding and no node (the PV controller under WaitForFirstConsumer) unbound
//!    volumes are left to the scheduler;
//! 6. otherwise the volume must be `Available`, match the claim's selector, have the claim's
//!    class (see [`crate::annotations::claim_class`]) and `volumeAttributesClassName`, fit
//!    the node's labels when a node is given, and (scheduler path) offer every requested
//!    access mode;
//! 7. among those, the smallest capacity wins.
//!
//! The PV controller applies these rules group by group: volumes are grouped by their exact
//! access-mode set, only groups offering every requested mode are tried, the groups with the
//! fewest modes first, and the first group with a match decides. [`VolumeIndex`] keeps that
//! grouping and, inside each group and class, the available volumes sorted by capacity, so a
//! lookup is a binary search to the first volume large enough.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use kybern_core::Quantity;
use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim};
use kybern_core::labels::{LabelSelectorError, Selector, label_selector_as_selector};

use crate::annotations::{FILESYSTEM, STORAGE, VOLUME_AVAILABLE, claim_class, volume_class};
use crate::node_affinity::check_volume_node_affinity;

/// A claim that cannot be matched at all.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MatchError {
    /// The claim's `spec.selector` is not a valid label selector.
    #[error("error creating internal label selector for claim: {claim}: {source}")]
    InvalidSelector {
        /// `namespace/name` of the claim.
        claim: String,
        /// What is wrong with the selector.
        source: LabelSelectorError,
    },
    /// The claim sets `volumeAttributesClassName` while the VolumeAttributesClass feature is
    /// off (the v1.33 default), so no volume can honour it.
    #[error(
        "claim {claim} requests volumeAttributesClassName {class:?} but the VolumeAttributesClass feature is disabled"
    )]
    VolumeAttributesClassDisabled {
        /// `namespace/name` of the claim.
        claim: String,
        /// The requested volume attributes class.
        class: String,
    },
}

/// Why a volume the claim asked for by name (`spec.volumeName`) cannot serve it (upstream's
/// `checkVolumeSatisfyClaim`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SatisfyError {
    /// The volume has a deletion timestamp.
    #[error("the volume is marked for deletion {0:?}")]
    MarkedForDeletion(String),
    /// Capacity below the request.
    #[error("requested PV is too small")]
    TooSmall,
    /// Class differs.
    #[error("storageClassName does not match")]
    ClassMismatch,
    /// `volumeMode` differs.
    #[error("incompatible volumeMode")]
    VolumeModeMismatch,
    /// The volume lacks a requested access mode.
    #[error("incompatible accessMode")]
    AccessModeMismatch,
    /// `volumeAttributesClassName` differs.
    #[error("volumeAttributesClassName does not match")]
    VolumeAttributesClassMismatch,
}

/// `namespace/name` of a claim.
pub fn claim_key(claim: &PersistentVolumeClaim) -> String {
    format!(
        "{}/{}",
        claim.metadata.namespace.as_deref().unwrap_or(""),
        claim.metadata.name.as_deref().unwrap_or("")
    )
}

/// The storage a claim requests (`spec.resources.requests.storage`, zero when absent).
pub fn requested_storage(claim: &PersistentVolumeClaim) -> Quantity {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.get(STORAGE))
        .cloned()
        .unwrap_or_default()
}

/// A volume's capacity (`spec.capacity.storage`, zero when absent).
pub fn volume_capacity(volume: &PersistentVolume) -> Quantity {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.capacity.get(STORAGE))
        .cloned()
        .unwrap_or_default()
}

/// Upstream's `CheckVolumeModeMismatches`: unset means `Filesystem` on both sides.
pub fn volume_mode_mismatch(claim_mode: Option<&str>, volume_mode: Option<&str>) -> bool {
    claim_mode.unwrap_or(FILESYSTEM) != volume_mode.unwrap_or(FILESYSTEM)
}

fn claim_volume_mode(claim: &PersistentVolumeClaim) -> Option<&str> {
    claim.spec.as_ref().and_then(|s| s.volume_mode.as_deref())
}

fn pv_volume_mode(volume: &PersistentVolume) -> Option<&str> {
    volume.spec.as_ref().and_then(|s| s.volume_mode.as_deref())
}

fn claim_modes(claim: &PersistentVolumeClaim) -> &[String] {
    claim
        .spec
        .as_ref()
        .map_or(&[], |s| s.access_modes.as_slice())
}

fn volume_modes(volume: &PersistentVolume) -> &[String] {
    volume
        .spec
        .as_ref()
        .map_or(&[], |s| s.access_modes.as_slice())
}

fn claim_vac(claim: &PersistentVolumeClaim) -> &str {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_attributes_class_name.as_deref())
        .unwrap_or("")
}

fn volume_vac(volume: &PersistentVolume) -> &str {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.volume_attributes_class_name.as_deref())
        .unwrap_or("")
}

fn volume_phase(volume: &PersistentVolume) -> &str {
    volume
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Upstream's `CheckAccessModes`: the volume offers every access mode the claim requests.
pub fn check_access_modes(claim: &PersistentVolumeClaim, volume: &PersistentVolume) -> bool {
    let offered = volume_modes(volume);
    claim_modes(claim).iter().all(|m| offered.contains(m))
}

/// Upstream's `IsVolumeBoundToClaim`: the volume's `claimRef` names this claim (name and
/// namespace; the uid too when the reference carries one).
pub fn is_volume_bound_to_claim(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(r) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    if r.name.as_deref().unwrap_or("") != claim.metadata.name.as_deref().unwrap_or("")
        || r.namespace.as_deref().unwrap_or("") != claim.metadata.namespace.as_deref().unwrap_or("")
    {
        return false;
    }
    let ref_uid = r.uid.as_deref().unwrap_or("");
    ref_uid.is_empty() || ref_uid == claim.metadata.uid.as_deref().unwrap_or("")
}

/// Upstream's `checkVolumeSatisfyClaim`: can a volume the claim names in `spec.volumeName`
/// serve it?
///
/// # Errors
/// The first unmet condition, in upstream's order.
pub fn check_volume_satisfy_claim(
    volume: &PersistentVolume,
    claim: &PersistentVolumeClaim,
) -> Result<(), SatisfyError> {
    if volume.metadata.deletion_timestamp.is_some() {
        return Err(SatisfyError::MarkedForDeletion(
            volume.metadata.name.clone().unwrap_or_default(),
        ));
    }
    if volume_capacity(volume) < requested_storage(claim) {
        return Err(SatisfyError::TooSmall);
    }
    if volume_class(volume) != claim_class(claim) {
        return Err(SatisfyError::ClassMismatch);
    }
    if volume_mode_mismatch(claim_volume_mode(claim), pv_volume_mode(volume)) {
        return Err(SatisfyError::VolumeModeMismatch);
    }
    if !check_access_modes(claim, volume) {
        return Err(SatisfyError::AccessModeMismatch);
    }
    if !claim_vac(claim).is_empty() && claim_vac(claim) != volume_vac(volume) {
        return Err(SatisfyError::VolumeAttributesClassMismatch);
    }
    Ok(())
}

/// Options of one match.
#[derive(Clone, Copy, Debug, Default)]
pub struct MatchOptions<'a> {
    /// The node the scheduler evaluates (scheduler path); `None` in the PV controller.
    pub node: Option<&'a Node>,
    /// Volume names already chosen for other claims of the same pod (scheduler path).
    pub excluded: Option<&'a HashSet<String>>,
    /// The claim's class binds WaitForFirstConsumer (PV controller path: only volumes
    /// pre-bound to the claim may match).
    pub delay_binding: bool,
    /// The VolumeAttributesClass feature gate (beta and off by default in v1.33).
    pub volume_attributes_class: bool,
}

/// A claim's matching parameters, computed once per lookup.
struct Request<'c> {
    claim: &'c PersistentVolumeClaim,
    quantity: Quantity,
    class: &'c str,
    selector: Option<Selector>,
    vac: &'c str,
}

impl<'c> Request<'c> {
    fn new(claim: &'c PersistentVolumeClaim, vac_enabled: bool) -> Result<Self, MatchError> {
        let selector = match claim.spec.as_ref().and_then(|s| s.selector.as_ref()) {
            None => None,
            Some(sel) => Some(label_selector_as_selector(Some(sel)).map_err(|source| {
                MatchError::InvalidSelector {
                    claim: claim_key(claim),
                    source,
                }
            })?),
        };
        let vac = claim_vac(claim);
        if !vac_enabled && !vac.is_empty() {
            return Err(MatchError::VolumeAttributesClassDisabled {
                claim: claim_key(claim),
                class: vac.to_owned(),
            });
        }
        Ok(Request {
            claim,
            quantity: requested_storage(claim),
            class: claim_class(claim),
            selector,
            vac,
        })
    }

    /// Rules 1-3 (everything but binding state and the unbound-only rules).
    fn basic_fit(
        &self,
        v: &PersistentVolume,
        capacity: &Quantity,
        opts: &MatchOptions<'_>,
    ) -> bool {
        if let (Some(ex), Some(name)) = (opts.excluded, v.metadata.name.as_deref())
            && ex.contains(name)
        {
            return false;
        }
        *capacity >= self.quantity
            && !volume_mode_mismatch(claim_volume_mode(self.claim), pv_volume_mode(v))
            && v.metadata.deletion_timestamp.is_none()
    }

    fn node_fits(&self, v: &PersistentVolume, opts: &MatchOptions<'_>) -> bool {
        match opts.node {
            None => true,
            Some(node) => check_volume_node_affinity(
                v,
                node.metadata.name.as_deref().unwrap_or(""),
                &node.metadata.labels,
            )
            .is_ok(),
        }
    }

    /// Rule 6 for an unbound volume (phase, selector, class, attributes class, node, modes).
    fn unbound_fit(
        &self,
        v: &PersistentVolume,
        opts: &MatchOptions<'_>,
        check_class: bool,
    ) -> bool {
        if volume_phase(v) != VOLUME_AVAILABLE {
            return false;
        }
        if let Some(sel) = &self.selector
            && !sel.matches(&v.metadata.labels)
        {
            return false;
        }
        if check_class && volume_class(v) != self.class {
            return false;
        }
        if opts.volume_attributes_class {
            if volume_vac(v) != self.vac {
                return false;
            }
        } else if !volume_vac(v).is_empty() {
            return false;
        }
        if !self.node_fits(v, opts) {
            return false;
        }
        opts.node.is_none() || check_access_modes(self.claim, v)
    }
}

/// Upstream's `FindMatchingVolume` over a plain list of volumes (the reference the index is
/// checked against): the volume pre-bound to the claim, else the smallest fitting one.
///
/// # Errors
/// [`MatchError`] when the claim itself cannot be matched (invalid selector, disabled
/// attributes class).
pub fn find_matching_volume<'v>(
    claim: &PersistentVolumeClaim,
    volumes: impl IntoIterator<Item = &'v PersistentVolume>,
    opts: &MatchOptions<'_>,
) -> Result<Option<&'v PersistentVolume>, MatchError> {
    let req = Request::new(claim, opts.volume_attributes_class)?;
    let mut best: Option<(&'v PersistentVolume, Quantity)> = None;
    for v in volumes {
        let has_ref = v.spec.as_ref().is_some_and(|s| s.claim_ref.is_some());
        let bound_here = is_volume_bound_to_claim(v, claim);
        if has_ref && !bound_here {
            continue;
        }
        let capacity = volume_capacity(v);
        if !req.basic_fit(v, &capacity, opts) {
            continue;
        }
        if bound_here {
            return Ok(req.node_fits(v, opts).then_some(v));
        }
        if opts.node.is_none() && opts.delay_binding {
            continue;
        }
        if !req.unbound_fit(v, opts, true) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, q)| *q > capacity) {
            best = Some((v, capacity));
        }
    }
    Ok(best.map(|(v, _)| v))
}

/// The PV controller's lookup without an index (upstream's `findByClaim`): volumes grouped
/// by access-mode set, groups offering every requested mode tried fewest modes first, each
/// through [`find_matching_volume`]. Scans every volume; [`VolumeIndex::find_best_match`]
/// gives the same answers without doing so.
///
/// # Errors
/// As [`find_matching_volume`].
pub fn find_best_match_linear<'v>(
    claim: &PersistentVolumeClaim,
    volumes: &'v [PersistentVolume],
    delay_binding: bool,
    volume_attributes_class: bool,
) -> Result<Option<&'v PersistentVolume>, MatchError> {
    let mut groups: BTreeMap<ModeSet, Vec<&'v PersistentVolume>> = BTreeMap::new();
    for v in volumes {
        groups
            .entry(ModeSet::of(volume_modes(v)))
            .or_default()
            .push(v);
    }
    let wanted = ModeSet::of(claim_modes(claim));
    let mut keys: Vec<&ModeSet> = groups.keys().filter(|k| k.covers(&wanted)).collect();
    keys.sort_by_key(|k| (k.0.len(), *k));
    let opts = MatchOptions {
        delay_binding,
        volume_attributes_class,
        ..MatchOptions::default()
    };
    for key in keys {
        if let Some(list) = groups.get(key)
            && let Some(v) = find_matching_volume(claim, list.iter().copied(), &opts)?
        {
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// A sorted, de-duplicated set of access modes: the index's grouping key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ModeSet(Vec<String>);

impl ModeSet {
    fn of(modes: &[String]) -> Self {
        let set: BTreeSet<&String> = modes.iter().collect();
        ModeSet(set.into_iter().cloned().collect())
    }

    fn covers(&self, wanted: &ModeSet) -> bool {
        wanted.0.iter().all(|m| self.0.binary_search(m).is_ok())
    }
}

struct Entry {
    volume: PersistentVolume,
    modes: ModeSet,
    capacity: Quantity,
    class: String,
    /// Whether it sits in its group's available set (unbound, Available, not deleting).
    available: bool,
    /// The node names (hostname label values) its node affinity pins it to, if it is of
    /// that simple form ([`crate::node_affinity::pinned_node_names`]).
    pinned: Option<Vec<String>>,
}

#[derive(Default)]
struct Group {
    /// Available volumes by class, sorted by capacity then slot.
    by_class: HashMap<String, BTreeSet<(Quantity, usize)>>,
    /// The same without the volumes pinned to named nodes (those are in
    /// `VolumeIndex::pinned`).
    unpinned_by_class: HashMap<String, BTreeSet<(Quantity, usize)>>,
}

/// Identity of an indexed volume: name and uid (a re-created volume is a new object).
type VolumeKey = (String, String);

/// An index of PersistentVolumes for matching claims without scanning every volume.
///
/// Volumes are grouped by access-mode set, then by class; available volumes are kept sorted
/// by capacity, so the best unbound volume is found by a binary search to the first large
/// enough entry (followed by a short scan when selectors, volume modes or node affinity rule
/// some out). Volumes pre-bound to a claim are indexed by the claim's namespace and name.
/// Keep it current with [`VolumeIndex::upsert`] and [`VolumeIndex::remove`].
#[derive(Default)]
pub struct VolumeIndex {
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    by_key: HashMap<VolumeKey, usize>,
    groups: BTreeMap<ModeSet, Group>,
    prebound: HashMap<(String, String), Vec<usize>>,
    /// Available volumes pinned to named nodes, by (class, node hostname), sorted by
    /// capacity then slot: the scheduler's per-node lookup without a scan.
    pinned: HashMap<(String, String), BTreeSet<(Quantity, usize)>>,
    volume_attributes_class: bool,
}

impl std::fmt::Debug for VolumeIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VolumeIndex")
            .field("volumes", &self.len())
            .field("access_mode_groups", &self.groups.len())
            .finish()
    }
}

fn volume_key(v: &PersistentVolume) -> VolumeKey {
    (
        v.metadata.name.clone().unwrap_or_default(),
        v.metadata.uid.clone().unwrap_or_default(),
    )
}

impl VolumeIndex {
    /// An empty index (VolumeAttributesClass feature off, as in v1.33 by default).
    pub fn new() -> Self {
        Self::default()
    }

    /// An index holding `volumes`.
    pub fn from_volumes(volumes: impl IntoIterator<Item = PersistentVolume>) -> Self {
        let mut index = Self::new();
        for v in volumes {
            index.upsert(v);
        }
        index
    }

    /// Turns the VolumeAttributesClass feature gate on or off for lookups.
    pub fn with_volume_attributes_class(mut self, enabled: bool) -> Self {
        self.volume_attributes_class = enabled;
        self
    }

    /// How many volumes are indexed.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Every indexed volume, in no particular order.
    pub fn volumes(&self) -> impl Iterator<Item = &PersistentVolume> {
        self.slots.iter().flatten().map(|e| &e.volume)
    }

    /// Adds a volume, or replaces the indexed volume with the same name and uid.
    pub fn upsert(&mut self, volume: PersistentVolume) {
        let key = volume_key(&volume);
        if let Some(&slot) = self.by_key.get(&key) {
            self.unlink(slot);
            self.link(slot, volume);
        } else {
            let slot = match self.free.pop() {
                Some(s) => s,
                None => {
                    self.slots.push(None);
                    self.slots.len() - 1
                }
            };
            self.by_key.insert(key, slot);
            self.link(slot, volume);
        }
    }

    /// Removes the volume with this name and uid; returns it if it was indexed.
    pub fn remove(&mut self, name: &str, uid: &str) -> Option<PersistentVolume> {
        let slot = self.by_key.remove(&(name.to_owned(), uid.to_owned()))?;
        let entry = self.unlink(slot);
        self.free.push(slot);
        entry.map(|e| e.volume)
    }

    fn link(&mut self, slot: usize, volume: PersistentVolume) {
        let modes = ModeSet::of(volume_modes(&volume));
        let capacity = volume_capacity(&volume);
        let class = volume_class(&volume).to_owned();
        let claim_ref = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        let available = claim_ref.is_none()
            && volume_phase(&volume) == VOLUME_AVAILABLE
            && volume.metadata.deletion_timestamp.is_none();
        if let Some(r) = claim_ref {
            self.prebound
                .entry((
                    r.namespace.clone().unwrap_or_default(),
                    r.name.clone().unwrap_or_default(),
                ))
                .or_default()
                .push(slot);
        }
        let pinned = crate::node_affinity::pinned_node_names(&volume)
            .map(|names| names.into_iter().collect::<Vec<_>>());
        let group = self.groups.entry(modes.clone()).or_default();
        if available {
            group
                .by_class
                .entry(class.clone())
                .or_default()
                .insert((capacity, slot));
            match &pinned {
                Some(names) => {
                    for n in names {
                        self.pinned
                            .entry((class.clone(), n.clone()))
                            .or_default()
                            .insert((capacity, slot));
                    }
                }
                None => {
                    group
                        .unpinned_by_class
                        .entry(class.clone())
                        .or_default()
                        .insert((capacity, slot));
                }
            }
        }
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Some(Entry {
                volume,
                modes,
                capacity,
                class,
                available,
                pinned,
            });
        }
    }

    fn unlink(&mut self, slot: usize) -> Option<Entry> {
        let entry = self.slots.get_mut(slot)?.take()?;
        if let Some(r) = entry
            .volume
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
        {
            let key = (
                r.namespace.clone().unwrap_or_default(),
                r.name.clone().unwrap_or_default(),
            );
            if let Some(list) = self.prebound.get_mut(&key) {
                list.retain(|&s| s != slot);
                if list.is_empty() {
                    self.prebound.remove(&key);
                }
            }
        }
        if entry.available
            && let Some(group) = self.groups.get_mut(&entry.modes)
        {
            for sets in [&mut group.by_class, &mut group.unpinned_by_class] {
                if let Some(set) = sets.get_mut(&entry.class) {
                    set.remove(&(entry.capacity, slot));
                    if set.is_empty() {
                        sets.remove(&entry.class);
                    }
                }
            }
        }
        if entry.available
            && let Some(names) = &entry.pinned
        {
            for n in names {
                let key = (entry.class.clone(), n.clone());
                if let Some(set) = self.pinned.get_mut(&key) {
                    set.remove(&(entry.capacity, slot));
                    if set.is_empty() {
                        self.pinned.remove(&key);
                    }
                }
            }
        }
        Some(entry)
    }

    fn entry(&self, slot: usize) -> Option<&Entry> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// Slots of volumes pre-bound to the claim (name/namespace/uid), in the order they were
    /// indexed (several volumes pre-bound to one claim: the first indexed wins, as the first
    /// listed wins upstream).
    fn prebound_for(&self, claim: &PersistentVolumeClaim) -> Vec<usize> {
        let key = (
            claim.metadata.namespace.clone().unwrap_or_default(),
            claim.metadata.name.clone().unwrap_or_default(),
        );
        let slots: Vec<usize> = self
            .prebound
            .get(&key)
            .map(|l| {
                l.iter()
                    .copied()
                    .filter(|&s| {
                        self.entry(s)
                            .is_some_and(|e| is_volume_bound_to_claim(&e.volume, claim))
                    })
                    .collect()
            })
            .unwrap_or_default();
        slots
    }

    /// The first (smallest) available volume in `set` that fits the request.
    fn first_fit(
        &self,
        set: &BTreeSet<(Quantity, usize)>,
        req: &Request<'_>,
        opts: &MatchOptions<'_>,
    ) -> Option<usize> {
        set.range((req.quantity, 0)..)
            .map(|(_, slot)| *slot)
            .find(|&slot| {
                self.entry(slot).is_some_and(|e| {
                    req.basic_fit(&e.volume, &e.capacity, opts)
                        && req.unbound_fit(&e.volume, opts, false)
                })
            })
    }

    /// The PV controller's best match for a claim (upstream's `findBestMatchForClaim`): the
    /// access-mode groups offering every requested mode, fewest modes first; in each, a volume
    /// pre-bound to the claim, else (unless `delay_binding`) the smallest available volume of
    /// the claim's class that fits.
    ///
    /// # Errors
    /// As [`find_matching_volume`].
    pub fn find_best_match(
        &self,
        claim: &PersistentVolumeClaim,
        delay_binding: bool,
    ) -> Result<Option<&PersistentVolume>, MatchError> {
        let opts = MatchOptions {
            delay_binding,
            volume_attributes_class: self.volume_attributes_class,
            ..MatchOptions::default()
        };
        let req = Request::new(claim, opts.volume_attributes_class)?;
        let wanted = ModeSet::of(claim_modes(claim));
        let mut groups: Vec<(&ModeSet, &Group)> = self
            .groups
            .iter()
            .filter(|(k, _)| k.covers(&wanted))
            .collect();
        groups.sort_by_key(|(k, _)| (k.0.len(), *k));
        let prebound = self.prebound_for(claim);
        for (modes, group) in groups {
            let pre = prebound.iter().copied().find(|&s| {
                self.entry(s).is_some_and(|e| {
                    e.modes == *modes && req.basic_fit(&e.volume, &e.capacity, &opts)
                })
            });
            if let Some(slot) = pre {
                return Ok(self.entry(slot).map(|e| &e.volume));
            }
            if delay_binding {
                continue;
            }
            if let Some(set) = group.by_class.get(req.class)
                && let Some(slot) = self.first_fit(set, &req, &opts)
            {
                return Ok(self.entry(slot).map(|e| &e.volume));
            }
        }
        Ok(None)
    }

    /// The scheduler's match for a claim on a node (upstream's volume binder
    /// `FindMatchingVolume` over the volumes of the claim's class, with the node's labels and
    /// the volumes already chosen for the pod's other claims excluded).
    ///
    /// # Errors
    /// As [`find_matching_volume`].
    pub fn find_for_node(
        &self,
        claim: &PersistentVolumeClaim,
        node: &Node,
        excluded: &HashSet<String>,
    ) -> Result<Option<&PersistentVolume>, MatchError> {
        let opts = MatchOptions {
            node: Some(node),
            excluded: Some(excluded),
            delay_binding: true,
            volume_attributes_class: self.volume_attributes_class,
        };
        let req = Request::new(claim, opts.volume_attributes_class)?;
        for slot in self.prebound_for(claim) {
            if let Some(e) = self.entry(slot)
                && e.class == req.class
                && req.basic_fit(&e.volume, &e.capacity, &opts)
            {
                return Ok(req.node_fits(&e.volume, &opts).then_some(&e.volume));
            }
        }
        let wanted = ModeSet::of(claim_modes(claim));
        let mut best: Option<&Entry> = None;
        for (modes, group) in &self.groups {
            if !modes.covers(&wanted) {
                continue;
            }
            if let Some(set) = group.unpinned_by_class.get(req.class)
                && let Some(e) = self.first_fit(set, &req, &opts).and_then(|s| self.entry(s))
                && best.is_none_or(|b| b.capacity > e.capacity)
            {
                best = Some(e);
            }
        }
        // Volumes pinned to named nodes: only those pinned to this node's hostname.
        let host = node.metadata.labels.get(crate::annotations::HOSTNAME_LABEL);
        if let Some(set) = host.and_then(|h| self.pinned.get(&(req.class.to_owned(), h.clone()))) {
            let pinned = set
                .range((req.quantity, 0)..)
                .filter_map(|(_, slot)| self.entry(*slot))
                .find(|e| {
                    e.modes.covers(&wanted)
                        && req.basic_fit(&e.volume, &e.capacity, &opts)
                        && req.unbound_fit(&e.volume, &opts, false)
                });
            if let Some(e) = pinned
                && best.is_none_or(|b| b.capacity > e.capacity)
            {
                best = Some(e);
            }
        }
        Ok(best.map(|e| &e.volume))
    }
}
