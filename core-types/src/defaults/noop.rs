//! Kinds upstream v1.33 does not default: their [`SetDefaults`] leaves the object unchanged.
//!
//! ConfigMap: upstream turns a nil `data` into an empty map, which is what an absent map
//! already is here. The others have no defaulting functions upstream.

use crate::api::apps::v1::ControllerRevision;
use crate::api::coordination::v1::Lease;
use crate::api::core::v1::{Binding, ConfigMap, Event, ResourceQuota, ServiceAccount};
use crate::api::networking::v1::Ingress;
use crate::api::policy::v1::PodDisruptionBudget;
use crate::api::rbac::v1::{ClusterRole, Role};

use super::SetDefaults;

macro_rules! no_defaults {
    ($($ty:ty),* $(,)?) => {
        $(
            impl SetDefaults for $ty {
                /// Upstream has no defaults for this kind: leaves it unchanged.
                fn set_defaults(&mut self) {}
            }
        )*
    };
}

no_defaults!(
    ConfigMap,
    ServiceAccount,
    Event,
    ResourceQuota,
    Binding,
    ControllerRevision,
    Ingress,
    Role,
    ClusterRole,
    Lease,
    PodDisruptionBudget,
);
