//! Label-selector matching for aggregation rules: upstream's `LabelSelectorAsSelector`
//! followed by `Matches`, delegated to `kybern_core::labels`.
//!
//! This is the one place aggregation asks "does this selector match these labels".

use kybern_core::api::meta::v1::LabelSelector;
use kybern_core::labels::{LabelSelectorError, Labels, label_selector_as_selector};

/// A selector that cannot be evaluated (unknown operator, wrong number of values, invalid
/// key or value), with `kybern_core::labels`' message.
pub type SelectorError = LabelSelectorError;

/// Whether `selector` matches `labels`. An empty selector (`{}`) matches everything.
///
/// # Errors
/// The selector is invalid (upstream's controller then fails the sync of that role).
pub fn selector_matches<L: Labels + ?Sized>(
    selector: &LabelSelector,
    labels: &L,
) -> Result<bool, SelectorError> {
    Ok(label_selector_as_selector(Some(selector))?.matches(labels))
}
