//! `kybern-netsvc`: Services, EndpointSlices, resolution, DNS and an L4 proxy — **not yet implemented**.
//!
//! This crate is a placeholder reserved by the workspace; it is filled in by the networking
//! issue. Nothing here works yet.
