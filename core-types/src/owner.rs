//! Owner references, finalizers and lifecycle helpers on `ObjectMeta`.
//!
//! The small set of questions every controller asks of metadata: who controls this object, is
//! it owned by that one, is it being deleted, does it carry this finalizer — answered the way
//! upstream's `metav1.GetControllerOf` / `controllerutil` helpers answer them.

use crate::api::meta::v1::{ObjectMeta, OwnerReference};
use crate::resource::Resource;

/// Why an owner reference could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OwnerError {
    /// The owner has no `metadata.uid` yet (it was never stored).
    #[error(
        "owner {kind} {name:?} has no metadata.uid: it must be created before it can own objects"
    )]
    MissingUid {
        /// The owner's kind.
        kind: String,
        /// The owner's name.
        name: String,
    },
    /// The owner has no `metadata.name`.
    #[error("owner of kind {kind} has no metadata.name")]
    MissingName {
        /// The owner's kind.
        kind: String,
    },
    /// Another object already controls the dependent (upstream's `AlreadyOwnedError`).
    #[error("object is already controlled by {kind} {name:?} (uid {uid})")]
    AlreadyControlled {
        /// Kind of the existing controller.
        kind: String,
        /// Name of the existing controller.
        name: String,
        /// UID of the existing controller.
        uid: String,
    },
}

/// Builds an owner reference pointing at `owner`.
///
/// `controller` marks the owner as the managing controller (at most one per object);
/// `block_owner_deletion` makes foreground deletion of the owner wait for this dependent.
///
/// # Errors
/// [`OwnerError::MissingUid`] / [`OwnerError::MissingName`] when the owner was never stored.
pub fn owner_reference<K: Resource>(
    owner: &K,
    dt: &K::DynamicType,
    controller: bool,
    block_owner_deletion: bool,
) -> Result<OwnerReference, OwnerError> {
    let ar = K::api_resource(dt);
    let meta = owner.meta();
    let name = meta.name.clone().ok_or_else(|| OwnerError::MissingName {
        kind: ar.kind().to_owned(),
    })?;
    let uid = meta.uid.clone().ok_or_else(|| OwnerError::MissingUid {
        kind: ar.kind().to_owned(),
        name: name.clone(),
    })?;
    Ok(OwnerReference {
        api_version: ar.api_version().into_owned(),
        kind: ar.kind().to_owned(),
        name,
        uid,
        controller: controller.then_some(true),
        block_owner_deletion: block_owner_deletion.then_some(true),
    })
}

impl ObjectMeta {
    /// The owner reference with `controller: true`, if any (upstream `GetControllerOf`).
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references
            .iter()
            .find(|r| r.controller == Some(true))
    }

    /// Whether any owner reference points at this uid.
    pub fn is_owned_by(&self, owner_uid: &str) -> bool {
        self.owner_references.iter().any(|r| r.uid == owner_uid)
    }

    /// Whether the controller reference points at this uid.
    pub fn is_controlled_by(&self, owner_uid: &str) -> bool {
        self.controller_ref().is_some_and(|r| r.uid == owner_uid)
    }

    /// Adds or replaces (by uid) an owner reference.
    pub fn set_owner_reference(&mut self, reference: OwnerReference) {
        match self
            .owner_references
            .iter_mut()
            .find(|r| r.uid == reference.uid)
        {
            Some(existing) => *existing = reference,
            None => self.owner_references.push(reference),
        }
    }

    /// Sets `reference` as the controller, refusing when a different controller exists
    /// (upstream `SetControllerReference`).
    ///
    /// # Errors
    /// [`OwnerError::AlreadyControlled`] naming the existing controller.
    pub fn set_controller_reference(
        &mut self,
        mut reference: OwnerReference,
    ) -> Result<(), OwnerError> {
        if let Some(c) = self.controller_ref()
            && c.uid != reference.uid
        {
            return Err(OwnerError::AlreadyControlled {
                kind: c.kind.clone(),
                name: c.name.clone(),
                uid: c.uid.clone(),
            });
        }
        reference.controller = Some(true);
        self.set_owner_reference(reference);
        Ok(())
    }

    /// Removes every owner reference to this uid; returns whether one was removed.
    pub fn remove_owner_reference(&mut self, owner_uid: &str) -> bool {
        let before = self.owner_references.len();
        self.owner_references.retain(|r| r.uid != owner_uid);
        before != self.owner_references.len()
    }

    /// Whether the finalizer is present.
    pub fn has_finalizer(&self, finalizer: &str) -> bool {
        self.finalizers.iter().any(|f| f == finalizer)
    }

    /// Adds a finalizer unless present; returns whether it was added.
    pub fn add_finalizer(&mut self, finalizer: &str) -> bool {
        if self.has_finalizer(finalizer) {
            return false;
        }
        self.finalizers.push(finalizer.to_owned());
        true
    }

    /// Removes a finalizer; returns whether it was present.
    pub fn remove_finalizer(&mut self, finalizer: &str) -> bool {
        let before = self.finalizers.len();
        self.finalizers.retain(|f| f != finalizer);
        before != self.finalizers.len()
    }

    /// Whether deletion has been requested (`deletionTimestamp` is set).
    pub fn is_being_deleted(&self) -> bool {
        self.deletion_timestamp.is_some()
    }

    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// An annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apps::v1::ReplicaSet;

    fn rs(name: &str, uid: Option<&str>) -> ReplicaSet {
        let mut r = ReplicaSet::default();
        r.metadata.name = Some(name.into());
        r.metadata.uid = uid.map(Into::into);
        r
    }

    #[test]
    fn owner_reference_from_object() {
        let owner = rs("web", Some("u1"));
        let r = owner_reference(&owner, &(), true, true).unwrap();
        assert_eq!(
            (
                r.api_version.as_str(),
                r.kind.as_str(),
                r.name.as_str(),
                r.uid.as_str()
            ),
            ("apps/v1", "ReplicaSet", "web", "u1")
        );
        assert_eq!(
            (r.controller, r.block_owner_deletion),
            (Some(true), Some(true))
        );
        let err = owner_reference(&rs("web", None), &(), true, false).unwrap_err();
        assert!(matches!(err, OwnerError::MissingUid { .. }), "{err}");
    }

    #[test]
    fn controller_reference_is_exclusive() {
        let mut m = ObjectMeta::default();
        let a = owner_reference(&rs("a", Some("ua")), &(), false, false).unwrap();
        let b = owner_reference(&rs("b", Some("ub")), &(), false, false).unwrap();
        m.set_controller_reference(a.clone()).unwrap();
        assert!(m.is_controlled_by("ua"));
        m.set_controller_reference(a).unwrap();
        assert_eq!(m.owner_references.len(), 1);
        let err = m.set_controller_reference(b.clone()).unwrap_err();
        assert!(err.to_string().contains("\"a\""), "{err}");
        m.set_owner_reference(b);
        assert!(m.is_owned_by("ub") && !m.is_controlled_by("ub"));
        assert!(m.remove_owner_reference("ua"));
        assert!(m.controller_ref().is_none());
    }

    #[test]
    fn finalizers() {
        let mut m = ObjectMeta::default();
        assert!(m.add_finalizer("example.com/cleanup"));
        assert!(!m.add_finalizer("example.com/cleanup"));
        assert!(m.has_finalizer("example.com/cleanup"));
        assert!(m.remove_finalizer("example.com/cleanup"));
        assert!(!m.remove_finalizer("example.com/cleanup"));
        assert!(!m.is_being_deleted());
    }
}
