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
//! - [`dns`] publishes the records CoreDNS's kubernetes plugin would and serves them over UDP.
//! - [`ingress`] matches Ingress rules to a Service backend.
//! - [`proxy`] is a real userspace TCP proxy (tokio) in front of the resolver.
//!
//! The controllers here are level-triggered functions (`desired state from observed state`)
//! plus a simple watch loop; they are meant to run under the controller runtime when it lands.
//!
//! # Not done yet
//! - Running on `Controller<K>` (the runtime is not on main): today
//!   [`endpointslice::controller::EndpointSliceController::run`] is a plain watch loop that
//!   re-syncs every Service of a namespace on any Pod event.
//! - An incremental (O(one slice)) path for a single pod change: the reconcile recomputes the
//!   desired endpoints of every pod (it writes only the changed slice).
//! - UDP/SCTP proxying (the proxy carries TCP only); `Auto` topology hints are simplified to
//!   own-zone hints (see [`endpointslice::desired::wants_zone_hints`]).

pub mod alloc;
pub mod dns;
pub mod endpointslice;
pub mod ingress;
pub mod ports;
pub mod proxy;
pub mod resolver;
pub mod service_type;
