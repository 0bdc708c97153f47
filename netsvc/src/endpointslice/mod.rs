//! The EndpointSlice controller's logic: which pods back a Service, the endpoints and ports
//! they publish, packing them into slices with minimal churn, and the legacy `Endpoints` mirror.
//!
//! Everything here is level-triggered: [`reconcile_service`] takes the observed Service, its
//! pods and its existing slices and returns the writes that make the slices right. The
//! [`controller`] module runs it against a [`kybern_reconciler::Store`]; [`index::SliceIndex`]
//! is the incremental path (one pod's change touches one slice) and
//! [`runtime::run`] the controller on the Kybern runtime's `Controller<Service>`.

pub mod controller;
pub mod desired;
pub mod endpoints;
pub mod index;
pub mod reconciler;
pub mod runtime;

pub use desired::{is_pod_ready, pod_endpoint, should_pod_be_in_endpoints};
pub use endpoints::{MAX_ENDPOINTS_CAPACITY, desired_endpoints};
pub use index::SliceIndex;
pub use reconciler::{SliceChanges, SliceReconciler, reconcile_service};

/// Label naming the Service a slice belongs to.
pub const LABEL_SERVICE_NAME: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const LABEL_MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's `managed-by` value (upstream's).
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Label set (empty value) on slices and Endpoints of headless Services.
pub const LABEL_HEADLESS: &str = "service.kubernetes.io/headless";
/// Upstream's default `--max-endpoints-per-slice`.
pub const DEFAULT_MAX_ENDPOINTS_PER_SLICE: usize = 100;
/// Node label carrying the zone.
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
/// Service annotation turning on topology-aware routing (`Auto`).
pub const ANNOTATION_TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
