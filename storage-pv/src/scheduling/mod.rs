//! The scheduler's volume decisions as pure functions over (pod, node, claims, volumes,
//! classes), with upstream's failure messages, ready to wrap in the scheduler framework's
//! plugin traits: [`volume_binding`] (VolumeBinding: PreFilter, Filter, Reserve/PreBind,
//! Unreserve), [`restrictions`] (VolumeRestrictions: ReadWriteOncePod conflicts) and
//! [`limits`] (NodeVolumeLimits: attachable volumes per CSI driver).

pub mod limits;
pub mod restrictions;
pub mod volume_binding;
