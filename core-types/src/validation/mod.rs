//! Validation with upstream's rules and messages: names, metadata, and per-kind rules.
//!
//! Every check returns *all* problems as a [`field::ErrorList`], each with its field path and
//! upstream's wording, e.g. `spec.template.metadata.labels: Invalid value: {"app":"x"}: ...`.
//! Every root kind of the generated API implements [`Validate`].
//!
//! Kinds are validated as written (before server-side defaulting): a field upstream defaults
//! is checked only when set, or with its default value where a rule depends on it (e.g. a
//! Deployment template without `restartPolicy` counts as `Always`). Bad values that are not
//! strings or numbers render as compact JSON rather than Go's `%#v`.

pub mod apiextensions;
pub mod autoscaling;
pub mod config;
pub mod cron;
pub mod event;
pub mod field;
pub mod lease;
pub mod meta;
pub mod names;
pub mod namespace;
pub mod network;
pub mod networking;
pub mod node;
pub mod pod;
pub mod policy;
pub mod priority;
pub mod rbac;
pub mod resources;
pub mod selector;
pub mod service;
pub mod storage;
pub mod workloads;

pub use field::{ErrorList, ErrorType, FieldError, FieldPath};

/// An object that can check itself against upstream's validation rules.
pub trait Validate {
    /// Every problem found, with field paths and upstream's messages; empty when valid.
    fn validate(&self) -> ErrorList;
}
