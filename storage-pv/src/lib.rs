//! `kybern-storage`: PersistentVolumes, claims and StorageClasses that bind, provision and
//! reclaim for real.
//!
//! # Where to start
//! - [`matching`]: the one rule set deciding which volume serves which claim, shared by the
//!   PV controller and the scheduler, with an index ([`matching::VolumeIndex`]) that finds
//!   the best volume among 100,000 without scanning them.
//! - [`controller`]: the PV controller as level-triggered functions
//!   ([`controller::reconcile_claim`], [`controller::reconcile_volume`]) from a view of the
//!   cluster to a list of [`controller::Action`]s, and [`controller::StorageController`],
//!   which runs them per object on the runtime's `Controller<K>` from shared informer caches
//!   (binding, provisioning, reclaim, protection finalizers, default class, expansion,
//!   Events).
//! - [`provision`]: the [`provision::Provisioner`] trait and a real local-path provisioner
//!   (one directory per volume, quota-checked).
//! - [`scheduling`]: the scheduler's volume decisions (VolumeBinding, VolumeRestrictions,
//!   NodeVolumeLimits) as pure functions.
//! - [`statefulset`]: claim names and per-replica claims for StatefulSet
//!   `volumeClaimTemplates`.
//! - `scheduler` (feature `scheduler`): those decisions as `kybern-scheduler` framework
//!   plugins over a watch-fed volume cache, and a profile that includes them.
//!
//! Kubernetes v1.33 is the reference for behaviour, Event reasons and messages.

pub mod annotations;
pub mod controller;
pub mod matching;
pub mod node_affinity;
pub mod provision;
#[cfg(feature = "scheduler")]
pub mod scheduler;
pub mod scheduling;
pub mod statefulset;
