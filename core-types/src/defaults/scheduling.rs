//! Defaults of `scheduling.k8s.io/v1` PriorityClass.
//!
//! Upstream: `pkg/apis/scheduling/v1/defaults.go`.

use crate::api::scheduling::v1::PriorityClass;

use super::SetDefaults;

impl SetDefaults for PriorityClass {
    fn set_defaults(&mut self) {
        if self.preemption_policy.is_none() {
            self.preemption_policy = Some("PreemptLowerPriority".to_owned());
        }
    }
}
