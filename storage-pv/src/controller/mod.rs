//! The PV controller: level-triggered reconciliation of claims and volumes.
//!
//! [`reconcile_claim`] and [`reconcile_volume`] are pure: they read a [`StorageState`] (a
//! consistent view of volumes, claims, classes, pods and nodes) and return the
//! [`Action`]s that move one object towards its desired state. They hold no memory between
//! calls, so calling them again after a crash, a conflict or a missed event is always safe.
//! [`StorageController`] runs them per object on the runtime's `Controller<K>` (one for
//! claims, one for volumes), woken by watches on volumes, claims, classes, pods and nodes; a
//! reconcile reads a [`view::CacheView`] of the shared informer caches (never a list of the
//! store) and applies the actions with optimistic concurrency on every write (a conflict
//! requeues the object). [`Snapshot`] is the in-memory [`StorageState`] for tests and tools.
//!
//! What it does, as upstream v1.33's `persistentvolume` controller (plus the protection and
//! default-class pieces that live in other upstream controllers and admission plugins):
//! binding both sides (`spec.claimRef`, `spec.volumeName`, phases, the
//! `pv.kubernetes.io/*` annotations), pre-bound volumes and claims, dynamic provisioning
//! through a [`crate::provision::Provisioner`] (Immediate and WaitForFirstConsumer with the
//! `volume.kubernetes.io/selected-node` handshake), reclaim (Retain, Delete; Recycle is
//! reported as deprecated and fails), the `kubernetes.io/pvc-protection` and
//! `kubernetes.io/pv-protection` finalizers, the default StorageClass for claims without a
//! class, and volume expansion when the class allows it (see [`claims`] for the simplified
//! resize status).

pub mod claims;
pub mod events;
mod runner;
pub mod state;
pub mod view;
pub mod volumes;

pub use claims::reconcile_claim;
pub use events::{EventRecord, EventType};
pub use runner::{ControllerError, StorageController};
pub use state::{Snapshot, StorageState};
pub use volumes::reconcile_volume;

use kybern_core::Quantity;
use kybern_core::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim};
use kybern_core::api::storage::v1::StorageClass;

/// One step the controller wants taken. Writes carry the whole desired object (with the
/// `resourceVersion` it was computed from, so a concurrent change makes the write fail with
/// a conflict instead of overwriting it).
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Write a volume: metadata and spec, then status when it changed.
    UpdateVolume(Box<PersistentVolume>),
    /// Write a claim: metadata and spec, then status when it changed.
    UpdateClaim(Box<PersistentVolumeClaim>),
    /// Ask the class's provisioner for a volume for the claim, then create it pre-bound to
    /// the claim (the next pass binds it).
    Provision {
        /// The claim to provision for.
        claim: Box<PersistentVolumeClaim>,
        /// Its class.
        class: Box<StorageClass>,
        /// The node the scheduler selected (WaitForFirstConsumer).
        node: Option<Box<Node>>,
    },
    /// Delete the volume's storage asset through its provisioner, then the volume object.
    DeleteVolume(Box<PersistentVolume>),
    /// Grow a bound volume (and record it on the claim) through its provisioner.
    ExpandVolume {
        /// The volume to grow.
        volume: Box<PersistentVolume>,
        /// The claim asking for more.
        claim: Box<PersistentVolumeClaim>,
        /// The new size.
        size: Quantity,
    },
    /// Record an Event.
    Event(EventRecord),
}
