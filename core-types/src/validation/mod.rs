//! Validation with upstream's rules and messages: names, metadata, and per-kind rules.
//!
//! Every check returns *all* problems as a [`field::ErrorList`], each with its field path and
//! upstream's wording, e.g. `spec.template.metadata.labels: Invalid value: {"app":"x"}: ...`.

pub mod field;
pub mod meta;
pub mod names;

pub use field::{ErrorList, ErrorType, FieldError, FieldPath};
