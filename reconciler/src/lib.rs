//! `kybern-reconciler`: the object store, informers and controller runtime — **not yet implemented**.
//!
//! This crate is a placeholder reserved by the workspace. The store with revisions and watch
//! (memory, durable, etcd) arrives with the store issue, and the controller runtime with the
//! runtime issue. Nothing here works yet, and nothing here pretends to.
