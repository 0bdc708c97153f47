//! Scheduling `PriorityClass` validation with upstream's messages: the user-definable value
//! limit, reserved `system-` names, and the preemption policy.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::name_is_dns_subdomain;
use crate::api::scheduling::v1::PriorityClass;

/// The highest priority a user-defined PriorityClass may have.
pub const HIGHEST_USER_DEFINABLE_PRIORITY: i32 = 1_000_000_000;
const SYSTEM_PREFIX: &str = "system-";
/// The built-in system priority classes and their values.
const SYSTEM_CLASSES: [(&str, i32); 2] = [
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];

impl Validate for PriorityClass {
    /// Metadata (cluster-scoped); `system-` names only for the built-in classes (with their
    /// values, not global default); otherwise `value ≤ 1000000000`; `preemptionPolicy`
    /// `PreemptLowerPriority` or `Never`.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let name = self.metadata.name.as_deref().unwrap_or("");
        if name.starts_with(SYSTEM_PREFIX) {
            let problem = match SYSTEM_CLASSES.iter().find(|(n, _)| *n == name) {
                None => Some(format!("{name} is not a known system priority class")),
                Some((_, v)) if *v != self.value => {
                    Some(format!("value of {name} PriorityClass must be {v}"))
                }
                Some(_) if self.global_default == Some(true) => Some(format!(
                    "globalDefault of {name} PriorityClass must be false"
                )),
                Some(_) => None,
            };
            if let Some(p) = problem {
                errs.push(FieldError::forbidden(
                    &FieldPath::new("metadata").child("name"),
                    format!(
                        "priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system use only. error: {p}"
                    ),
                ));
            }
        } else if self.value > HIGHEST_USER_DEFINABLE_PRIORITY {
            errs.push(FieldError::forbidden(
                &FieldPath::new("value"),
                format!(
                    "maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"
                ),
            ));
        }
        if let Some(p) = self.preemption_policy.as_deref()
            && p != "PreemptLowerPriority"
            && p != "Never"
        {
            errs.push(FieldError::not_supported(
                &FieldPath::new("preemptionPolicy"),
                p,
                &["PreemptLowerPriority", "Never"],
            ));
        }
        errs
    }
}
