//! Label-selector matching for aggregation rules (`matchLabels` and `matchExpressions` with
//! `In`, `NotIn`, `Exists`, `DoesNotExist`), as upstream's `LabelSelectorAsSelector` followed
//! by `Matches`.
//!
//! This is the one place aggregation asks "does this selector match these labels"; when
//! `kybern_core::labels` lands it can replace the body of [`selector_matches`].

use std::collections::BTreeMap;

use kybern_core::api::meta::v1::LabelSelector;

/// A selector that cannot be evaluated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// An operator other than `In`, `NotIn`, `Exists`, `DoesNotExist`.
    #[error("{0:?} is not a valid label selector operator")]
    InvalidOperator(String),
    /// `In`/`NotIn` without values.
    #[error("for 'in', 'notin' operators, values set can't be empty (key {0:?})")]
    EmptyValues(String),
    /// `Exists`/`DoesNotExist` with values.
    #[error("values set must be empty for exists and does not exist (key {0:?})")]
    UnexpectedValues(String),
}

/// Whether `selector` matches `labels`. An empty selector (`{}`) matches everything.
///
/// # Errors
/// The selector has an unknown operator or the wrong number of values.
pub fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    let mut matches = selector
        .match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    for e in &selector.match_expressions {
        let value = labels.get(&e.key);
        let ok = match e.operator.as_str() {
            "In" | "NotIn" => {
                if e.values.is_empty() {
                    return Err(SelectorError::EmptyValues(e.key.clone()));
                }
                let found = value.is_some_and(|v| e.values.contains(v));
                if e.operator == "In" { found } else { !found }
            }
            "Exists" | "DoesNotExist" => {
                if !e.values.is_empty() {
                    return Err(SelectorError::UnexpectedValues(e.key.clone()));
                }
                (e.operator == "Exists") == value.is_some()
            }
            other => return Err(SelectorError::InvalidOperator(other.to_owned())),
        };
        matches &= ok;
    }
    Ok(matches)
}
