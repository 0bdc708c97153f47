//! `kybern-rbac`: Kubernetes RBAC evaluation — **not yet implemented**.
//!
//! This crate is a placeholder reserved by the workspace; the authorizer, rule resolution,
//! aggregation and escalation checks arrive with the RBAC issue. Nothing here works yet.
