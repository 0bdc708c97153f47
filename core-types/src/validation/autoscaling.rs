//! `HorizontalPodAutoscaler` (`autoscaling/v2`) validation with upstream's messages: replica
//! bounds, the scale target reference, and metric sources/targets.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::{is_valid_path_segment_name, name_is_dns_subdomain};
use crate::api::autoscaling::v2::{HorizontalPodAutoscaler, MetricSpec, MetricTarget};

const METRIC_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

fn path_segment(value: &str, path: &FieldPath, errs: &mut ErrorList) {
    if value.is_empty() {
        errs.push(FieldError::required(path, ""));
    } else {
        for m in is_valid_path_segment_name(value) {
            errs.push(FieldError::invalid(path, value, m));
        }
    }
}

fn is_positive(q: &crate::Quantity) -> bool {
    q.cmp_i64(0) == std::cmp::Ordering::Greater
}

/// Upstream's `validateMetricTarget`.
fn validate_metric_target(t: &MetricTarget, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let tp = path.child("type");
    match t.type_.as_str() {
        "" => errs.push(FieldError::required(
            &tp,
            "must specify a metric target type",
        )),
        "Utilization" | "Value" | "AverageValue" => {}
        other => errs.push(FieldError::invalid(
            &tp,
            other,
            "must be either Utilization, Value, or AverageValue",
        )),
    }
    if let Some(v) = &t.value
        && !is_positive(v)
    {
        errs.push(FieldError::invalid(
            &path.child("value"),
            v.to_string(),
            "must be positive",
        ));
    }
    if let Some(v) = &t.average_value
        && !is_positive(v)
    {
        errs.push(FieldError::invalid(
            &path.child("averageValue"),
            v.to_string(),
            "must be positive",
        ));
    }
    if let Some(u) = t.average_utilization.filter(|u| *u < 1) {
        errs.push(FieldError::invalid(
            &path.child("averageUtilization"),
            u,
            "must be greater than 0",
        ));
    }
    errs
}

/// Upstream's `validateMetricSpec`: a known type with exactly its source populated.
fn validate_metric_spec(m: &MetricSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let tp = path.child("type");
    if m.type_.is_empty() {
        errs.push(FieldError::required(
            &tp,
            "must specify a metric source type",
        ));
        return errs;
    }
    if !METRIC_TYPES.contains(&m.type_.as_str()) {
        errs.push(FieldError::not_supported(
            &tp,
            m.type_.as_str(),
            &METRIC_TYPES,
        ));
        return errs;
    }
    let populated = [
        ("object", "Object", m.object.is_some()),
        ("pods", "Pods", m.pods.is_some()),
        ("resource", "Resource", m.resource.is_some()),
        ("external", "External", m.external.is_some()),
        (
            "containerResource",
            "ContainerResource",
            m.container_resource.is_some(),
        ),
    ];
    for (field, ty, set) in populated {
        if ty == m.type_ && !set {
            errs.push(FieldError::required(
                &path.child(field),
                "must populate information for the given metric source",
            ));
        }
        if ty != m.type_ && set {
            errs.push(FieldError::forbidden(
                &path.child(field),
                "must populate the given metric source only",
            ));
        }
    }
    if let Some(r) = &m.resource {
        let rp = path.child("resource");
        if r.name.is_empty() {
            errs.push(FieldError::required(
                &rp.child("name"),
                "must specify a resource name",
            ));
        }
        errs.extend(validate_metric_target(&r.target, &rp.child("target")));
    }
    if let Some(r) = &m.container_resource {
        let rp = path.child("containerResource");
        if r.name.is_empty() {
            errs.push(FieldError::required(
                &rp.child("name"),
                "must specify a resource name",
            ));
        }
        if r.container.is_empty() {
            errs.push(FieldError::required(
                &rp.child("container"),
                "must specify a container",
            ));
        }
        errs.extend(validate_metric_target(&r.target, &rp.child("target")));
    }
    if let Some(p) = &m.pods {
        errs.extend(validate_metric_target(
            &p.target,
            &path.child("pods").child("target"),
        ));
    }
    if let Some(o) = &m.object {
        errs.extend(validate_metric_target(
            &o.target,
            &path.child("object").child("target"),
        ));
    }
    if let Some(e) = &m.external {
        errs.extend(validate_metric_target(
            &e.target,
            &path.child("external").child("target"),
        ));
    }
    errs
}

impl Validate for HorizontalPodAutoscaler {
    /// Metadata; `minReplicas ≥ 1`, `maxReplicas ≥ 1` and `≥ minReplicas`; scale target kind and
    /// name; metrics.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default = Default::default();
        let spec = self.spec.as_ref().unwrap_or(&default);
        let sp = FieldPath::new("spec");
        if let Some(min) = spec.min_replicas.filter(|m| *m < 1) {
            errs.push(FieldError::invalid(
                &sp.child("minReplicas"),
                min,
                "must be greater than or equal to 1",
            ));
        }
        let mp = sp.child("maxReplicas");
        if spec.max_replicas < 1 {
            errs.push(FieldError::invalid(
                &mp,
                spec.max_replicas,
                "must be greater than 0",
            ));
        }
        if spec.min_replicas.is_some_and(|min| spec.max_replicas < min) {
            errs.push(FieldError::invalid(
                &mp,
                spec.max_replicas,
                "must be greater than or equal to `minReplicas`",
            ));
        }
        let rp = sp.child("scaleTargetRef");
        path_segment(&spec.scale_target_ref.kind, &rp.child("kind"), &mut errs);
        path_segment(&spec.scale_target_ref.name, &rp.child("name"), &mut errs);
        for (i, m) in spec.metrics.iter().enumerate() {
            errs.extend(validate_metric_spec(m, &sp.child("metrics").index(i)));
        }
        errs
    }
}
