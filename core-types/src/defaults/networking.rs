//! Defaults of the `networking.k8s.io/v1` kinds: NetworkPolicy and IngressClass.
//!
//! Upstream: `pkg/apis/networking/v1/defaults.go`. Ingress has no defaults (`pathType` is
//! required in v1, not defaulted); it is a no-op in `noop.rs`.

use crate::api::networking::v1::{IngressClass, NetworkPolicy};

use super::{SetDefaults, default_str};

impl SetDefaults for NetworkPolicy {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        let ports = spec
            .ingress
            .iter_mut()
            .flat_map(|r| r.ports.iter_mut())
            .chain(spec.egress.iter_mut().flat_map(|r| r.ports.iter_mut()));
        for p in ports {
            default_str(&mut p.protocol, "TCP");
        }
        if spec.policy_types.is_empty() {
            spec.policy_types.push("Ingress".to_owned());
            if !spec.egress.is_empty() {
                spec.policy_types.push("Egress".to_owned());
            }
        }
    }
}

impl SetDefaults for IngressClass {
    fn set_defaults(&mut self) {
        let params = self.spec.as_mut().and_then(|s| s.parameters.as_mut());
        if let Some(p) = params
            && p.scope.is_none()
        {
            p.scope = Some("Cluster".to_owned());
        }
    }
}
