//! The default plugins, with upstream's semantics, messages and default weights, and the
//! default profile that wires them.

pub mod default_binder;
pub mod default_preemption;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod priority_sort;
pub mod scheduling_gates;
pub mod taint_toleration;

use std::sync::Arc;

use kybern_reconciler::Store;

use crate::error::Error;
use crate::framework::{Framework, FrameworkBuilder};

/// Upstream's plugin names.
pub mod names {
    /// `PrioritySort`.
    pub const PRIORITY_SORT: &str = "PrioritySort";
    /// `SchedulingGates`.
    pub const SCHEDULING_GATES: &str = "SchedulingGates";
    /// `NodeUnschedulable`.
    pub const NODE_UNSCHEDULABLE: &str = "NodeUnschedulable";
    /// `NodeName`.
    pub const NODE_NAME: &str = "NodeName";
    /// `TaintToleration`.
    pub const TAINT_TOLERATION: &str = "TaintToleration";
    /// `NodeAffinity`.
    pub const NODE_AFFINITY: &str = "NodeAffinity";
    /// `NodePorts`.
    pub const NODE_PORTS: &str = "NodePorts";
    /// `NodeResourcesFit`.
    pub const NODE_RESOURCES_FIT: &str = "NodeResourcesFit";
    /// `NodeResourcesBalancedAllocation`.
    pub const NODE_RESOURCES_BALANCED_ALLOCATION: &str = "NodeResourcesBalancedAllocation";
    /// `ImageLocality`.
    pub const IMAGE_LOCALITY: &str = "ImageLocality";
    /// `PodTopologySpread`.
    pub const POD_TOPOLOGY_SPREAD: &str = "PodTopologySpread";
    /// `InterPodAffinity`.
    pub const INTER_POD_AFFINITY: &str = "InterPodAffinity";
    /// `DefaultBinder`.
    pub const DEFAULT_BINDER: &str = "DefaultBinder";
    /// `DefaultPreemption`.
    pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";
}

/// Feature gates the plugins consult.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeatureGates {
    /// `TaintTolerationComparisonOperators` (alpha upstream, off): `Gt`/`Lt` tolerations.
    pub taint_toleration_comparison_operators: bool,
}

/// Arguments of the default plugins.
#[derive(Clone, Debug, Default)]
pub struct DefaultPluginArgs {
    /// Feature gates.
    pub gates: FeatureGates,
    /// NodeResourcesFit.
    pub fit: node_resources::FitArgs,
    /// NodeResourcesBalancedAllocation.
    pub balanced_allocation: node_resources::BalancedAllocationArgs,
    /// NodeAffinity.
    pub node_affinity: node_affinity::NodeAffinityArgs,
    /// PodTopologySpread.
    pub pod_topology_spread: pod_topology_spread::PodTopologySpreadArgs,
    /// InterPodAffinity.
    pub inter_pod_affinity: inter_pod_affinity::InterPodAffinityArgs,
    /// DefaultPreemption.
    pub default_preemption: default_preemption::DefaultPreemptionArgs,
}

/// Upstream v1.33's default score weights: TaintToleration 3, NodeAffinity 2,
/// PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit 1,
/// NodeResourcesBalancedAllocation 1, ImageLocality 1.
pub const DEFAULT_WEIGHTS: [(&str, i64); 7] = [
    (names::TAINT_TOLERATION, 3),
    (names::NODE_AFFINITY, 2),
    (names::POD_TOPOLOGY_SPREAD, 2),
    (names::INTER_POD_AFFINITY, 2),
    (names::NODE_RESOURCES_FIT, 1),
    (names::NODE_RESOURCES_BALANCED_ALLOCATION, 1),
    (names::IMAGE_LOCALITY, 1),
];

/// The default profile's plugins (upstream's `getDefaultPlugins` for v1.33, minus the
/// volume and DRA plugins that live elsewhere), without a binder: add one with
/// [`FrameworkBuilder::bind`] or use [`default_framework`].
///
/// # Errors
/// Invalid plugin arguments.
pub fn default_builder(
    scheduler_name: &str,
    args: &DefaultPluginArgs,
) -> Result<FrameworkBuilder, Error> {
    let taint = taint_toleration::TaintToleration::new(args.gates);
    let affinity = node_affinity::NodeAffinity::new(&args.node_affinity)?;
    let fit = node_resources::Fit::new(args.fit.clone())?;
    let balanced = node_resources::BalancedAllocation::new(args.balanced_allocation.clone());
    let spread = pod_topology_spread::PodTopologySpread::new(args.pod_topology_spread.clone());
    let ipa = inter_pod_affinity::InterPodAffinity::new(args.inter_pod_affinity);
    let image = image_locality::ImageLocality::new();
    Ok(Framework::builder(scheduler_name)
        .pre_enqueue(scheduling_gates::SchedulingGates::new())
        .queue_sort(priority_sort::PrioritySort::new())
        .pre_filter(affinity.clone())
        .pre_filter(fit.clone())
        .pre_filter(spread.clone())
        .pre_filter(ipa.clone())
        .filter(node_unschedulable::NodeUnschedulable::new())
        .filter(node_name::NodeName::new())
        .filter(taint.clone())
        .filter(affinity.clone())
        .filter(node_ports::NodePorts::new())
        .filter(fit.clone())
        .filter(spread.clone())
        .filter(ipa.clone())
        .post_filter(default_preemption::DefaultPreemption::new(
            args.default_preemption,
        ))
        .pre_score(taint.clone())
        .pre_score(affinity.clone())
        .pre_score(spread.clone())
        .pre_score(ipa.clone())
        .pre_score(fit.clone())
        .pre_score(balanced.clone())
        .pre_score(image.clone())
        .score(taint, 3)
        .score(affinity, 2)
        .score(spread, 2)
        .score(ipa, 2)
        .score(fit, 1)
        .score(balanced, 1)
        .score(image, 1))
}

/// The default profile with DefaultBinder writing through `store`.
///
/// # Errors
/// Invalid plugin arguments.
pub fn default_framework(
    scheduler_name: &str,
    store: Arc<dyn Store>,
    args: &DefaultPluginArgs,
) -> Result<Framework, Error> {
    default_builder(scheduler_name, args)?
        .bind(default_binder::DefaultBinder::new(store))
        .build()
}
