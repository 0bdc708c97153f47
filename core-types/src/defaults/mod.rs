//! Defaulting: the values the API server fills in on create, as upstream Kubernetes v1.33 does.
//!
//! [`SetDefaults::set_defaults`] applies upstream's `SetObjectDefaults_<Kind>` to a typed object:
//! the hand-written `SetDefaults_*` functions of `pkg/apis/<group>/<version>/defaults.go` plus the
//! declarative `+default=` markers of the API types, walked into every nested struct the way
//! upstream's generated defaulters walk them. Feature gates are taken at their v1.33 defaults:
//! GA and beta-on gates are on, alpha and beta-off gates are off.
//!
//! ```
//! use kybern_core::SetDefaults;
//! use kybern_core::api::apps::v1::Deployment;
//!
//! let mut d: Deployment = serde_json::from_value(serde_json::json!({
//!     "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
//!     "spec": {"selector": {"matchLabels": {"app": "web"}},
//!              "template": {"metadata": {"labels": {"app": "web"}},
//!                           "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}}
//! })).unwrap();
//! d.set_defaults();
//! let spec = d.spec.as_ref().unwrap();
//! assert_eq!(spec.replicas, Some(1));
//! assert_eq!(spec.progress_deadline_seconds, Some(600));
//! let pod = spec.template.spec.as_ref().unwrap();
//! assert_eq!(pod.containers[0].image_pull_policy.as_deref(), Some("IfNotPresent"));
//! ```
//!
//! # Guarantees
//! - Idempotent: defaulting an already defaulted object changes nothing.
//! - A value that is set is kept. Upstream's own exceptions are followed and are the only ones:
//!   a Service with `sessionAffinity: None` loses its `sessionAffinityConfig`, and a Namespace's
//!   `kubernetes.io/metadata.name` label is always set to the namespace's name.
//! - Like upstream, a string field that is present but empty counts as unset (Go cannot tell
//!   them apart), and so does a zero probe threshold or timeout.
//!
//! # The defaults
//!
//! | object | field | default |
//! | --- | --- | --- |
//! | PodSpec (pods and every pod template) | `dnsPolicy` / `restartPolicy` / `schedulerName` | `ClusterFirst` / `Always` / `default-scheduler` |
//! | | `terminationGracePeriodSeconds` / `securityContext` | `30` / `{}` |
//! | Pod only (not templates) | `enableServiceLinks` | `true` |
//! | | container `resources.requests` | each resource in `limits` missing from `requests` is copied (containers and init containers) |
//! | | `hostNetwork: true` | every container port without `hostPort` gets `hostPort = containerPort` |
//! | Container, init and ephemeral container | `imagePullPolicy` | `Always` for tag `latest` or no tag and no digest, `IfNotPresent` otherwise (see [`image`]) |
//! | | `terminationMessagePath` / `terminationMessagePolicy` | `/dev/termination-log` / `File` |
//! | | `ports[].protocol` | `TCP` |
//! | | `env[].valueFrom.fieldRef.apiVersion` | `v1` |
//! | | liveness/readiness/startup probe | `timeoutSeconds 1`, `periodSeconds 10`, `successThreshold 1`, `failureThreshold 3` |
//! | | probe and lifecycle `httpGet` | `path /`, `scheme HTTP` |
//! | | probe `grpc.service` | `""` |
//! | Volume | no source at all | `emptyDir: {}` |
//! | | `secret` / `configMap` / `downwardAPI` / `projected` `defaultMode` | `420` (`0644`) |
//! | | `downwardAPI` and projected `downwardAPI` items `fieldRef.apiVersion` | `v1` |
//! | | projected `serviceAccountToken.expirationSeconds` | `3600` |
//! | | `hostPath.type` | `""` |
//! | | `ephemeral.volumeClaimTemplate.spec.volumeMode` | `Filesystem` |
//! | | `iscsi.iscsiInterface` | `default` |
//! | | `rbd` `pool` / `user` / `keyring` | `rbd` / `admin` / `/etc/ceph/keyring` |
//! | | `azureDisk` `cachingMode` / `fsType` / `readOnly` / `kind` | `ReadWrite` / `ext4` / `false` / `Shared` |
//! | | `scaleIO` `storageMode` / `fsType` | `ThinProvisioned` / `xfs` |
//! | Service | `type` / `sessionAffinity` | `ClusterIP` / `None` (`None` drops `sessionAffinityConfig`) |
//! | | `sessionAffinityConfig` when `ClientIP` | `clientIP.timeoutSeconds: 10800` |
//! | | `ports[].protocol` / `ports[].targetPort` | `TCP` / the port's `port` (when unset, `0` or `""`) |
//! | | `externalTrafficPolicy` | `Cluster` for NodePort, LoadBalancer, and ClusterIP with `externalIPs` |
//! | | `internalTrafficPolicy` | `Cluster` for ClusterIP, NodePort, LoadBalancer |
//! | | `allocateLoadBalancerNodePorts` | `true` for LoadBalancer |
//! | | `status.loadBalancer.ingress[].ipMode` | `VIP` for LoadBalancer ingress entries with an `ip` |
//! | Endpoints | `subsets[].ports[].protocol` | `TCP` |
//! | Secret | `type` | `Opaque` |
//! | Namespace | label `kubernetes.io/metadata.name` / `status.phase` | the name (when named) / `Active` |
//! | Node | `status.allocatable` | a copy of `status.capacity` when empty |
//! | PersistentVolume | `persistentVolumeReclaimPolicy` / `volumeMode` / `status.phase` | `Retain` / `Filesystem` / `Pending` |
//! | | `hostPath`, `iscsi`, `rbd`, `azureDisk`, `scaleIO` | as for volumes |
//! | PersistentVolumeClaim | `spec.volumeMode` / `status.phase` | `Filesystem` / `Pending` |
//! | LimitRange | `Container` items | `default` ← `max`; `defaultRequest` ← `default`, then ← `min` (per resource) |
//! | Deployment | `replicas` / `revisionHistoryLimit` / `progressDeadlineSeconds` | `1` / `10` / `600` |
//! | | `strategy` | `RollingUpdate`, `maxUnavailable 25%`, `maxSurge 25%` |
//! | ReplicaSet | `replicas` | `1` |
//! | StatefulSet | `replicas` / `revisionHistoryLimit` / `podManagementPolicy` | `1` / `10` / `OrderedReady` |
//! | | `updateStrategy` | `RollingUpdate` with `rollingUpdate.partition 0` (partition only when `rollingUpdate` is present or the type was unset) |
//! | | `persistentVolumeClaimRetentionPolicy` | `whenDeleted Retain`, `whenScaled Retain` (StatefulSetAutoDeletePVC, GA) |
//! | | `volumeClaimTemplates[]` | `spec.volumeMode Filesystem`, `status.phase Pending` |
//! | DaemonSet | `updateStrategy` / `revisionHistoryLimit` | `RollingUpdate`, `maxUnavailable 1`, `maxSurge 0` / `10` |
//! | Job | `completions` and `parallelism` | both `1` when both unset; `parallelism 1` when unset |
//! | | `backoffLimit` | `6`, or `2147483647` when `backoffLimitPerIndex` is set |
//! | | `completionMode` / `suspend` / `manualSelector` | `NonIndexed` / `false` / `false` |
//! | | `podReplacementPolicy` | `Failed` with a `podFailurePolicy`, `TerminatingOrFailed` otherwise (JobPodReplacementPolicy, beta-on) |
//! | | `podFailurePolicy.rules[].onPodConditions[].status` | `True` |
//! | | `metadata.labels` | the template's labels when the Job has none |
//! | CronJob | `concurrencyPolicy` / `suspend` | `Allow` / `false` |
//! | | `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` | `3` / `1` |
//! | | `jobTemplate` | only the pod template defaults (Job defaults apply when the Job is created) |
//! | HorizontalPodAutoscaler (v2) | `minReplicas` / `metrics` | `1` / CPU `Utilization` `80` when empty |
//! | | `behavior.scaleUp` (when `behavior` set) | stabilization `0`, `selectPolicy Max`, policies `Pods 4 / 15s` and `Percent 100 / 15s` |
//! | | `behavior.scaleDown` (when `behavior` set) | `selectPolicy Max`, policy `Percent 100 / 15s` (no stabilization window) |
//! | NetworkPolicy | `policyTypes` | `[Ingress]`, plus `Egress` when there are egress rules |
//! | | ingress and egress `ports[].protocol` | `TCP` |
//! | IngressClass | `parameters.scope` | `Cluster` |
//! | EndpointSlice | `ports[].name` / `ports[].protocol` | `""` / `TCP` |
//! | StorageClass | `reclaimPolicy` / `volumeBindingMode` | `Delete` / `Immediate` |
//! | RoleBinding, ClusterRoleBinding | `roleRef.apiGroup` | `rbac.authorization.k8s.io` |
//! | | `subjects[].apiGroup` | `rbac.authorization.k8s.io` for `User` and `Group`, `""` for `ServiceAccount` |
//! | PriorityClass | `preemptionPolicy` | `PreemptLowerPriority` |
//! | CustomResourceDefinition | `names.singular` / `names.listKind` | lower-cased kind / kind + `List` |
//! | | `conversion` / webhook `service.port` | `strategy: None` / `443` |
//! | | `status.storedVersions` | the storage version, when empty |
//!
//! Kinds upstream does not default (no-ops here): ConfigMap (upstream only turns a nil `data`
//! into an empty map, which our maps already are), ServiceAccount, Event (core and
//! `events.k8s.io`), ResourceQuota, Binding, ControllerRevision, Ingress, Role, ClusterRole,
//! Lease, PodDisruptionBudget.
//!
//! # Deliberately left out
//! - Quantity rounding (`SetDefaults_ResourceList` rounds every resource quantity up to milli
//!   precision): not applied here.
//! - Server-side allocation that is not defaulting: Service `clusterIP`/`clusterIPs`,
//!   `ipFamilies`/`ipFamilyPolicy`, node ports; Namespace `spec.finalizers`; Job selectors and
//!   pod labels; `metadata` fields (uid, creationTimestamp, generation).
//! - Gated-off features at v1.33: pod-level resources (PodLevelResources, alpha), image volume
//!   pull policy (ImageVolume, beta-off), StatefulSet `maxUnavailable` (alpha), HPA
//!   `selectionStrategy` (not in v1.33). Container `resizePolicy` is not defaulted in v1.33.
//! - Kinds that have no generated type yet, so no defaults here: ReplicationController
//!   (`replicas 1`, selector and labels from the template), PodTemplate (pod template defaults),
//!   `autoscaling/v1` HorizontalPodAutoscaler (`minReplicas 1`), CSIDriver (`attachRequired`,
//!   `fsGroupPolicy`, `volumeLifecycleModes`, …).
//! - Explicitly empty lists that upstream keeps empty (HPA `behavior.*.policies: []`): absent and
//!   empty lists are the same value here, so they get the default policies.
//! - Go's zero-value structs (`resources: {}`, `creationTimestamp: null`) that `kubectl get -o
//!   yaml` prints are serialization artifacts, not defaults; they are not materialized.

pub mod image;

mod apiextensions;
mod apps;
mod autoscaling;
mod batch;
mod core;
mod discovery;
mod networking;
mod noop;
mod pod;
mod rbac;
mod scheduling;
mod storage;

/// Fills in the fields upstream Kubernetes v1.33 defaults when an object is created.
///
/// Implemented for every compiled-in root kind; kinds upstream does not default implement it as a
/// no-op. See the [module documentation](self) for the table of defaults.
pub trait SetDefaults {
    /// Sets every unset defaulted field of `self`, in place.
    ///
    /// # Guarantees
    /// Idempotent, and never replaces a value that is set (apart from upstream's two documented
    /// exceptions, see the [module documentation](self)).
    fn set_defaults(&mut self);
}

/// Returns `obj` with its defaults set: a by-value form of [`SetDefaults::set_defaults`].
pub fn defaulted<T: SetDefaults>(mut obj: T) -> T {
    obj.set_defaults();
    obj
}

/// Sets a string field when it is unset or empty (Go's `if x == ""`).
pub(crate) fn default_str(slot: &mut Option<String>, value: &str) {
    if slot.as_deref().is_none_or(str::is_empty) {
        *slot = Some(value.to_owned());
    }
}

/// Sets a required string field when it is empty.
pub(crate) fn default_required_str(slot: &mut String, value: &str) {
    if slot.is_empty() {
        value.clone_into(slot);
    }
}

/// Sets an integer field when it is unset or zero (Go's `if x == 0` on a non-pointer field).
pub(crate) fn default_nonzero(slot: &mut Option<i32>, value: i32) {
    if slot.is_none_or(|v| v == 0) {
        *slot = Some(value);
    }
}
