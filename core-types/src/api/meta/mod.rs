//! `meta.k8s.io` (apimachinery) types.

pub mod v1;
