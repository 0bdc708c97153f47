//! Request attributes: who asks ([`UserInfo`]) and what for ([`Attributes`]), as upstream's
//! `authorizer.Attributes`, plus the service-account user-name conventions.

use std::collections::BTreeMap;

/// The prefix of every service-account user name: `system:serviceaccount:<namespace>:<name>`.
pub const SERVICE_ACCOUNT_USERNAME_PREFIX: &str = "system:serviceaccount:";
/// The group every service account is in.
pub const ALL_SERVICE_ACCOUNTS_GROUP: &str = "system:serviceaccounts";
/// The prefix of the per-namespace service-account group `system:serviceaccounts:<namespace>`.
pub const SERVICE_ACCOUNT_GROUP_PREFIX: &str = "system:serviceaccounts:";
/// The group of every authenticated user.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// The group of anonymous requests.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The privileged group (`system:masters`): bound to `cluster-admin` by the bootstrap policy and
/// exempt from escalation checks, as upstream.
pub const SYSTEM_PRIVILEGED_GROUP: &str = "system:masters";

/// An authenticated identity, as upstream's `user.Info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// The user name (`john`, `system:serviceaccount:dev:builder`).
    pub name: String,
    /// A unique id, when the authenticator gives one.
    pub uid: String,
    /// The groups the user is in.
    pub groups: Vec<String>,
    /// Extra authenticator-provided attributes.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with a name and groups.
    pub fn new<N: Into<String>, G: Into<String>>(
        name: N,
        groups: impl IntoIterator<Item = G>,
    ) -> Self {
        Self {
            name: name.into(),
            groups: groups.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// The identity a service account authenticates as: user
    /// `system:serviceaccount:<ns>:<name>` in groups `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self::new(
            service_account_username(namespace, name),
            [
                ALL_SERVICE_ACCOUNTS_GROUP.to_owned(),
                format!("{SERVICE_ACCOUNT_GROUP_PREFIX}{namespace}"),
                AUTHENTICATED_GROUP.to_owned(),
            ],
        )
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups
            .iter()
            .any(|g| crate::matching::str_eq(g, group))
    }
}

/// `system:serviceaccount:<namespace>:<name>`.
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_USERNAME_PREFIX}{namespace}:{name}")
}

/// Whether `username` is exactly `system:serviceaccount:<namespace>:<name>` (no allocation), as
/// upstream's `serviceaccount.MatchesUsername`.
pub fn service_account_matches(namespace: &str, name: &str, username: &str) -> bool {
    let Some(rest) = username.strip_prefix(SERVICE_ACCOUNT_USERNAME_PREFIX) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(namespace) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    crate::matching::str_eq(rest, name)
}

/// Splits a service-account user name into `(namespace, name)`; `None` for other users or a
/// malformed name (an empty part or a `:` in the name).
pub fn split_service_account_username(username: &str) -> Option<(&str, &str)> {
    let rest = username.strip_prefix(SERVICE_ACCOUNT_USERNAME_PREFIX)?;
    let (namespace, name) = rest.split_once(':')?;
    if namespace.is_empty() || name.is_empty() || name.contains(':') {
        return None;
    }
    Some((namespace, name))
}

/// What a request asks for, as upstream's `authorizer.AttributesRecord`. Borrowed, so building
/// one costs nothing; every field but `user` is a plain string (empty = not set).
///
/// A *resource* request (`resource_request == true`) uses `verb`, `api_group`, `api_version`,
/// `resource`, `subresource`, `namespace` and `name`; a *non-resource* request uses `verb` and
/// `path`.
#[derive(Clone, Copy, Debug)]
pub struct Attributes<'a> {
    /// Who asks.
    pub user: &'a UserInfo,
    /// The verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or any custom verb (`bind`, `escalate`, `impersonate`, `use`, …).
    pub verb: &'a str,
    /// Whether this is a resource request (else a non-resource URL request).
    pub resource_request: bool,
    /// The namespace (empty for cluster-scoped requests and cluster-wide lists).
    pub namespace: &'a str,
    /// The API group (`""` is the core group).
    pub api_group: &'a str,
    /// The API version (not used by RBAC).
    pub api_version: &'a str,
    /// The resource, lower-case plural (`pods`).
    pub resource: &'a str,
    /// The subresource (`status`, `scale`, `log`), empty when none.
    pub subresource: &'a str,
    /// The object name, empty for `list`/`watch`/`create`/`deletecollection` on a collection.
    pub name: &'a str,
    /// The URL path of a non-resource request (`/healthz`).
    pub path: &'a str,
}

impl<'a> Attributes<'a> {
    /// A resource request: `verb` on `resource` in `api_group`, cluster-wide, no name.
    pub fn resource(
        user: &'a UserInfo,
        verb: &'a str,
        api_group: &'a str,
        resource: &'a str,
    ) -> Self {
        Self {
            user,
            verb,
            resource_request: true,
            namespace: "",
            api_group,
            api_version: "",
            resource,
            subresource: "",
            name: "",
            path: "",
        }
    }

    /// A non-resource request: `verb` on URL `path`.
    pub fn non_resource(user: &'a UserInfo, verb: &'a str, path: &'a str) -> Self {
        Self {
            user,
            verb,
            resource_request: false,
            namespace: "",
            api_group: "",
            api_version: "",
            resource: "",
            subresource: "",
            name: "",
            path,
        }
    }

    /// The same request in `namespace`.
    #[must_use]
    pub fn in_namespace(mut self, namespace: &'a str) -> Self {
        self.namespace = namespace;
        self
    }

    /// The same request for the object `name`.
    #[must_use]
    pub fn named(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    /// The same request on `subresource`.
    #[must_use]
    pub fn with_subresource(mut self, subresource: &'a str) -> Self {
        self.subresource = subresource;
        self
    }

    /// The same request with `api_version` set (informational; RBAC ignores it).
    #[must_use]
    pub fn with_api_version(mut self, api_version: &'a str) -> Self {
        self.api_version = api_version;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_username_round_trips() {
        let cases = [
            ("dev", "builder", true),
            ("kube-system", "default", true),
            ("dev", "a:b", false),
        ];
        for (ns, name, splits) in cases {
            let user = service_account_username(ns, name);
            assert!(service_account_matches(ns, name, &user), "{user}");
            assert_eq!(
                split_service_account_username(&user).is_some(),
                splits,
                "{user}"
            );
        }
        assert!(!service_account_matches(
            "dev",
            "b",
            "system:serviceaccount:dev:builder"
        ));
        assert!(!service_account_matches(
            "de",
            "v:builder",
            "system:serviceaccount:dev:builder"
        ));
        assert!(!service_account_matches("dev", "builder", "john"));
    }
}
