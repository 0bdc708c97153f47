//! Pod spec defaults shared by pods and every pod template: containers, probes, volumes.
//!
//! Upstream's `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_Probe`,
//! `SetDefaults_Volume` and the volume-source defaulters, plus the declarative defaults of
//! `ContainerPort.protocol` and `GRPCAction.service`. The Pod-only extras
//! (`SetDefaults_Pod`) live in [`pod_only`].

use crate::api::core::v1::{
    Container, EnvVar, HTTPGetAction, Lifecycle, PersistentVolumeClaimSpec, PodSpec,
    PodTemplateSpec, Probe, Volume,
};

use super::image::default_pull_policy;
use super::{default_nonzero, default_str};

/// File mode upstream gives secret, configMap, downwardAPI and projected volumes (`0644`).
const DEFAULT_VOLUME_MODE: i32 = 0o644;
/// Lifetime of a projected service account token (one hour).
const DEFAULT_TOKEN_EXPIRATION_SECONDS: i64 = 3600;

/// Defaults a pod template's spec (templates get the PodSpec defaults, not the Pod-only ones).
pub(crate) fn template(t: &mut PodTemplateSpec) {
    spec(t.spec.get_or_insert_with(Default::default));
}

/// `SetDefaults_PodSpec` and everything nested in a PodSpec.
pub(crate) fn spec(s: &mut PodSpec) {
    default_str(&mut s.dns_policy, "ClusterFirst");
    default_str(&mut s.restart_policy, "Always");
    if s.security_context.is_none() {
        s.security_context = Some(Default::default());
    }
    if s.termination_grace_period_seconds.is_none() {
        s.termination_grace_period_seconds = Some(30);
    }
    default_str(&mut s.scheduler_name, "default-scheduler");
    for v in &mut s.volumes {
        volume(v);
    }
    for c in &mut s.init_containers {
        container(c);
    }
    for c in &mut s.containers {
        container(c);
    }
    for c in &mut s.ephemeral_containers {
        container_fields!(c);
    }
}

/// Applies the container defaults to anything with a container's fields (`Container` and
/// `EphemeralContainer` are distinct types with the same fields).
macro_rules! container_fields {
    ($c:expr) => {{
        let c = $c;
        if c.image_pull_policy.as_deref().is_none_or(str::is_empty) {
            let policy = default_pull_policy(c.image.as_deref().unwrap_or(""));
            c.image_pull_policy = Some(policy.to_owned());
        }
        default_str(&mut c.termination_message_path, "/dev/termination-log");
        default_str(&mut c.termination_message_policy, "File");
        for p in &mut c.ports {
            default_str(&mut p.protocol, "TCP");
        }
        for e in &mut c.env {
            env_var(e);
        }
        for p in [
            &mut c.liveness_probe,
            &mut c.readiness_probe,
            &mut c.startup_probe,
        ]
        .into_iter()
        .flatten()
        {
            probe(p);
        }
        if let Some(l) = &mut c.lifecycle {
            lifecycle(l);
        }
    }};
}
use container_fields;

/// `SetDefaults_Container` and the defaults of everything nested in a container.
pub(crate) fn container(c: &mut Container) {
    container_fields!(c);
}

fn env_var(e: &mut EnvVar) {
    if let Some(field_ref) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
        default_str(&mut field_ref.api_version, "v1");
    }
}

/// `SetDefaults_Probe` plus the probe handler's defaults.
fn probe(p: &mut Probe) {
    default_nonzero(&mut p.timeout_seconds, 1);
    default_nonzero(&mut p.period_seconds, 10);
    default_nonzero(&mut p.success_threshold, 1);
    default_nonzero(&mut p.failure_threshold, 3);
    if let Some(h) = &mut p.http_get {
        http_get(h);
    }
    if let Some(g) = &mut p.grpc
        && g.service.is_none()
    {
        g.service = Some(String::new());
    }
}

fn lifecycle(l: &mut Lifecycle) {
    for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
        if let Some(g) = &mut h.http_get {
            http_get(g);
        }
    }
}

/// `SetDefaults_HTTPGetAction`.
fn http_get(h: &mut HTTPGetAction) {
    default_str(&mut h.path, "/");
    default_str(&mut h.scheme, "HTTP");
}

/// `SetDefaults_Volume` and the defaults of the volume's source.
pub(crate) fn volume(v: &mut Volume) {
    let no_source = *v
        == Volume {
            name: v.name.clone(),
            ..Default::default()
        };
    if no_source {
        v.empty_dir = Some(Default::default());
        return;
    }
    if let Some(h) = &mut v.host_path
        && h.type_.is_none()
    {
        h.type_ = Some(String::new());
    }
    if let Some(s) = &mut v.secret {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(c) = &mut v.config_map {
        c.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(d) = &mut v.downward_api {
        d.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for item in &mut d.items {
            if let Some(f) = &mut item.field_ref {
                default_str(&mut f.api_version, "v1");
            }
        }
    }
    if let Some(p) = &mut v.projected {
        p.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for source in &mut p.sources {
            if let Some(d) = &mut source.downward_api {
                for item in &mut d.items {
                    if let Some(f) = &mut item.field_ref {
                        default_str(&mut f.api_version, "v1");
                    }
                }
            }
            if let Some(t) = &mut source.service_account_token {
                t.expiration_seconds
                    .get_or_insert(DEFAULT_TOKEN_EXPIRATION_SECONDS);
            }
        }
    }
    if let Some(e) = &mut v.ephemeral
        && let Some(t) = &mut e.volume_claim_template
    {
        claim_spec(&mut t.spec);
    }
    if let Some(i) = &mut v.iscsi {
        default_str(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut v.rbd {
        default_str(&mut r.pool, "rbd");
        default_str(&mut r.user, "admin");
        default_str(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(a) = &mut v.azure_disk {
        azure_disk(a);
    }
    if let Some(s) = &mut v.scale_io {
        default_str(&mut s.storage_mode, "ThinProvisioned");
        default_str(&mut s.fs_type, "xfs");
    }
}

/// `SetDefaults_AzureDiskVolumeSource` (shared by volumes and persistent volumes).
pub(crate) fn azure_disk(a: &mut crate::api::core::v1::AzureDiskVolumeSource) {
    if a.caching_mode.is_none() {
        a.caching_mode = Some("ReadWrite".to_owned());
    }
    if a.kind.is_none() {
        a.kind = Some("Shared".to_owned());
    }
    if a.fs_type.is_none() {
        a.fs_type = Some("ext4".to_owned());
    }
    a.read_only.get_or_insert(false);
}

/// `SetDefaults_PersistentVolumeClaimSpec`.
pub(crate) fn claim_spec(s: &mut PersistentVolumeClaimSpec) {
    if s.volume_mode.is_none() {
        s.volume_mode = Some("Filesystem".to_owned());
    }
}

/// The defaults `SetDefaults_Pod` adds for pods only (never for pod templates).
pub(crate) mod pod_only {
    use crate::api::core::v1::{Container, PodSpec};

    /// Requests from limits, `enableServiceLinks`, host ports on the host network.
    pub(crate) fn spec(s: &mut PodSpec) {
        for c in s.containers.iter_mut().chain(s.init_containers.iter_mut()) {
            requests_from_limits(c);
        }
        s.enable_service_links.get_or_insert(true);
        if s.host_network == Some(true) {
            for c in s.containers.iter_mut().chain(s.init_containers.iter_mut()) {
                for p in &mut c.ports {
                    if p.host_port.is_none_or(|h| h == 0) {
                        p.host_port = Some(p.container_port);
                    }
                }
            }
        }
    }

    /// Each resource with a limit but no request gets a request equal to the limit.
    fn requests_from_limits(c: &mut Container) {
        let Some(r) = &mut c.resources else {
            return;
        };
        for (name, limit) in &r.limits {
            if !r.requests.contains_key(name) {
                r.requests.insert(name.clone(), *limit);
            }
        }
    }
}
