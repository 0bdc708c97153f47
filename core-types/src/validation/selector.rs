//! `LabelSelector` validation (upstream's `ValidateLabelSelector`) and the selector/template
//! label match used by the workload checks.

use std::collections::BTreeMap;

use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{validate_label_name, validate_labels};
use super::names::is_valid_label_value;
use crate::api::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// Upstream's `ValidateLabelSelectorRequirement` (label values checked strictly).
pub fn validate_label_selector_requirement(
    req: &LabelSelectorRequirement,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    match req.operator.as_str() {
        "In" | "NotIn" => {
            if req.values.is_empty() {
                errs.push(FieldError::required(
                    &path.child("values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !req.values.is_empty() {
                errs.push(FieldError::forbidden(
                    &path.child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            &path.child("operator"),
            other,
            "not a valid selector operator",
        )),
    }
    errs.extend(validate_label_name(&req.key, &path.child("key")));
    let values = path.child("values");
    for (i, v) in req.values.iter().enumerate() {
        for m in is_valid_label_value(v) {
            errs.push(FieldError::invalid(&values.index(i), v.as_str(), m));
        }
    }
    errs
}

/// Upstream's `ValidateLabelSelector`: matchLabels as labels, each matchExpression valid.
pub fn validate_label_selector(sel: &LabelSelector, path: &FieldPath) -> ErrorList {
    let mut errs = validate_labels(&sel.match_labels, &path.child("matchLabels"));
    let exprs = path.child("matchExpressions");
    for (i, r) in sel.match_expressions.iter().enumerate() {
        errs.extend(validate_label_selector_requirement(r, &exprs.index(i)));
    }
    errs
}

/// Whether a selector has no requirements (and so matches everything).
pub fn selector_is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.is_empty() && sel.match_expressions.is_empty()
}

/// Whether `sel` selects an object with `labels`, via upstream's `LabelSelectorAsSelector`
/// ([`crate::labels::label_selector_as_selector`]); `None` when the selector cannot be
/// converted (an invalid key, value or operator). The single place the workload checks match
/// selectors.
pub fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> Option<bool> {
    crate::labels::label_selector_as_selector(Some(sel))
        .ok()
        .map(|s| s.matches(labels))
}
