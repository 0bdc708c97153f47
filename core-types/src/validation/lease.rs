//! Coordination `Lease` validation with upstream's messages: durations and transitions,
//! strategy and preferred holder.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{IS_NEGATIVE_ERROR_MSG, validate_resource_meta};
use super::names::name_is_dns_subdomain;
use crate::api::coordination::v1::Lease;

impl Validate for Lease {
    /// Metadata; `leaseDurationSeconds > 0`, `leaseTransitions >= 0`, `strategy`
    /// `OldestEmulationVersion`, `preferredHolder` only with a strategy.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let Some(spec) = &self.spec else {
            return errs;
        };
        let sp = FieldPath::new("spec");
        if let Some(d) = spec.lease_duration_seconds.filter(|d| *d <= 0) {
            errs.push(FieldError::invalid(
                &sp.child("leaseDurationSeconds"),
                d,
                "must be greater than 0",
            ));
        }
        if let Some(t) = spec.lease_transitions.filter(|t| *t < 0) {
            errs.push(FieldError::invalid(
                &sp.child("leaseTransitions"),
                t,
                IS_NEGATIVE_ERROR_MSG,
            ));
        }
        if let Some(s) = spec.strategy.as_deref()
            && s != "OldestEmulationVersion"
        {
            errs.push(FieldError::not_supported(
                &sp.child("strategy"),
                s,
                &["OldestEmulationVersion"],
            ));
        }
        if spec
            .preferred_holder
            .as_deref()
            .is_some_and(|h| !h.is_empty())
            && spec.strategy.as_deref().unwrap_or("").is_empty()
        {
            errs.push(FieldError::forbidden(
                &sp.child("preferredHolder"),
                "may only be specified if `strategy` is defined",
            ));
        }
        errs
    }
}
