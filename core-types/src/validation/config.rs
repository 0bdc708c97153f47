//! Configuration kinds with upstream's messages: `ConfigMap`, `Secret` (keys, 1 MiB size,
//! type-specific required keys) and `ServiceAccount`.

use std::collections::BTreeMap;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_resource_meta;
use super::names::{is_config_map_key, is_dns1123_subdomain, name_is_dns_subdomain};
use crate::api::core::v1::{ConfigMap, Secret, ServiceAccount};

/// Upstream's `MaxSecretSize`: the total data of a Secret or ConfigMap may not exceed 1 MiB.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

fn key_errors(key: &str, path: &FieldPath) -> ErrorList {
    is_config_map_key(key)
        .into_iter()
        .map(|m| FieldError::invalid(path, key, m))
        .collect()
}

impl Validate for ConfigMap {
    /// Metadata; `data`/`binaryData` keys are config keys, no key in both, total size ≤ 1 MiB.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let dp = FieldPath::new("data");
        let bp = FieldPath::new("binaryData");
        let mut total = 0usize;
        for (k, v) in &self.data {
            errs.extend(key_errors(k, &dp.key(k)));
            if self.binary_data.contains_key(k) {
                errs.push(FieldError::invalid(
                    &dp.key(k),
                    k.as_str(),
                    "duplicate of key present in binaryData",
                ));
            }
            total += v.len();
        }
        for (k, v) in &self.binary_data {
            errs.extend(key_errors(k, &bp.key(k)));
            total += v.0.len();
        }
        if total > MAX_SECRET_SIZE {
            errs.push(FieldError::too_long(&FieldPath::root(), MAX_SECRET_SIZE));
        }
        errs
    }
}

/// The data a Secret ends up with: `data` overlaid with `stringData` (as the API server merges
/// them before validating), as key → byte length.
fn merged_secret_data(s: &Secret) -> BTreeMap<&str, &[u8]> {
    let mut m: BTreeMap<&str, &[u8]> = s
        .data
        .iter()
        .map(|(k, v)| (k.as_str(), v.0.as_slice()))
        .collect();
    for (k, v) in &s.string_data {
        m.insert(k.as_str(), v.as_bytes());
    }
    m
}

impl Validate for Secret {
    /// Metadata; keys (of `data` and `stringData`) are config keys, total size ≤ 1 MiB, and the
    /// keys each type requires: `kubernetes.io/service-account-token` (the
    /// `kubernetes.io/service-account.name` annotation), `kubernetes.io/dockercfg`
    /// (`.dockercfg`, JSON), `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`, JSON),
    /// `kubernetes.io/basic-auth` (`username` or `password`), `kubernetes.io/ssh-auth`
    /// (`ssh-privatekey`), `kubernetes.io/tls` (`tls.crt` and `tls.key`).
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let dp = FieldPath::new("data");
        let data = merged_secret_data(self);
        let mut total = 0usize;
        for (k, v) in &data {
            errs.extend(key_errors(k, &dp.key(k)));
            total += v.len();
        }
        if total > MAX_SECRET_SIZE {
            errs.push(FieldError::too_long(&dp, MAX_SECRET_SIZE));
        }
        let require = |errs: &mut ErrorList, key: &str| {
            errs.push(FieldError::required(&dp.key(key), ""));
        };
        let json_key = |errs: &mut ErrorList, key: &str| match data.get(key) {
            None => require(errs, key),
            Some(bytes) => {
                if let Err(e) =
                    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
                {
                    errs.push(FieldError::invalid(
                        &dp.key(key),
                        "<secret contents redacted>",
                        e.to_string(),
                    ));
                }
            }
        };
        match self.type_.as_deref().unwrap_or("") {
            "kubernetes.io/service-account-token" => {
                let key = "kubernetes.io/service-account.name";
                if self
                    .metadata
                    .annotations
                    .get(key)
                    .is_none_or(|v| v.is_empty())
                {
                    errs.push(FieldError::required(
                        &FieldPath::new("metadata").child("annotations").key(key),
                        "",
                    ));
                }
            }
            "kubernetes.io/dockercfg" => json_key(&mut errs, ".dockercfg"),
            "kubernetes.io/dockerconfigjson" => json_key(&mut errs, ".dockerconfigjson"),
            "kubernetes.io/basic-auth"
                if !data.contains_key("username") && !data.contains_key("password") =>
            {
                require(&mut errs, "username");
                require(&mut errs, "password");
            }
            "kubernetes.io/ssh-auth" if data.get("ssh-privatekey").is_none_or(|v| v.is_empty()) => {
                require(&mut errs, "ssh-privatekey");
            }
            "kubernetes.io/tls" => {
                for key in ["tls.crt", "tls.key"] {
                    if !data.contains_key(key) {
                        require(&mut errs, key);
                    }
                }
            }
            _ => {}
        }
        errs
    }
}

impl Validate for ServiceAccount {
    /// Metadata; referenced secrets and image pull secrets name valid Secrets.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        for (i, s) in self.secrets.iter().enumerate() {
            if let Some(n) = s.name.as_deref().filter(|n| !n.is_empty()) {
                let p = FieldPath::new("secrets").index(i).child("name");
                for m in is_dns1123_subdomain(n) {
                    errs.push(FieldError::invalid(&p, n, m));
                }
            }
        }
        for (i, s) in self.image_pull_secrets.iter().enumerate() {
            if let Some(n) = s.name.as_deref().filter(|n| !n.is_empty()) {
                let p = FieldPath::new("imagePullSecrets").index(i).child("name");
                for m in is_dns1123_subdomain(n) {
                    errs.push(FieldError::invalid(&p, n, m));
                }
            }
        }
        errs
    }
}
