//! Defaults of `autoscaling/v2` HorizontalPodAutoscaler.
//!
//! Upstream: `pkg/apis/autoscaling/v2/defaults.go`.

use crate::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

use super::SetDefaults;

/// CPU utilization target of an HPA that names no metric.
const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// Period of the default scaling policies, in seconds.
const DEFAULT_POLICY_PERIOD_SECONDS: i32 = 15;

impl SetDefaults for HorizontalPodAutoscaler {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.min_replicas.get_or_insert(1);
        if spec.metrics.is_empty() {
            spec.metrics = vec![MetricSpec {
                type_: "Resource".to_owned(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_owned(),
                    target: MetricTarget {
                        type_: "Utilization".to_owned(),
                        average_utilization: Some(DEFAULT_CPU_UTILIZATION),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }];
        }
        // Only a behavior that is present gets its rules filled in.
        if let Some(behavior) = &mut spec.behavior {
            let up = behavior.scale_up.get_or_insert_with(Default::default);
            fill_rules(up, Some(0), scale_up_policies());
            let down = behavior.scale_down.get_or_insert_with(Default::default);
            // The scale-down window is left unset: the controller's flag decides it.
            fill_rules(down, None, scale_down_policies());
        }
    }
}

/// Fills the unset parts of one direction's rules.
fn fill_rules(
    rules: &mut HPAScalingRules,
    stabilization: Option<i32>,
    policies: Vec<HPAScalingPolicy>,
) {
    if rules.select_policy.is_none() {
        rules.select_policy = Some("Max".to_owned());
    }
    if rules.stabilization_window_seconds.is_none() {
        rules.stabilization_window_seconds = stabilization;
    }
    if rules.policies.is_empty() {
        rules.policies = policies;
    }
}

fn scale_up_policies() -> Vec<HPAScalingPolicy> {
    vec![
        HPAScalingPolicy {
            type_: "Pods".to_owned(),
            value: 4,
            period_seconds: DEFAULT_POLICY_PERIOD_SECONDS,
        },
        HPAScalingPolicy {
            type_: "Percent".to_owned(),
            value: 100,
            period_seconds: DEFAULT_POLICY_PERIOD_SECONDS,
        },
    ]
}

fn scale_down_policies() -> Vec<HPAScalingPolicy> {
    vec![HPAScalingPolicy {
        type_: "Percent".to_owned(),
        value: 100,
        period_seconds: DEFAULT_POLICY_PERIOD_SECONDS,
    }]
}
