//! `kybern-netsvc`: Services that resolve and carry real traffic.
//!
//! # Where to start
//! - [`ports::find_port`] resolves a Service `targetPort` (number or name) on a pod.
//! - [`alloc::ServiceAllocator`] hands out cluster IPs (IPv4/IPv6, dual-stack) and node ports,
//!   and rebuilds its state from stored Services after a restart.
//! - [`service_type`] classifies Services and provides the [`service_type::LoadBalancerProvider`]
//!   seam (with a loopback provider for tests).
//! - [`endpointslice`] computes the EndpointSlices (and legacy Endpoints) of a Service from its
//!   pods, rewriting as few slices as possible.
//! - [`resolver::ServiceResolver`] answers "where does a connection to this service port go"
//!   with pluggable pickers, session affinity and traffic policies.
//! - [`dns`] publishes the records CoreDNS's kubernetes plugin would (Services, and pods in
//!   `insecure`/`verified` mode) and serves them over UDP.
//! - [`ingress`] matches Ingress rules to a Service backend.
//! - [`proxy`] is a real userspace TCP/UDP proxy (tokio) in front of the resolver; TCP bytes
//!   are copied through userspace buffers by default, or zero-copy with `splice(2)` on Linux
//!   when chosen in [`proxy::ProxyOptions`].
//!
//! The EndpointSlice controller runs on the runtime's `Controller<Service>`
//! ([`endpointslice::runtime::run`]); a single pod's change goes through the incremental
//! [`endpointslice::SliceIndex`] (one slice touched), the full level-triggered reconcile stays
//! the reference. [`service_type::sync_load_balancer`] writes a provider's ingress points to
//! `status.loadBalancer`.
//!
//! # Not done / simplified
//! - SCTP is not proxied (TCP and UDP are); `Auto` topology hints are simplified to own-zone
//!   hints (see [`endpointslice::desired::wants_zone_hints`]).
//! - The legacy `Endpoints` mirror is recomputed from all of a Service's pods on each sync
//!   (O(pods), like upstream's endpoints controller); it can be turned off.

pub mod alloc;
pub mod dns;
pub mod endpointslice;
pub mod ingress;
pub mod ports;
pub mod proxy;
pub mod resolver;
pub mod service_type;
