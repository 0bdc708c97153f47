//! `kybern-storage`: PersistentVolume/claim binding, provisioning and reclaim — **not yet implemented**.
//!
//! This crate is a placeholder reserved by the workspace; matching, the PV controller and the
//! local-path provisioner arrive with the storage issue. Nothing here works yet.
