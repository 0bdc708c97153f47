//! Defaults of the `apps/v1` kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet.
//!
//! Upstream: `pkg/apis/apps/v1/defaults.go`; pod templates get the PodSpec defaults.
//! ControllerRevision has none (see `noop.rs`).

use crate::IntOrString;
use crate::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};

use super::pod;
use super::{SetDefaults, default_str};

/// `revisionHistoryLimit` default of Deployments, StatefulSets and DaemonSets.
const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;

impl SetDefaults for Deployment {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        let strategy = spec.strategy.get_or_insert_with(Default::default);
        default_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let ru = strategy.rolling_update.get_or_insert_with(Default::default);
            ru.max_unavailable
                .get_or_insert_with(|| IntOrString::String("25%".to_owned()));
            ru.max_surge
                .get_or_insert_with(|| IntOrString::String("25%".to_owned()));
        }
        spec.revision_history_limit
            .get_or_insert(DEFAULT_REVISION_HISTORY_LIMIT);
        spec.progress_deadline_seconds.get_or_insert(600);
        pod::template(&mut spec.template);
    }
}

impl SetDefaults for ReplicaSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.replicas.get_or_insert(1);
        if let Some(t) = &mut spec.template {
            pod::template(t);
        }
    }
}

impl SetDefaults for StatefulSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        default_str(&mut spec.pod_management_policy, "OrderedReady");
        let strategy = spec.update_strategy.get_or_insert_with(Default::default);
        if strategy.type_.as_deref().is_none_or(str::is_empty) {
            strategy.type_ = Some("RollingUpdate".to_owned());
            strategy.rolling_update.get_or_insert_with(Default::default);
        }
        if strategy.type_.as_deref() == Some("RollingUpdate")
            && let Some(ru) = &mut strategy.rolling_update
        {
            ru.partition.get_or_insert(0);
        }
        // StatefulSetAutoDeletePVC is GA.
        let retention = spec
            .persistent_volume_claim_retention_policy
            .get_or_insert_with(Default::default);
        default_str(&mut retention.when_deleted, "Retain");
        default_str(&mut retention.when_scaled, "Retain");
        spec.replicas.get_or_insert(1);
        spec.revision_history_limit
            .get_or_insert(DEFAULT_REVISION_HISTORY_LIMIT);
        pod::template(&mut spec.template);
        for claim in &mut spec.volume_claim_templates {
            claim.set_defaults();
        }
    }
}

impl SetDefaults for DaemonSet {
    fn set_defaults(&mut self) {
        let spec = self.spec.get_or_insert_with(Default::default);
        let strategy = spec.update_strategy.get_or_insert_with(Default::default);
        default_str(&mut strategy.type_, "RollingUpdate");
        if strategy.type_.as_deref() == Some("RollingUpdate") {
            let ru = strategy.rolling_update.get_or_insert_with(Default::default);
            ru.max_unavailable.get_or_insert(IntOrString::Int(1));
            ru.max_surge.get_or_insert(IntOrString::Int(0));
        }
        spec.revision_history_limit
            .get_or_insert(DEFAULT_REVISION_HISTORY_LIMIT);
        pod::template(&mut spec.template);
    }
}
