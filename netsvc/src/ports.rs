//! Service `targetPort` resolution against a pod's container ports (upstream `podutil.FindPort`).

use kybern_core::IntOrString;
use kybern_core::api::core::v1::{Pod, ServicePort};

/// The protocol a port has when none is written (upstream defaults `protocol` to `TCP`).
pub const DEFAULT_PROTOCOL: &str = "TCP";

/// Why a Service port could not be resolved to a container port of a pod.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A named `targetPort` that no container port carries with the Service port's protocol.
    #[error(
        "no suitable port for manifest: {uid} (no container port named {name:?} with protocol {protocol})"
    )]
    NoSuitablePort {
        /// The pod's uid (upstream's message names the pod by uid).
        uid: String,
        /// The named target port looked for.
        name: String,
        /// The protocol it had to match.
        protocol: String,
    },
}

/// The protocol of a Service port, `TCP` when unset.
pub fn service_port_protocol(port: &ServicePort) -> &str {
    port.protocol.as_deref().unwrap_or(DEFAULT_PROTOCOL)
}

/// The target port of a Service port: `targetPort`, or the Service `port` when unset (the
/// upstream default).
pub fn target_port(port: &ServicePort) -> IntOrString {
    port.target_port
        .clone()
        .unwrap_or(IntOrString::Int(port.port))
}

/// Resolves `service_port`'s target port on `pod`, as upstream `podutil.FindPort`.
///
/// An integer target port is returned as is (the pod need not declare it). A named one must
/// match a container port's `name` AND `protocol` (unset protocols are `TCP`), searched in the
/// regular containers and then in restartable init containers (sidecars, `restartPolicy:
/// Always`), first match wins.
///
/// # Errors
/// [`PortError::NoSuitablePort`] when a named port matches no container port.
pub fn find_port(pod: &Pod, service_port: &ServicePort) -> Result<i32, PortError> {
    let protocol = service_port_protocol(service_port);
    match target_port(service_port) {
        IntOrString::Int(port) => Ok(port),
        IntOrString::String(name) => {
            if let Some(spec) = &pod.spec {
                let sidecars = spec
                    .init_containers
                    .iter()
                    .filter(|c| c.restart_policy.as_deref() == Some("Always"));
                for container in spec.containers.iter().chain(sidecars) {
                    for port in &container.ports {
                        if port.name.as_deref() == Some(name.as_str())
                            && port.protocol.as_deref().unwrap_or(DEFAULT_PROTOCOL) == protocol
                        {
                            return Ok(port.container_port);
                        }
                    }
                }
            }
            Err(PortError::NoSuitablePort {
                uid: pod.metadata.uid.clone().unwrap_or_default(),
                name,
                protocol: protocol.to_owned(),
            })
        }
    }
}
