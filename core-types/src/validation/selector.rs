//! `LabelSelector` validation (upstream's `ValidateLabelSelector`) and the selector/template
//! label match used by the workload checks.

use super::field::{ErrorList, FieldPath};
use crate::api::meta::v1::{LabelSelector, LabelSelectorRequirement};
use crate::labels;

/// Upstream's `ValidateLabelSelectorRequirement` with label values checked strictly; see
/// [`crate::labels::validate_label_selector_requirement`] for the options.
pub fn validate_label_selector_requirement(
    req: &LabelSelectorRequirement,
    path: &FieldPath,
) -> ErrorList {
    labels::validate_label_selector_requirement(req, Default::default(), path)
}

/// Upstream's `ValidateLabelSelector` for a present selector, label values checked strictly;
/// see [`crate::labels::validate_label_selector`] for the options.
pub fn validate_label_selector(sel: &LabelSelector, path: &FieldPath) -> ErrorList {
    labels::validate_label_selector(Some(sel), Default::default(), path)
}

/// Whether a selector has no requirements (and so matches everything).
pub fn selector_is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.is_empty() && sel.match_expressions.is_empty()
}

/// Whether `sel` selects an object with `labels`, via upstream's `LabelSelectorAsSelector`
/// ([`crate::labels::label_selector_as_selector`]); `None` when the selector cannot be
/// converted (an invalid key, value or operator). The single place the workload checks match
/// selectors.
pub fn selector_matches(sel: &LabelSelector, labels: &labels::LabelMap) -> Option<bool> {
    crate::labels::label_selector_as_selector(Some(sel))
        .ok()
        .map(|s| s.matches(labels))
}
