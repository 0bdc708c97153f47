//! Defaults of the `batch/v1` kinds: Job and CronJob.
//!
//! Upstream: `pkg/apis/batch/v1/defaults.go`. A CronJob's `jobTemplate` gets only the pod
//! template defaults: the Job defaults apply when the CronJob controller creates the Job.

use crate::api::batch::v1::{CronJob, Job};

use super::pod;
use super::{SetDefaults, default_required_str, default_str};

impl SetDefaults for Job {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        if spec.completions.is_none() && spec.parallelism.is_none() {
            spec.completions = Some(1);
            spec.parallelism = Some(1);
        }
        spec.parallelism.get_or_insert(1);
        if spec.backoff_limit.is_none() {
            // With a per-index limit the global limit is effectively unlimited.
            let limit = if spec.backoff_limit_per_index.is_some() {
                i32::MAX
            } else {
                6
            };
            spec.backoff_limit = Some(limit);
        }
        if self.metadata.labels.is_empty()
            && let Some(labels) = spec.template.metadata.as_ref().map(|m| &m.labels)
        {
            self.metadata.labels = labels.clone();
        }
        default_str(&mut spec.completion_mode, "NonIndexed");
        spec.suspend.get_or_insert(false);
        // JobPodReplacementPolicy is beta and on by default in v1.33.
        if spec.pod_replacement_policy.is_none() {
            let policy = if spec.pod_failure_policy.is_some() {
                "Failed"
            } else {
                "TerminatingOrFailed"
            };
            spec.pod_replacement_policy = Some(policy.to_owned());
        }
        spec.manual_selector.get_or_insert(false);
        if let Some(pfp) = &mut spec.pod_failure_policy {
            for rule in &mut pfp.rules {
                for pattern in &mut rule.on_pod_conditions {
                    default_required_str(&mut pattern.status, "True");
                }
            }
        }
        pod::template(&mut spec.template);
    }
}

impl SetDefaults for CronJob {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.concurrency_policy, "Allow");
        spec.suspend.get_or_insert(false);
        spec.successful_jobs_history_limit.get_or_insert(3);
        spec.failed_jobs_history_limit.get_or_insert(1);
        if let Some(job_spec) = &mut spec.job_template.spec {
            if let Some(pfp) = &mut job_spec.pod_failure_policy {
                for rule in &mut pfp.rules {
                    for pattern in &mut rule.on_pod_conditions {
                        default_required_str(&mut pattern.status, "True");
                    }
                }
            }
            pod::template(&mut job_spec.template);
        }
    }
}
