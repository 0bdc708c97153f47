//! Label selectors, as upstream's `k8s.io/apimachinery/pkg/labels`: parse the string form
//! (`a=b,c!=d,e in (x,y),!f,g,h notin (z),i>3`), print it canonically, and match label sets
//! without allocating. Objects keep their labels in a [`LabelMap`] (sorted, with cached key and
//! value prefixes for fast matching); selectors also match `BTreeMap`s, `HashMap`s and slices of
//! pairs through the [`Labels`] trait.
//!
//! ```
//! use kybern_core::labels::{LabelMap, Selector};
//!
//! let sel = Selector::parse("tier in (web,api),env!=prod,!legacy").unwrap();
//! let labels = LabelMap::from([("tier", "web")]);
//! assert!(sel.matches(&labels));
//! assert_eq!(sel.to_string(), "env!=prod,!legacy,tier in (api,web)");
//! ```

mod keycmp;
mod label_selector;
mod map;
mod parse;
mod selector;
mod set;

pub use label_selector::{
    LabelSelectorError, LabelSelectorValidationOptions, format_label_selector,
    label_selector_as_map, label_selector_as_selector, set_as_label_selector,
    validate_label_selector, validate_label_selector_requirement,
};
pub use map::{IntoIter, Iter, LabelMap};
pub use parse::{Expected, SelectorParseError};
pub use selector::{Operator, Requirement, RequirementError, Selector, UnknownOperator};
pub use set::{
    ConvertSelectorError, Labels, Set, conflicts, convert_selector_to_labels_map, equals,
    format_labels, merge, selector_from_set, set_to_string, validated_selector_from_set,
};
