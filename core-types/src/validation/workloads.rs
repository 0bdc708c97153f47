//! Workload rules with upstream's messages (`pkg/apis/apps/validation`,
//! `pkg/apis/batch/validation`): Deployment, ReplicaSet, StatefulSet, DaemonSet,
//! ControllerRevision, Job and CronJob. Fields upstream defaults before validating are checked
//! with their default when absent (e.g. a template without `restartPolicy` counts as `Always`).

use super::Validate;
use super::cron::parse_schedule;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{
    validate_annotations, validate_labels, validate_nonnegative_field, validate_resource_meta,
};
use super::names::{is_valid_percent, name_is_dns_subdomain};
use super::pod::{
    effective_restart_policy, validate_pod_template_spec, validate_pod_template_spec_with_claims,
};
use super::selector::{selector_is_empty, selector_matches, validate_label_selector};
use crate::IntOrString;
use crate::api::apps::v1::{
    ControllerRevision, DaemonSet, DaemonSetSpec, Deployment, DeploymentSpec, ReplicaSet,
    ReplicaSetSpec, StatefulSet, StatefulSetSpec,
};
use crate::api::batch::v1::{CronJob, Job, JobSpec, JobTemplateSpec};
use crate::api::core::v1::PodTemplateSpec;
use crate::api::meta::v1::LabelSelector;

/// Upstream's message when a workload's selector does not select its pod template.
pub const SELECTOR_MISMATCH: &str = "`selector` does not match template `labels`";

fn int_or_string_value(v: &IntOrString) -> serde_json::Value {
    match v {
        IntOrString::Int(i) => (*i).into(),
        IntOrString::String(s) => s.as_str().into(),
    }
}

/// Upstream's `ValidatePositiveIntOrPercent`: a non-negative integer or a valid percentage.
pub fn validate_positive_int_or_percent(v: &IntOrString, path: &FieldPath) -> ErrorList {
    match v {
        IntOrString::String(s) => is_valid_percent(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, s.as_str(), m))
            .collect(),
        IntOrString::Int(i) => validate_nonnegative_field(i64::from(*i), path),
    }
}

/// The percentage of a valid `N%` string.
fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if is_valid_percent(s).is_empty() => {
            // At most 253 digits; saturate rather than fail on absurd values.
            Some(s[..s.len() - 1].parse::<i64>().unwrap_or(i64::MAX))
        }
        _ => None,
    }
}

/// Upstream's `getIntOrPercentValue`: the percentage for `N%`, the integer otherwise (`0`
/// for a non-percent string).
pub fn int_or_percent_value(v: &IntOrString) -> i64 {
    match (percent_value(v), v) {
        (Some(p), _) => p,
        (None, IntOrString::Int(i)) => i64::from(*i),
        (None, IntOrString::String(_)) => 0,
    }
}

/// Upstream's `IsNotMoreThan100Percent`.
pub fn is_not_more_than_100_percent(v: &IntOrString, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if percent_value(v).is_some_and(|p| p > 100) {
        errs.push(FieldError::invalid(
            path,
            int_or_string_value(v),
            "must not be greater than 100%",
        ));
    }
    errs
}

fn selector_json(sel: &LabelSelector) -> serde_json::Value {
    serde_json::to_value(sel).unwrap_or_default()
}

fn template_labels(t: &PodTemplateSpec) -> crate::labels::LabelMap {
    t.metadata
        .as_ref()
        .map(|m| m.labels.clone())
        .unwrap_or_default()
}

/// The selector checks shared by the apps workloads: the selector is valid and non-empty
/// (`empty selector is invalid for <what>`), and it selects the template's labels. A selector
/// that cannot be converted gets `Invalid value` with `invalid_detail` (when given) and no
/// match check. Returns the errors and whether the template should be validated (upstream
/// skips it when the selector cannot be converted and `invalid_detail` is given).
fn validate_selector_and_template(
    sel: &LabelSelector,
    template: &PodTemplateSpec,
    what: &str,
    invalid_detail: Option<&str>,
    spec_path: &FieldPath,
) -> (ErrorList, bool) {
    let sp = spec_path.child("selector");
    let mut errs = validate_label_selector(sel, &sp);
    if selector_is_empty(sel) {
        errs.push(FieldError::invalid(
            &sp,
            selector_json(sel),
            format!("empty selector is invalid for {what}"),
        ));
        return (errs, true);
    }
    let labels = template_labels(template);
    match selector_matches(sel, &labels) {
        Some(true) => (errs, true),
        Some(false) => {
            errs.push(FieldError::invalid(
                &spec_path
                    .child("template")
                    .child("metadata")
                    .child("labels"),
                serde_json::to_value(&labels).unwrap_or_default(),
                SELECTOR_MISMATCH,
            ));
            (errs, true)
        }
        None => match invalid_detail {
            Some(detail) => {
                errs.push(FieldError::invalid(&sp, selector_json(sel), detail));
                (errs, false)
            }
            None => (errs, true),
        },
    }
}

/// The template checks shared by the apps workloads: the pod template itself, and
/// `restartPolicy: Always` (upstream's default).
fn validate_always_template(template: &PodTemplateSpec, spec_path: &FieldPath) -> ErrorList {
    validate_always_template_with_claims(template, &[], spec_path)
}

/// [`validate_always_template`] with StatefulSet claim template names as extra volumes.
fn validate_always_template_with_claims(
    template: &PodTemplateSpec,
    claim_volumes: &[&str],
    spec_path: &FieldPath,
) -> ErrorList {
    let tp = spec_path.child("template");
    let mut errs = validate_pod_template_spec_with_claims(template, claim_volumes, &tp);
    let rp = effective_restart_policy(template);
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            &tp.child("spec").child("restartPolicy"),
            rp,
            &["Always"],
        ));
    }
    errs
}

fn nonneg_opt32(errs: &mut ErrorList, v: Option<i32>, path: &FieldPath) {
    if let Some(v) = v {
        errs.extend(validate_nonnegative_field(i64::from(v), path));
    }
}

fn active_deadline_set(t: &PodTemplateSpec) -> bool {
    t.spec
        .as_ref()
        .is_some_and(|s| s.active_deadline_seconds.is_some())
}

/// Upstream's `ValidateDeploymentSpec` (main rules) at `path`.
pub fn validate_deployment_spec(spec: &DeploymentSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    nonneg_opt32(&mut errs, spec.replicas, &path.child("replicas"));
    let (sel_errs, template_ok) = validate_selector_and_template(
        &spec.selector,
        &spec.template,
        "deployment",
        Some("invalid label selector"),
        path,
    );
    errs.extend(sel_errs);
    if template_ok {
        errs.extend(validate_always_template(&spec.template, path));
    }
    if template_ok && active_deadline_set(&spec.template) {
        errs.push(FieldError::forbidden(
            &path
                .child("template")
                .child("spec")
                .child("activeDeadlineSeconds"),
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
    if let Some(strategy) = &spec.strategy {
        let stp = path.child("strategy");
        match strategy.type_.as_deref() {
            Some("Recreate") => {
                if strategy.rolling_update.is_some() {
                    errs.push(FieldError::forbidden(
                        &stp.child("rollingUpdate"),
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
            }
            None | Some("RollingUpdate") => {
                if let Some(ru) = &strategy.rolling_update {
                    let rp = stp.child("rollingUpdate");
                    let default = IntOrString::String("25%".to_owned());
                    let mu = ru.max_unavailable.as_ref().unwrap_or(&default);
                    let ms = ru.max_surge.as_ref().unwrap_or(&default);
                    errs.extend(validate_positive_int_or_percent(
                        mu,
                        &rp.child("maxUnavailable"),
                    ));
                    errs.extend(validate_positive_int_or_percent(ms, &rp.child("maxSurge")));
                    if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                        errs.push(FieldError::invalid(
                            &rp.child("maxUnavailable"),
                            int_or_string_value(mu),
                            "may not be 0 when `maxSurge` is 0",
                        ));
                    }
                    errs.extend(is_not_more_than_100_percent(
                        mu,
                        &rp.child("maxUnavailable"),
                    ));
                }
            }
            Some(other) => errs.push(FieldError::not_supported(
                &stp.child("type"),
                other,
                &["Recreate", "RollingUpdate"],
            )),
        }
    }
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    nonneg_opt32(
        &mut errs,
        spec.min_ready_seconds,
        &path.child("minReadySeconds"),
    );
    nonneg_opt32(
        &mut errs,
        spec.revision_history_limit,
        &path.child("revisionHistoryLimit"),
    );
    if let Some(pds) = spec.progress_deadline_seconds {
        let p = path.child("progressDeadlineSeconds");
        errs.extend(validate_nonnegative_field(i64::from(pds), &p));
        if pds <= min_ready {
            errs.push(FieldError::invalid(
                &p,
                pds,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

fn spec_or_default<T: Default + Clone>(spec: &Option<T>) -> std::borrow::Cow<'_, T> {
    match spec {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(T::default()),
    }
}

impl Validate for Deployment {
    /// Metadata (DNS-1123 subdomain, namespaced) and [`validate_deployment_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        errs.extend(validate_deployment_spec(
            &spec_or_default(&self.spec),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

/// Upstream's `ValidateReplicaSetSpec` (main rules) at `path`.
pub fn validate_replica_set_spec(spec: &ReplicaSetSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    nonneg_opt32(&mut errs, spec.replicas, &path.child("replicas"));
    nonneg_opt32(
        &mut errs,
        spec.min_ready_seconds,
        &path.child("minReadySeconds"),
    );
    match &spec.template {
        None => {
            let sp = path.child("selector");
            errs.extend(validate_label_selector(&spec.selector, &sp));
            if selector_is_empty(&spec.selector) {
                errs.push(FieldError::invalid(
                    &sp,
                    selector_json(&spec.selector),
                    "empty selector is invalid for deployment",
                ));
            }
            errs.push(FieldError::required(&path.child("template"), ""));
        }
        Some(t) => {
            let (sel_errs, template_ok) = validate_selector_and_template(
                &spec.selector,
                t,
                "deployment",
                Some("invalid label selector"),
                path,
            );
            errs.extend(sel_errs);
            if template_ok {
                errs.extend(validate_always_template(t, path));
            }
            if template_ok && active_deadline_set(t) {
                errs.push(FieldError::forbidden(
                    &path
                        .child("template")
                        .child("spec")
                        .child("activeDeadlineSeconds"),
                    "activeDeadlineSeconds in ReplicaSet is not Supported",
                ));
            }
        }
    }
    errs
}

impl Validate for ReplicaSet {
    /// Metadata and [`validate_replica_set_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        errs.extend(validate_replica_set_spec(
            &spec_or_default(&self.spec),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

/// Upstream's `ValidateStatefulSetSpec` (main rules) at `path`.
pub fn validate_stateful_set_spec(spec: &StatefulSetSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(p) = spec.pod_management_policy.as_deref() {
        let pp = path.child("podManagementPolicy");
        match p {
            "" => errs.push(FieldError::required(&pp, "")),
            "OrderedReady" | "Parallel" => {}
            other => errs.push(FieldError::invalid(
                &pp,
                other,
                "must be 'OrderedReady' or 'Parallel'",
            )),
        }
    }
    if let Some(us) = &spec.update_strategy {
        let up = path.child("updateStrategy");
        match us.type_.as_deref() {
            Some("OnDelete") => {
                if us.rolling_update.is_some() {
                    errs.push(FieldError::invalid(
                        &up.child("rollingUpdate"),
                        serde_json::to_value(&us.rolling_update).unwrap_or_default(),
                        "only allowed for updateStrategy 'RollingUpdate'",
                    ));
                }
            }
            None | Some("RollingUpdate") => {
                if let Some(ru) = &us.rolling_update {
                    let rp = up.child("rollingUpdate");
                    nonneg_opt32(&mut errs, ru.partition, &rp.child("partition"));
                    if let Some(mu) = &ru.max_unavailable {
                        let mp = rp.child("maxUnavailable");
                        errs.extend(validate_positive_int_or_percent(mu, &mp));
                        if int_or_percent_value(mu) == 0 {
                            errs.push(FieldError::invalid(
                                &mp,
                                int_or_string_value(mu),
                                "cannot be 0",
                            ));
                        }
                        errs.extend(is_not_more_than_100_percent(mu, &mp));
                    }
                }
            }
            Some(other) => errs.push(FieldError::invalid(
                &up,
                other,
                "must be 'RollingUpdate' or 'OnDelete'",
            )),
        }
    }
    nonneg_opt32(&mut errs, spec.replicas, &path.child("replicas"));
    nonneg_opt32(
        &mut errs,
        spec.min_ready_seconds,
        &path.child("minReadySeconds"),
    );
    nonneg_opt32(
        &mut errs,
        spec.revision_history_limit,
        &path.child("revisionHistoryLimit"),
    );
    if let Some(o) = &spec.ordinals {
        nonneg_opt32(&mut errs, o.start, &path.child("ordinals").child("start"));
    }
    let (sel_errs, template_ok) = validate_selector_and_template(
        &spec.selector,
        &spec.template,
        "statefulset",
        Some(""),
        path,
    );
    errs.extend(sel_errs);
    if template_ok {
        let claims: Vec<&str> = spec
            .volume_claim_templates
            .iter()
            .filter_map(|c| c.metadata.name.as_deref())
            .collect();
        errs.extend(validate_always_template_with_claims(
            &spec.template,
            &claims,
            path,
        ));
    }
    if template_ok && active_deadline_set(&spec.template) {
        errs.push(FieldError::forbidden(
            &path
                .child("template")
                .child("spec")
                .child("activeDeadlineSeconds"),
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    errs
}

impl Validate for StatefulSet {
    /// Metadata and [`validate_stateful_set_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        errs.extend(validate_stateful_set_spec(
            &spec_or_default(&self.spec),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

/// Upstream's `ValidateDaemonSetSpec` (main rules) at `path`.
pub fn validate_daemon_set_spec(spec: &DaemonSetSpec, path: &FieldPath) -> ErrorList {
    let (mut errs, _) =
        validate_selector_and_template(&spec.selector, &spec.template, "daemonset", None, path);
    errs.extend(validate_always_template(&spec.template, path));
    if let Some(ads) = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
    {
        errs.push(FieldError::invalid(
            &path
                .child("template")
                .child("spec")
                .child("activeDeadlineSeconds"),
            ads,
            "activeDeadlineSeconds must be nil for daemons",
        ));
    }
    nonneg_opt32(
        &mut errs,
        spec.min_ready_seconds,
        &path.child("minReadySeconds"),
    );
    if let Some(us) = &spec.update_strategy {
        let up = path.child("updateStrategy");
        match us.type_.as_deref() {
            Some("OnDelete") => {}
            None | Some("RollingUpdate") => {
                if let Some(ru) = &us.rolling_update {
                    let rp = up.child("rollingUpdate");
                    let mu = ru.max_unavailable.clone().unwrap_or(IntOrString::Int(1));
                    let ms = ru.max_surge.clone().unwrap_or(IntOrString::Int(0));
                    let mup = rp.child("maxUnavailable");
                    let msp = rp.child("maxSurge");
                    errs.extend(validate_positive_int_or_percent(&mu, &mup));
                    errs.extend(validate_positive_int_or_percent(&ms, &msp));
                    errs.extend(is_not_more_than_100_percent(&mu, &mup));
                    errs.extend(is_not_more_than_100_percent(&ms, &msp));
                    let has_unavailable = int_or_percent_value(&mu) != 0;
                    let has_surge = int_or_percent_value(&ms) != 0;
                    if has_unavailable && has_surge {
                        errs.push(FieldError::invalid(
                            &msp,
                            int_or_string_value(&ms),
                            "may not be set when maxUnavailable is non-zero",
                        ));
                    } else if !has_unavailable && !has_surge {
                        errs.push(FieldError::required(&mup, "cannot be 0 when maxSurge is 0"));
                    }
                }
            }
            Some(other) => errs.push(FieldError::not_supported(
                &up.child("type"),
                other,
                &["RollingUpdate", "OnDelete"],
            )),
        }
    }
    nonneg_opt32(
        &mut errs,
        spec.revision_history_limit,
        &path.child("revisionHistoryLimit"),
    );
    errs
}

impl Validate for DaemonSet {
    /// Metadata and [`validate_daemon_set_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        errs.extend(validate_daemon_set_spec(
            &spec_or_default(&self.spec),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

impl Validate for ControllerRevision {
    /// Metadata; `data` required (`data is mandatory`); `revision >= 0`.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        if self.data.is_none() {
            errs.push(FieldError::required(
                &FieldPath::new("data"),
                "data is mandatory",
            ));
        }
        errs.extend(validate_nonnegative_field(
            self.revision,
            &FieldPath::new("revision"),
        ));
        errs
    }
}

/// Upstream's `validateJobSpec` (main rules) at `path`: non-negative counts and deadlines,
/// completion mode, a manual selector matching the template, and a template with
/// `restartPolicy` `OnFailure` or `Never`.
pub fn validate_job_spec(spec: &JobSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    nonneg_opt32(&mut errs, spec.parallelism, &path.child("parallelism"));
    nonneg_opt32(&mut errs, spec.completions, &path.child("completions"));
    if let Some(a) = spec.active_deadline_seconds {
        errs.extend(validate_nonnegative_field(
            a,
            &path.child("activeDeadlineSeconds"),
        ));
    }
    nonneg_opt32(&mut errs, spec.backoff_limit, &path.child("backoffLimit"));
    nonneg_opt32(
        &mut errs,
        spec.ttl_seconds_after_finished,
        &path.child("ttlSecondsAfterFinished"),
    );
    if let Some(mode) = spec.completion_mode.as_deref() {
        let cp = path.child("completionMode");
        match mode {
            "NonIndexed" => {}
            "Indexed" => {
                if spec.completions.is_none() {
                    errs.push(FieldError::required(
                        &path.child("completions"),
                        "when completion mode is Indexed",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &cp,
                other,
                &["NonIndexed", "Indexed"],
            )),
        }
    }
    if spec.manual_selector == Some(true) {
        match &spec.selector {
            None => errs.push(FieldError::required(&path.child("selector"), "")),
            Some(sel) => {
                errs.extend(validate_label_selector(sel, &path.child("selector")));
                let labels = template_labels(&spec.template);
                if selector_matches(sel, &labels) == Some(false) {
                    errs.push(FieldError::invalid(
                        &path.child("template").child("metadata").child("labels"),
                        serde_json::to_value(&labels).unwrap_or_default(),
                        SELECTOR_MISMATCH,
                    ));
                }
            }
        }
    } else if let Some(sel) = &spec.selector {
        errs.extend(validate_label_selector(sel, &path.child("selector")));
    }
    let tp = path.child("template");
    errs.extend(validate_pod_template_spec(&spec.template, &tp));
    let rp = effective_restart_policy(&spec.template);
    if rp != "OnFailure" && rp != "Never" {
        errs.push(FieldError::not_supported(
            &tp.child("spec").child("restartPolicy"),
            rp,
            &["OnFailure", "Never"],
        ));
    }
    errs
}

impl Validate for Job {
    /// Metadata and [`validate_job_spec`].
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        errs.extend(validate_job_spec(
            &spec_or_default(&self.spec),
            &FieldPath::new("spec"),
        ));
        errs
    }
}

/// Upstream's `ValidateJobTemplateSpec`: the template's labels/annotations, its job spec, and
/// no manual selector.
pub fn validate_job_template_spec(t: &JobTemplateSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(m) = &t.metadata {
        let mp = path.child("metadata");
        errs.extend(validate_labels(&m.labels, &mp.child("labels")));
        errs.extend(validate_annotations(
            &m.annotations,
            &mp.child("annotations"),
        ));
    }
    let spec = spec_or_default(&t.spec);
    let sp = path.child("spec");
    errs.extend(validate_job_spec(&spec, &sp));
    if spec.manual_selector == Some(true) {
        errs.push(FieldError::not_supported(
            &sp.child("manualSelector"),
            true,
            &["nil", "false"],
        ));
    }
    errs
}

impl Validate for CronJob {
    /// Metadata (name at most 52 characters), a non-empty valid 5-field `schedule` without
    /// `TZ`, `concurrencyPolicy` `Allow`/`Forbid`/`Replace`, non-negative deadlines and history
    /// limits, and the job template.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let name = self.metadata.name.as_deref().unwrap_or("");
        if name.len() > 52 {
            errs.push(FieldError::invalid(
                &FieldPath::new("metadata").child("name"),
                name,
                "must be no more than 52 characters",
            ));
        }
        let spec = spec_or_default(&self.spec);
        let path = FieldPath::new("spec");
        let sp = path.child("schedule");
        if spec.schedule.is_empty() {
            errs.push(FieldError::required(&sp, ""));
        } else {
            if let Err(e) = parse_schedule(&spec.schedule) {
                errs.push(FieldError::invalid(&sp, spec.schedule.as_str(), e));
            }
            if spec.schedule.contains("TZ") {
                errs.push(FieldError::invalid(
                    &sp,
                    spec.schedule.as_str(),
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            }
        }
        if let Some(tz) = spec.time_zone.as_deref()
            && (tz.is_empty() || tz.contains(char::is_whitespace) || tz.starts_with('/'))
        {
            errs.push(FieldError::invalid(
                &path.child("timeZone"),
                tz,
                format!("unknown time zone {tz}"),
            ));
        }
        match spec.concurrency_policy.as_deref() {
            None | Some("Allow" | "Forbid" | "Replace") => {}
            Some("") => errs.push(FieldError::required(&path.child("concurrencyPolicy"), "")),
            Some(other) => errs.push(FieldError::not_supported(
                &path.child("concurrencyPolicy"),
                other,
                &["Allow", "Forbid", "Replace"],
            )),
        }
        if let Some(s) = spec.starting_deadline_seconds {
            errs.extend(validate_nonnegative_field(
                s,
                &path.child("startingDeadlineSeconds"),
            ));
        }
        nonneg_opt32(
            &mut errs,
            spec.successful_jobs_history_limit,
            &path.child("successfulJobsHistoryLimit"),
        );
        nonneg_opt32(
            &mut errs,
            spec.failed_jobs_history_limit,
            &path.child("failedJobsHistoryLimit"),
        );
        errs.extend(validate_job_template_spec(
            &spec.job_template,
            &path.child("jobTemplate"),
        ));
        errs
    }
}
