//! `kybern-scheduler`: a scheduling framework with kube-scheduler's semantics — **not yet implemented**.
//!
//! This crate is a placeholder reserved by the workspace; the framework, queue, snapshot and
//! default plugins arrive with the scheduler issue. Nothing here works yet.
