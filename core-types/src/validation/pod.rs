//! Pod rules with upstream's messages (`pkg/apis/core/validation`): `PodSpec`, containers,
//! ports, env, volumes and mounts, probes and lifecycle handlers, tolerations, and the `Pod`
//! kind. Checks run on the object as written: fields upstream defaults before validating
//! (`restartPolicy`, `dnsPolicy`, port `protocol`, probe `scheme`/`path`, …) are checked only
//! when set.

use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{
    IS_NEGATIVE_ERROR_MSG, validate_labels, validate_nonnegative_field, validate_object_meta,
    validate_resource_meta,
};
use super::names::{
    inclusive_range_error, is_config_map_key, is_dns1123_label, is_dns1123_subdomain,
    is_http_header_name, is_qualified_name, is_relaxed_env_var_name, is_valid_port_name,
    is_valid_port_num, name_is_dns_subdomain,
};
use super::resources::validate_resource_requirements;
use crate::IntOrString;
use crate::api::core::v1::{
    Binding, Container, ContainerPort, EnvVar, HTTPGetAction, Pod, PodSpec, PodTemplateSpec, Probe,
    Toleration, Volume, VolumeMount,
};

/// Protocols a port may use, sorted as upstream lists them.
pub const SUPPORTED_PORT_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];
const RESTART_POLICIES: [&str; 3] = ["Always", "OnFailure", "Never"];
const DNS_POLICIES: [&str; 4] = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const PULL_POLICIES: [&str; 3] = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES: [&str; 2] = ["File", "FallbackToLogsOnError"];
const HTTP_SCHEMES: [&str; 2] = ["HTTP", "HTTPS"];
/// Taint effects, in upstream's listing order.
pub const TAINT_EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const MORE_THAN_ONE_HANDLER: &str = "may not specify more than 1 handler type";

/// Volume source fields in upstream's checking order (the JSON names).
const VOLUME_SOURCES: [&str; 30] = [
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// Checks that an optional string is one of `valid` (upstream's `NotSupported`).
pub(crate) fn check_enum(
    errs: &mut ErrorList,
    value: Option<&str>,
    valid: &[&str],
    path: &FieldPath,
) {
    if let Some(v) = value
        && !valid.contains(&v)
    {
        errs.push(FieldError::not_supported(path, v, valid));
    }
}

/// Upstream's `ValidatePortNumOrName`: a number in 1–65535 or an IANA service name.
pub fn validate_port_num_or_name(port: &IntOrString, path: &FieldPath) -> ErrorList {
    match port {
        IntOrString::Int(n) => is_valid_port_num(i64::from(*n))
            .into_iter()
            .map(|m| FieldError::invalid(path, *n, m))
            .collect(),
        IntOrString::String(s) => is_valid_port_name(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, s.as_str(), m))
            .collect(),
    }
}

/// Upstream's `ValidateVolumes`: unique DNS-1123 label names, at most one source per volume,
/// and the required fields of the common sources. Returns the errors and the volume names.
pub fn validate_volumes(volumes: &[Volume], path: &FieldPath) -> (ErrorList, BTreeSet<String>) {
    let mut errs = ErrorList::new();
    let mut names = BTreeSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let ip = path.index(i);
        let np = ip.child("name");
        if vol.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        } else {
            for m in is_dns1123_label(&vol.name) {
                errs.push(FieldError::invalid(&np, vol.name.as_str(), m));
            }
        }
        if names.contains(&vol.name) {
            errs.push(FieldError::duplicate(&np, vol.name.as_str()));
        } else if !vol.name.is_empty() {
            names.insert(vol.name.clone());
        }
        if let Ok(serde_json::Value::Object(obj)) = serde_json::to_value(vol) {
            let mut n = 0;
            for src in VOLUME_SOURCES {
                if obj.contains_key(src) {
                    if n > 0 {
                        errs.push(FieldError::forbidden(
                            &ip.child(src),
                            "may not specify more than 1 volume type",
                        ));
                    }
                    n += 1;
                }
            }
        }
        if let Some(hp) = &vol.host_path
            && hp.path.is_empty()
        {
            errs.push(FieldError::required(
                &ip.child("hostPath").child("path"),
                "",
            ));
        }
        if let Some(pvc) = &vol.persistent_volume_claim
            && pvc.claim_name.is_empty()
        {
            errs.push(FieldError::required(
                &ip.child("persistentVolumeClaim").child("claimName"),
                "",
            ));
        }
        if let Some(s) = &vol.secret {
            let name = s.secret_name.as_deref().unwrap_or("");
            let p = ip.child("secret").child("secretName");
            if name.is_empty() {
                errs.push(FieldError::required(&p, ""));
            } else {
                for m in is_dns1123_subdomain(name) {
                    errs.push(FieldError::invalid(&p, name, m));
                }
            }
        }
        if let Some(c) = &vol.config_map {
            let name = c.name.as_deref().unwrap_or("");
            let p = ip.child("configMap").child("name");
            if name.is_empty() {
                errs.push(FieldError::required(&p, ""));
            } else {
                for m in is_dns1123_subdomain(name) {
                    errs.push(FieldError::invalid(&p, name, m));
                }
            }
        }
    }
    (errs, names)
}

/// Upstream's `validateContainerPorts`: valid unique names, container port required and in
/// range, host port in range, protocol TCP/UDP/SCTP.
pub fn validate_container_ports(ports: &[ContainerPort], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ip = path.index(i);
        if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(FieldError::invalid(&ip.child("name"), name, m));
                }
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(&ip.child("name"), name));
            }
        }
        let cp = ip.child("containerPort");
        if port.container_port == 0 {
            errs.push(FieldError::required(&cp, ""));
        } else {
            for m in is_valid_port_num(i64::from(port.container_port)) {
                errs.push(FieldError::invalid(&cp, port.container_port, m));
            }
        }
        if let Some(hp) = port.host_port.filter(|p| *p != 0) {
            for m in is_valid_port_num(i64::from(hp)) {
                errs.push(FieldError::invalid(&ip.child("hostPort"), hp, m));
            }
        }
        match port.protocol.as_deref() {
            Some("") => errs.push(FieldError::required(&ip.child("protocol"), "")),
            p => check_enum(
                &mut errs,
                p,
                &SUPPORTED_PORT_PROTOCOLS,
                &ip.child("protocol"),
            ),
        }
    }
    errs
}

/// Upstream's `ValidateEnv`: names required and valid (relaxed rules, v1.33 default), and
/// `valueFrom` with exactly one source and no `value`.
pub fn validate_env(env: &[EnvVar], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ev) in env.iter().enumerate() {
        let ip = path.index(i);
        let np = ip.child("name");
        if ev.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        }
        for m in is_relaxed_env_var_name(&ev.name) {
            errs.push(FieldError::invalid(&np, ev.name.as_str(), m));
        }
        let Some(from) = &ev.value_from else {
            continue;
        };
        let vp = ip.child("valueFrom");
        let mut sources = 0;
        if let Some(f) = &from.field_ref {
            sources += 1;
            if f.field_path.is_empty() {
                errs.push(FieldError::required(
                    &vp.child("fieldRef").child("fieldPath"),
                    "",
                ));
            }
        }
        if let Some(r) = &from.resource_field_ref {
            sources += 1;
            if r.resource.is_empty() {
                errs.push(FieldError::required(
                    &vp.child("resourceFieldRef").child("resource"),
                    "",
                ));
            }
        }
        let mut key_ref = |field: &str, name: Option<&str>, key: &str| {
            let p = vp.child(field);
            if name.unwrap_or("").is_empty() {
                errs.push(FieldError::required(&p.child("name"), ""));
            }
            if key.is_empty() {
                errs.push(FieldError::required(&p.child("key"), ""));
            } else {
                for m in is_config_map_key(key) {
                    errs.push(FieldError::invalid(&p.child("key"), key, m));
                }
            }
        };
        if let Some(c) = &from.config_map_key_ref {
            sources += 1;
            key_ref("configMapKeyRef", c.name.as_deref(), &c.key);
        }
        if let Some(s) = &from.secret_key_ref {
            sources += 1;
            key_ref("secretKeyRef", s.name.as_deref(), &s.key);
        }
        if sources == 0 {
            errs.push(FieldError::invalid(
                &vp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !ev.value.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::invalid(
                &vp,
                "",
                "may not be specified when `value` is not empty",
            ));
        } else if sources > 1 {
            errs.push(FieldError::invalid(
                &vp,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

/// Upstream's `ValidateVolumeMounts`: name and mountPath required, the name refers to a
/// volume of the pod, mount paths unique.
pub fn validate_volume_mounts(
    mounts: &[VolumeMount],
    volumes: &BTreeSet<String>,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut mount_points: BTreeSet<&str> = BTreeSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let ip = path.index(i);
        if m.name.is_empty() {
            errs.push(FieldError::required(&ip.child("name"), ""));
        } else if !volumes.contains(&m.name) {
            errs.push(FieldError::not_found(&ip.child("name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(&ip.child("mountPath"), ""));
        }
        if !mount_points.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                &ip.child("mountPath"),
                m.mount_path.as_str(),
                "must be unique",
            ));
        }
        if let Some(sp) = m.sub_path.as_deref() {
            errs.extend(validate_local_descending_path(sp, &ip.child("subPath")));
        }
    }
    errs
}

/// Upstream's `validateLocalDescendingPath`: relative, and no `..` element.
pub fn validate_local_descending_path(p: &str, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if p.starts_with('/') {
        errs.push(FieldError::invalid(path, p, "must be a relative path"));
    }
    if p.split(['/', '\\']).any(|e| e == "..") {
        errs.push(FieldError::invalid(path, p, "must not contain '..'"));
    }
    errs
}

fn validate_http_get(h: &HTTPGetAction, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if h.path.as_deref() == Some("") {
        errs.push(FieldError::required(&path.child("path"), ""));
    }
    errs.extend(validate_port_num_or_name(&h.port, &path.child("port")));
    check_enum(
        &mut errs,
        h.scheme.as_deref(),
        &HTTP_SCHEMES,
        &path.child("scheme"),
    );
    for hdr in &h.http_headers {
        for m in is_http_header_name(&hdr.name) {
            errs.push(FieldError::invalid(
                &path.child("httpHeaders"),
                hdr.name.as_str(),
                m,
            ));
        }
    }
    errs
}

/// The handler kinds of a probe or lifecycle hook, as `(json name, errors of that handler)`;
/// upstream's `validateHandler` allows exactly one.
fn validate_handler(handlers: Vec<(&str, ErrorList)>, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if handlers.is_empty() {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    for (i, (name, handler_errs)) in handlers.into_iter().enumerate() {
        if i > 0 {
            errs.push(FieldError::forbidden(
                &path.child(name),
                MORE_THAN_ONE_HANDLER,
            ));
        } else {
            errs.extend(handler_errs);
        }
    }
    errs
}

fn exec_errors(command: &[String], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if command.is_empty() {
        errs.push(FieldError::required(&path.child("command"), ""));
    }
    errs
}

/// Upstream's `validateProbe`: exactly one handler (exec, httpGet, tcpSocket, grpc),
/// non-negative timings, `terminationGracePeriodSeconds > 0`.
pub fn validate_probe(probe: &Probe, path: &FieldPath) -> ErrorList {
    let mut handlers = Vec::new();
    if let Some(e) = &probe.exec {
        handlers.push(("exec", exec_errors(&e.command, &path.child("exec"))));
    }
    if let Some(h) = &probe.http_get {
        handlers.push(("httpGet", validate_http_get(h, &path.child("httpGet"))));
    }
    if let Some(t) = &probe.tcp_socket {
        let p = path.child("tcpSocket").child("port");
        handlers.push(("tcpSocket", validate_port_num_or_name(&t.port, &p)));
    }
    if let Some(g) = &probe.grpc {
        let p = path.child("grpc").child("port");
        let e = is_valid_port_num(i64::from(g.port))
            .into_iter()
            .map(|m| FieldError::invalid(&p, g.port, m))
            .collect();
        handlers.push(("grpc", e));
    }
    let mut errs = validate_handler(handlers, path);
    for (v, name) in [
        (probe.initial_delay_seconds, "initialDelaySeconds"),
        (probe.timeout_seconds, "timeoutSeconds"),
        (probe.period_seconds, "periodSeconds"),
        (probe.success_threshold, "successThreshold"),
        (probe.failure_threshold, "failureThreshold"),
    ] {
        if let Some(v) = v {
            errs.extend(validate_nonnegative_field(i64::from(v), &path.child(name)));
        }
    }
    if let Some(t) = probe.termination_grace_period_seconds.filter(|t| *t <= 0) {
        errs.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            t,
            "must be greater than 0",
        ));
    }
    errs
}

fn validate_lifecycle(c: &Container, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(lc) = &c.lifecycle else {
        return errs;
    };
    for (h, name) in [(&lc.post_start, "postStart"), (&lc.pre_stop, "preStop")] {
        let Some(h) = h else { continue };
        let hp = path.child(name);
        let mut handlers = Vec::new();
        if let Some(e) = &h.exec {
            handlers.push(("exec", exec_errors(&e.command, &hp.child("exec"))));
        }
        if let Some(g) = &h.http_get {
            handlers.push(("httpGet", validate_http_get(g, &hp.child("httpGet"))));
        }
        if let Some(t) = &h.tcp_socket {
            let p = hp.child("tcpSocket").child("port");
            handlers.push(("tcpSocket", validate_port_num_or_name(&t.port, &p)));
        }
        if let Some(s) = &h.sleep {
            let mut e = ErrorList::new();
            if s.seconds < 0 {
                e.push(FieldError::invalid(
                    &hp.child("sleep").child("seconds"),
                    s.seconds,
                    IS_NEGATIVE_ERROR_MSG,
                ));
            }
            handlers.push(("sleep", e));
        }
        errs.extend(validate_handler(handlers, &hp));
    }
    errs
}

/// Which list a container belongs to; init containers and regular containers differ in
/// restartPolicy and probe rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ContainerKind {
    Regular,
    Init,
}

fn validate_container(
    c: &Container,
    kind: ContainerKind,
    volumes: &BTreeSet<String>,
    host_network: bool,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let np = path.child("name");
    if c.name.is_empty() {
        errs.push(FieldError::required(&np, ""));
    } else {
        for m in is_dns1123_label(&c.name) {
            errs.push(FieldError::invalid(&np, c.name.as_str(), m));
        }
    }
    match c.image.as_deref() {
        None | Some("") => errs.push(FieldError::required(&path.child("image"), "")),
        Some(img) if img.trim() != img => errs.push(FieldError::invalid(
            &path.child("image"),
            img,
            "must not have leading or trailing whitespace",
        )),
        Some(_) => {}
    }
    check_enum(
        &mut errs,
        c.image_pull_policy.as_deref(),
        &PULL_POLICIES,
        &path.child("imagePullPolicy"),
    );
    check_enum(
        &mut errs,
        c.termination_message_policy.as_deref(),
        &TERMINATION_MESSAGE_POLICIES,
        &path.child("terminationMessagePolicy"),
    );
    let sidecar = match (kind, c.restart_policy.as_deref()) {
        (ContainerKind::Regular, Some(_)) => {
            errs.push(FieldError::forbidden(
                &path.child("restartPolicy"),
                "may not be set for non-init containers",
            ));
            false
        }
        (ContainerKind::Init, Some("Always")) => true,
        (ContainerKind::Init, Some(other)) => {
            errs.push(FieldError::not_supported(
                &path.child("restartPolicy"),
                other,
                &["Always"],
            ));
            false
        }
        (_, None) => false,
    };
    let ports_path = path.child("ports");
    errs.extend(validate_container_ports(&c.ports, &ports_path));
    if host_network {
        for (i, p) in c.ports.iter().enumerate() {
            if let Some(hp) = p.host_port.filter(|hp| *hp != 0 && *hp != p.container_port) {
                errs.push(FieldError::invalid(
                    &ports_path.index(i).child("hostPort"),
                    hp,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
    errs.extend(validate_env(&c.env, &path.child("env")));
    errs.extend(validate_volume_mounts(
        &c.volume_mounts,
        volumes,
        &path.child("volumeMounts"),
    ));
    if let Some(r) = &c.resources {
        errs.extend(validate_resource_requirements(r, &path.child("resources")));
    }
    let probes = [
        (&c.liveness_probe, "livenessProbe"),
        (&c.readiness_probe, "readinessProbe"),
        (&c.startup_probe, "startupProbe"),
    ];
    if kind == ContainerKind::Init && !sidecar {
        for (p, name) in probes {
            if p.is_some() {
                errs.push(FieldError::forbidden(
                    &path.child(name),
                    "may not be set for init containers without restartPolicy=Always",
                ));
            }
        }
        if c.lifecycle.is_some() {
            errs.push(FieldError::forbidden(
                &path.child("lifecycle"),
                "may not be set for init containers without restartPolicy=Always",
            ));
        }
    } else {
        for (p, name) in probes {
            let Some(p) = p else { continue };
            let pp = path.child(name);
            errs.extend(validate_probe(p, &pp));
            if name != "readinessProbe"
                && let Some(st) = p.success_threshold.filter(|s| *s != 1)
            {
                errs.push(FieldError::invalid(
                    &pp.child("successThreshold"),
                    st,
                    "must be 1",
                ));
            }
        }
        errs.extend(validate_lifecycle(c, &path.child("lifecycle")));
    }
    errs
}

/// Upstream's `validateTolerations`: key a qualified name, operator `Exists`/`Equal` (with an
/// empty value for `Exists`, and `Exists` when the key is empty), effect supported,
/// `tolerationSeconds` only with `NoExecute`.
pub fn validate_tolerations(tolerations: &[Toleration], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, t) in tolerations.iter().enumerate() {
        let ip = path.index(i);
        let key = t.key.as_deref().unwrap_or("");
        if !key.is_empty() {
            for m in is_qualified_name(key) {
                errs.push(FieldError::invalid(&ip.child("key"), key, m));
            }
        }
        let op = t.operator.as_deref().unwrap_or("");
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                &ip.child("operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.toleration_seconds.is_some() && t.effect.as_deref() != Some("NoExecute") {
            errs.push(FieldError::invalid(
                &ip.child("effect"),
                t.effect.as_deref().unwrap_or(""),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        let value = t.value.as_deref().unwrap_or("");
        match op {
            "" | "Equal" => {
                let msgs = super::names::is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        &ip.child("operator"),
                        value,
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        &ip.child("operator"),
                        serde_json::to_value(t).unwrap_or_default(),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                &ip.child("operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if let Some(e) = t.effect.as_deref().filter(|e| !e.is_empty()) {
            check_enum(&mut errs, Some(e), &TAINT_EFFECTS, &ip.child("effect"));
        }
    }
    errs
}

/// Upstream's `ValidatePodSpec` (the main rules): volumes, at least one container, container
/// names unique across containers and init containers, each container's image, ports, env,
/// mounts, resources, probes; `restartPolicy`, `dnsPolicy`, `activeDeadlineSeconds`,
/// `nodeSelector`, `serviceAccountName`, `nodeName`, `hostname`, `subdomain`,
/// `priorityClassName` and tolerations.
pub fn validate_pod_spec(spec: &PodSpec, path: &FieldPath) -> ErrorList {
    let (mut errs, volumes) = validate_volumes(&spec.volumes, &path.child("volumes"));
    let host_network = spec.host_network.unwrap_or(false);
    let cp = path.child("containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(&cp, ""));
    }
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let ip = cp.index(i);
        errs.extend(validate_container(
            c,
            ContainerKind::Regular,
            &volumes,
            host_network,
            &ip,
        ));
        if !c.name.is_empty() && !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(&ip.child("name"), c.name.as_str()));
        }
    }
    let icp = path.child("initContainers");
    for (i, c) in spec.init_containers.iter().enumerate() {
        let ip = icp.index(i);
        errs.extend(validate_container(
            c,
            ContainerKind::Init,
            &volumes,
            host_network,
            &ip,
        ));
        if !c.name.is_empty() && !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(&ip.child("name"), c.name.as_str()));
        }
    }
    match spec.restart_policy.as_deref() {
        Some("") => errs.push(FieldError::required(&path.child("restartPolicy"), "")),
        p => check_enum(
            &mut errs,
            p,
            &RESTART_POLICIES,
            &path.child("restartPolicy"),
        ),
    }
    match spec.dns_policy.as_deref() {
        Some("") => errs.push(FieldError::required(&path.child("dnsPolicy"), "")),
        Some("None") if spec.dns_config.is_none() => errs.push(FieldError::required(
            &path.child("dnsConfig"),
            "must provide `dnsConfig` when `dnsPolicy` is None",
        )),
        p => check_enum(&mut errs, p, &DNS_POLICIES, &path.child("dnsPolicy")),
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            ads,
            inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    if let Some(t) = spec.termination_grace_period_seconds {
        errs.extend(validate_nonnegative_field(
            t,
            &path.child("terminationGracePeriodSeconds"),
        ));
    }
    errs.extend(validate_labels(
        &spec.node_selector,
        &path.child("nodeSelector"),
    ));
    for (value, field, check) in [
        (
            &spec.service_account_name,
            "serviceAccountName",
            is_dns1123_subdomain as fn(&str) -> Vec<String>,
        ),
        (&spec.node_name, "nodeName", is_dns1123_subdomain),
        (&spec.hostname, "hostname", is_dns1123_label),
        (&spec.subdomain, "subdomain", is_dns1123_label),
        (
            &spec.priority_class_name,
            "priorityClassName",
            is_dns1123_subdomain,
        ),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            for m in check(v) {
                errs.push(FieldError::invalid(&path.child(field), v, m));
            }
        }
    }
    errs.extend(validate_tolerations(
        &spec.tolerations,
        &path.child("tolerations"),
    ));
    errs
}

/// Upstream's `ValidatePodTemplateSpec`: the template's labels and annotations, and its spec.
pub fn validate_pod_template_spec(t: &PodTemplateSpec, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(m) = &t.metadata {
        let mp = path.child("metadata");
        errs.extend(validate_labels(&m.labels, &mp.child("labels")));
        errs.extend(super::meta::validate_annotations(
            &m.annotations,
            &mp.child("annotations"),
        ));
    }
    let default_spec;
    let spec = match &t.spec {
        Some(s) => s,
        None => {
            default_spec = PodSpec::default();
            &default_spec
        }
    };
    errs.extend(validate_pod_spec(spec, &path.child("spec")));
    errs
}

/// The restart policy a pod template ends up with (upstream defaults it to `Always`).
pub fn effective_restart_policy(t: &PodTemplateSpec) -> &str {
    t.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

impl Validate for Pod {
    /// Metadata (DNS-1123 subdomain name, namespaced) and [`validate_pod_spec`] at `spec`.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let default_spec;
        let spec = match &self.spec {
            Some(s) => s,
            None => {
                default_spec = PodSpec::default();
                &default_spec
            }
        };
        errs.extend(validate_pod_spec(spec, &FieldPath::new("spec")));
        errs
    }
}

impl Validate for Binding {
    /// Metadata; upstream's `ValidatePodBinding`: target kind `Node` (when set), target name
    /// required.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_object_meta(
            &self.metadata,
            true,
            name_is_dns_subdomain,
            &FieldPath::new("metadata"),
        );
        let tp = FieldPath::new("target");
        if let Some(k) = self.target.kind.as_deref().filter(|k| !k.is_empty())
            && k != "Node"
        {
            errs.push(FieldError::not_supported(&tp.child("kind"), k, &["Node"]));
        }
        if self.target.name.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::required(&tp.child("name"), ""));
        }
        errs
    }
}
