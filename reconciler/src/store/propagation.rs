//! Deletion propagation (upstream `DeletionPropagation`): which garbage-collection finalizers a
//! delete puts on an object, and each kind's default policy.
//!
//! A delete asks for [`PropagationPolicy::Orphan`], [`PropagationPolicy::Background`] or
//! [`PropagationPolicy::Foreground`], or for none, which means the kind's default
//! ([`default_policy`]). The store does not delete dependents itself: as upstream's registry
//! (`deletionFinalizersForGarbageCollection`), it only records the choice as a finalizer —
//! [`ORPHAN_FINALIZER`] or [`FOREGROUND_FINALIZER`] — and the garbage collector acts on it.
//! Background adds neither: the object goes at once (when it has no other finalizers) and the
//! collector deletes the dependents afterwards.
//!
//! ```
//! use kybern_core::Resource;
//! use kybern_core::api::apps::v1::ReplicaSet;
//! use kybern_reconciler::store::propagation::{gc_finalizers, PropagationPolicy};
//! let rs = ReplicaSet::api_resource(&());
//! let (changed, f) = gc_finalizers(&rs, &[], Some(PropagationPolicy::Foreground));
//! assert!(changed);
//! assert_eq!(f, vec!["foregroundDeletion".to_string()]);
//! // No policy: apps/v1 defaults to Background, which needs no finalizer.
//! assert_eq!(gc_finalizers(&rs, &[], None), (false, vec![]));
//! ```

use std::fmt;
use std::str::FromStr;

use kybern_core::ApiResource;

use super::StoreError;

/// The finalizer of foreground deletion: the object stays until its blocking dependents are
/// gone (upstream `metav1.FinalizerDeleteDependents`).
pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
/// The finalizer of orphaning deletion: the object stays until its dependents no longer
/// reference it (upstream `metav1.FinalizerOrphanDependents`).
pub const ORPHAN_FINALIZER: &str = "orphan";

/// How a delete treats the object's dependents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropagationPolicy {
    /// Keep the dependents, removing their owner references (the `orphan` finalizer).
    Orphan,
    /// Delete the object now; the garbage collector deletes the dependents afterwards.
    Background,
    /// Delete the dependents first; the object stays (with `deletionTimestamp` and the
    /// `foregroundDeletion` finalizer) until the blocking ones are gone.
    Foreground,
}

impl PropagationPolicy {
    /// The wire value (`Orphan`, `Background`, `Foreground`).
    pub fn as_str(self) -> &'static str {
        match self {
            PropagationPolicy::Orphan => "Orphan",
            PropagationPolicy::Background => "Background",
            PropagationPolicy::Foreground => "Foreground",
        }
    }
}

impl fmt::Display for PropagationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PropagationPolicy {
    type Err = StoreError;

    /// Parses the wire value.
    ///
    /// # Errors
    /// BadRequest with upstream's `ValidateDeleteOptions` message for anything else.
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "Orphan" => Ok(PropagationPolicy::Orphan),
            "Background" => Ok(PropagationPolicy::Background),
            "Foreground" => Ok(PropagationPolicy::Foreground),
            other => Err(StoreError::bad_request(format!(
                "propagationPolicy: Unsupported value: \"{other}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            ))),
        }
    }
}

/// The policy a delete without one uses for `resource` (upstream's per-kind
/// `DefaultGarbageCollectionPolicy`): Orphan for core/v1 ReplicationControllers and for the
/// workload kinds of the old groups (`extensions/v1beta1`, `apps/v1beta1`, `apps/v1beta2`:
/// ReplicaSet, Deployment, DaemonSet, StatefulSet), kept for backward compatibility;
/// Background for everything else.
pub fn default_policy(resource: &ApiResource) -> PropagationPolicy {
    let gvk = &resource.gvk;
    let orphan = match (gvk.group.as_ref(), gvk.version.as_ref()) {
        ("", "v1") => gvk.kind == "ReplicationController",
        ("extensions", "v1beta1") | ("apps", "v1beta1" | "v1beta2") => matches!(
            gvk.kind.as_ref(),
            "ReplicaSet" | "Deployment" | "DaemonSet" | "StatefulSet"
        ),
        _ => false,
    };
    if orphan {
        PropagationPolicy::Orphan
    } else {
        PropagationPolicy::Background
    }
}

/// Whether the delete orphans dependents: an explicit policy decides; without one, a
/// finalizer already on the object decides (an earlier delete's choice), then the kind's
/// default.
fn should_orphan(
    resource: &ApiResource,
    finalizers: &[String],
    policy: Option<PropagationPolicy>,
) -> bool {
    match policy {
        Some(p) => p == PropagationPolicy::Orphan,
        None if has(finalizers, ORPHAN_FINALIZER) => true,
        None if has(finalizers, FOREGROUND_FINALIZER) => false,
        None => default_policy(resource) == PropagationPolicy::Orphan,
    }
}

/// Whether the delete deletes dependents in the foreground.
fn should_foreground(finalizers: &[String], policy: Option<PropagationPolicy>) -> bool {
    match policy {
        Some(p) => p == PropagationPolicy::Foreground,
        None => has(finalizers, FOREGROUND_FINALIZER),
    }
}

fn has(finalizers: &[String], f: &str) -> bool {
    finalizers.iter().any(|x| x == f)
}

/// The finalizers an object with `finalizers` should have after a delete with `policy`, and
/// whether they differ from the current ones (as a set). The other finalizers keep their
/// order; [`ORPHAN_FINALIZER`] / [`FOREGROUND_FINALIZER`] are added at the end when wanted,
/// removed when not.
pub fn gc_finalizers(
    resource: &ApiResource,
    finalizers: &[String],
    policy: Option<PropagationPolicy>,
) -> (bool, Vec<String>) {
    let orphan = should_orphan(resource, finalizers, policy);
    with_gc_finalizers(finalizers, orphan, should_foreground(finalizers, policy))
}

/// The namespace's variant (upstream's namespace registry): only an explicit policy changes
/// the GC finalizers; the kind's default does not apply.
pub fn namespace_gc_finalizers(
    finalizers: &[String],
    policy: Option<PropagationPolicy>,
) -> (bool, Vec<String>) {
    let orphan = match policy {
        Some(p) => p == PropagationPolicy::Orphan,
        None => has(finalizers, ORPHAN_FINALIZER),
    };
    with_gc_finalizers(finalizers, orphan, should_foreground(finalizers, policy))
}

fn with_gc_finalizers(
    finalizers: &[String],
    orphan: bool,
    foreground: bool,
) -> (bool, Vec<String>) {
    let changed = has(finalizers, ORPHAN_FINALIZER) != orphan
        || has(finalizers, FOREGROUND_FINALIZER) != foreground;
    if !changed {
        return (false, finalizers.to_vec());
    }
    let mut next: Vec<String> = finalizers
        .iter()
        .filter(|f| *f != ORPHAN_FINALIZER && *f != FOREGROUND_FINALIZER)
        .cloned()
        .collect();
    if orphan {
        next.push(ORPHAN_FINALIZER.to_owned());
    }
    if foreground {
        next.push(FOREGROUND_FINALIZER.to_owned());
    }
    (true, next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kybern_core::api::apps::v1::ReplicaSet;
    use kybern_core::api::core::v1::ConfigMap;
    use kybern_core::{GroupVersionKind, Resource};

    fn old_rs() -> ApiResource {
        let mut r = ReplicaSet::api_resource(&());
        r.gvk = GroupVersionKind::from_static("extensions", "v1beta1", "ReplicaSet");
        r
    }

    fn rc() -> ApiResource {
        let mut r = ConfigMap::api_resource(&());
        r.gvk = GroupVersionKind::from_static("", "v1", "ReplicationController");
        r.plural = "replicationcontrollers".into();
        r
    }

    #[test]
    fn default_policies_follow_upstream() {
        let cases = [
            (ReplicaSet::api_resource(&()), PropagationPolicy::Background),
            (ConfigMap::api_resource(&()), PropagationPolicy::Background),
            (rc(), PropagationPolicy::Orphan),
            (old_rs(), PropagationPolicy::Orphan),
        ];
        for (res, want) in cases {
            assert_eq!(default_policy(&res), want, "{}", res.gvk.kind);
        }
    }

    #[test]
    fn finalizers_per_policy() {
        use PropagationPolicy::{Background, Foreground, Orphan};
        let rs = ReplicaSet::api_resource(&());
        let rc = rc();
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        // (resource, current finalizers, policy, want changed, want finalizers)
        type Case<'a> = (
            &'a ApiResource,
            Vec<String>,
            Option<PropagationPolicy>,
            bool,
            Vec<String>,
        );
        let cases: Vec<Case<'_>> = vec![
            (&rs, s(&[]), None, false, s(&[])),
            (&rs, s(&[]), Some(Background), false, s(&[])),
            (
                &rs,
                s(&["x"]),
                Some(Foreground),
                true,
                s(&["x", "foregroundDeletion"]),
            ),
            (&rs, s(&["x"]), Some(Orphan), true, s(&["x", "orphan"])),
            (
                &rs,
                s(&["orphan", "x"]),
                Some(Foreground),
                true,
                s(&["x", "foregroundDeletion"]),
            ),
            (&rs, s(&["orphan"]), Some(Background), true, s(&[])),
            (&rs, s(&["orphan"]), None, false, s(&["orphan"])),
            (
                &rs,
                s(&["foregroundDeletion"]),
                None,
                false,
                s(&["foregroundDeletion"]),
            ),
            (&rc, s(&[]), None, true, s(&["orphan"])),
            (
                &rc,
                s(&["foregroundDeletion"]),
                None,
                false,
                s(&["foregroundDeletion"]),
            ),
            (&rc, s(&[]), Some(Background), false, s(&[])),
        ];
        for (res, cur, policy, changed, want) in cases {
            assert_eq!(
                gc_finalizers(res, &cur, policy),
                (changed, want),
                "{} {cur:?} {policy:?}",
                res.gvk.kind
            );
        }
    }

    #[test]
    fn namespaces_ignore_the_default_policy() {
        assert_eq!(namespace_gc_finalizers(&[], None), (false, vec![]));
        assert_eq!(
            namespace_gc_finalizers(&[], Some(PropagationPolicy::Orphan)),
            (true, vec![ORPHAN_FINALIZER.to_owned()])
        );
    }

    #[test]
    fn policy_round_trips_through_its_wire_value() {
        for p in [
            PropagationPolicy::Orphan,
            PropagationPolicy::Background,
            PropagationPolicy::Foreground,
        ] {
            assert_eq!(p.as_str().parse::<PropagationPolicy>().ok(), Some(p));
        }
        let err = "Sideways"
            .parse::<PropagationPolicy>()
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("Unsupported value: \"Sideways\"")));
    }
}
