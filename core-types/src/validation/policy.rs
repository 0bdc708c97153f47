//! `PodDisruptionBudget` (`policy/v1`) validation with upstream's messages.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::name_is_dns_subdomain;
use super::selector::validate_label_selector;
use super::workloads::{is_not_more_than_100_percent, validate_positive_int_or_percent};
use crate::api::policy::v1::PodDisruptionBudget;

impl Validate for PodDisruptionBudget {
    /// Metadata; not both `minAvailable` and `maxUnavailable`; each a non-negative integer or a
    /// percentage ≤ 100%; selector; `unhealthyPodEvictionPolicy` supported.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let Some(spec) = &self.spec else {
            return errs;
        };
        let sp = FieldPath::new("spec");
        if spec.min_available.is_some() && spec.max_unavailable.is_some() {
            errs.push(FieldError::invalid(
                &sp,
                serde_json::to_value(spec).unwrap_or_default(),
                "minAvailable and maxUnavailable cannot be both set",
            ));
        }
        for (v, name) in [
            (&spec.min_available, "minAvailable"),
            (&spec.max_unavailable, "maxUnavailable"),
        ] {
            if let Some(v) = v {
                errs.extend(validate_positive_int_or_percent(v, &sp.child(name)));
                errs.extend(is_not_more_than_100_percent(v, &sp.child(name)));
            }
        }
        if let Some(sel) = &spec.selector {
            errs.extend(validate_label_selector(sel, &sp.child("selector")));
        }
        if let Some(p) = spec.unhealthy_pod_eviction_policy.as_deref()
            && p != "AlwaysAllow"
            && p != "IfHealthyBudget"
        {
            errs.push(FieldError::not_supported(
                &sp.child("unhealthyPodEvictionPolicy"),
                p,
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
        errs
    }
}
