//! [`Policy`]: a set of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, loaded from
//! manifests with `kybern_core::load`.

use kybern_core::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kybern_core::load::{LoadError, LoadOptions, load_str};

use crate::aggregation::apply_aggregation;
use crate::rbac::{RbacAuthorizer, RbacObject};

/// A manifest that is not an RBAC policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The YAML/JSON could not be read or an object did not decode (located).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A document of another kind.
    #[error(
        "{source_name}: document {document}: expected an rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding or ClusterRoleBinding, found {api_version:?} {kind:?}"
    )]
    NotRbac {
        /// The source name given to the loader.
        source_name: String,
        /// 1-based document number.
        document: usize,
        /// Its apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
    },
}

/// Roles, cluster roles and bindings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// Namespaced roles.
    pub roles: Vec<Role>,
    /// Cluster roles.
    pub cluster_roles: Vec<ClusterRole>,
    /// Namespaced bindings.
    pub role_bindings: Vec<RoleBinding>,
    /// Cluster bindings.
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

impl Policy {
    /// Reads every RBAC object in a YAML or JSON stream (`kind: List` documents expanded).
    ///
    /// # Errors
    /// [`PolicyError::Load`] for unreadable input or an object that does not decode;
    /// [`PolicyError::NotRbac`] for any other kind.
    pub fn from_yaml(source_name: &str, text: &str) -> Result<Self, PolicyError> {
        let mut policy = Self::default();
        for doc in load_str(source_name, text, &LoadOptions::default())? {
            let field = |name: &str| {
                doc.value
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let (api_version, kind) = (field("apiVersion"), field("kind"));
            if api_version != "rbac.authorization.k8s.io/v1" {
                return Err(PolicyError::NotRbac {
                    source_name: source_name.to_owned(),
                    document: doc.origin.document + 1,
                    api_version,
                    kind,
                });
            }
            match kind.as_str() {
                "Role" => policy.roles.push(doc.decode()?),
                "ClusterRole" => policy.cluster_roles.push(doc.decode()?),
                "RoleBinding" => policy.role_bindings.push(doc.decode()?),
                "ClusterRoleBinding" => policy.cluster_role_bindings.push(doc.decode()?),
                _ => {
                    return Err(PolicyError::NotRbac {
                        source_name: source_name.to_owned(),
                        document: doc.origin.document + 1,
                        api_version,
                        kind,
                    });
                }
            }
        }
        Ok(policy)
    }

    /// Adds one object.
    pub fn push(&mut self, object: RbacObject) {
        match object {
            RbacObject::Role(r) => self.roles.push(r),
            RbacObject::ClusterRole(r) => self.cluster_roles.push(r),
            RbacObject::RoleBinding(b) => self.role_bindings.push(b),
            RbacObject::ClusterRoleBinding(b) => self.cluster_role_bindings.push(b),
        }
    }

    /// Adds every object of `other`.
    pub fn extend(&mut self, other: Policy) {
        self.roles.extend(other.roles);
        self.cluster_roles.extend(other.cluster_roles);
        self.role_bindings.extend(other.role_bindings);
        self.cluster_role_bindings
            .extend(other.cluster_role_bindings);
    }

    /// Fills every aggregated ClusterRole's rules (see [`aggregate`](crate::aggregate)).
    pub fn aggregate(&mut self) {
        apply_aggregation(&mut self.cluster_roles);
    }

    /// A ClusterRole by name.
    pub fn cluster_role(&self, name: &str) -> Option<&ClusterRole> {
        self.cluster_roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
    }

    /// An indexed authorizer over this policy.
    pub fn authorizer(&self) -> RbacAuthorizer {
        RbacAuthorizer::new(
            &self.roles,
            &self.cluster_roles,
            &self.role_bindings,
            &self.cluster_role_bindings,
        )
    }
}
