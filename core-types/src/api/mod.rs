//! The typed Kubernetes API kinds, one module per API group and version.
//!
//! PLACEHOLDER: replaced by the code generated from the upstream v1.33 OpenAPI document.

pub mod meta;
