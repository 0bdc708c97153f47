//! `CustomResourceDefinition` validation with upstream's messages: the name is
//! `<plural>.<group>`, the group a dotted DNS subdomain, the scope, the names, and versions
//! (unique DNS-1035 names, exactly one storage version).

use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_object_meta;
use super::names::{is_dns1035_label, is_dns1123_subdomain};
use crate::api::apiextensions::v1::{CustomResourceDefinition, CustomResourceDefinitionNames};

fn dns1035(value: &str, path: &FieldPath, prefix: &str, errs: &mut ErrorList) {
    let msgs = is_dns1035_label(&value.to_lowercase());
    if !msgs.is_empty() {
        errs.push(FieldError::invalid(
            path,
            value,
            format!("{prefix}{}", msgs.join(",")),
        ));
    }
}

/// Upstream's `ValidateCustomResourceDefinitionNames` plus the required names.
pub fn validate_crd_names(n: &CustomResourceDefinitionNames, path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    if n.plural.is_empty() {
        errs.push(FieldError::required(&path.child("plural"), ""));
    } else if !is_dns1035_label(&n.plural).is_empty() {
        dns1035(&n.plural, &path.child("plural"), "", &mut errs);
    }
    if let Some(s) = n.singular.as_deref().filter(|s| !s.is_empty())
        && !is_dns1035_label(s).is_empty()
    {
        errs.push(FieldError::invalid(
            &path.child("singular"),
            s,
            is_dns1035_label(s).join(","),
        ));
    }
    const MIXED: &str = "may have mixed case, but should otherwise match: ";
    if n.kind.is_empty() {
        errs.push(FieldError::required(&path.child("kind"), ""));
    } else {
        dns1035(&n.kind, &path.child("kind"), MIXED, &mut errs);
    }
    if let Some(lk) = n.list_kind.as_deref().filter(|l| !l.is_empty()) {
        dns1035(lk, &path.child("listKind"), MIXED, &mut errs);
        if lk == n.kind {
            errs.push(FieldError::invalid(
                &path.child("listKind"),
                lk,
                "kind and listKind may not be the same",
            ));
        }
    }
    for (i, s) in n.short_names.iter().enumerate() {
        let msgs = is_dns1035_label(s);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("shortNames").index(i),
                s.as_str(),
                msgs.join(","),
            ));
        }
    }
    for (i, c) in n.categories.iter().enumerate() {
        let msgs = is_dns1035_label(c);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &path.child("categories").index(i),
                c.as_str(),
                msgs.join(","),
            ));
        }
    }
    errs
}

impl Validate for CustomResourceDefinition {
    /// See the module documentation.
    fn validate(&self) -> ErrorList {
        let spec = &self.spec;
        let mut errs = validate_object_meta(
            &self.metadata,
            false,
            super::names::name_is_dns_subdomain,
            &FieldPath::new("metadata"),
        );
        let required = format!("{}.{}", spec.names.plural, spec.group);
        if let Some(name) = self.metadata.name.as_deref().filter(|n| !n.is_empty())
            && name != required
        {
            errs.push(FieldError::invalid(
                &FieldPath::new("metadata").child("name"),
                name,
                "must be spec.names.plural+\".\"+spec.group",
            ));
        }
        let sp = FieldPath::new("spec");
        let gp = sp.child("group");
        if spec.group.is_empty() {
            errs.push(FieldError::required(&gp, ""));
        } else {
            let msgs = is_dns1123_subdomain(&spec.group);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    &gp,
                    spec.group.as_str(),
                    msgs.join(","),
                ));
            } else if !spec.group.contains('.') {
                errs.push(FieldError::invalid(
                    &gp,
                    spec.group.as_str(),
                    "should be a domain with at least one dot",
                ));
            }
        }
        let scp = sp.child("scope");
        match spec.scope.as_str() {
            "" => errs.push(FieldError::required(&scp, "")),
            "Cluster" | "Namespaced" => {}
            other => errs.push(FieldError::not_supported(
                &scp,
                other,
                &["Cluster", "Namespaced"],
            )),
        }
        let vp = sp.child("versions");
        if spec.versions.is_empty() {
            errs.push(FieldError::required(
                &vp,
                "must have exactly one version marked as storage version",
            ));
        }
        let mut names = BTreeSet::new();
        let mut unique = true;
        let mut storage = 0;
        for (i, v) in spec.versions.iter().enumerate() {
            if v.storage {
                storage += 1;
            }
            if !names.insert(v.name.as_str()) {
                unique = false;
            }
            let msgs = is_dns1035_label(&v.name);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(
                    &vp.index(i).child("name"),
                    v.name.as_str(),
                    msgs.join(","),
                ));
            }
        }
        let versions = || {
            serde_json::Value::Array(
                spec.versions
                    .iter()
                    .map(|v| serde_json::Value::from(v.name.as_str()))
                    .collect(),
            )
        };
        if !unique {
            errs.push(FieldError::invalid(
                &vp,
                versions(),
                "must contain unique version names",
            ));
        }
        if !spec.versions.is_empty() && storage != 1 {
            errs.push(FieldError::invalid(
                &vp,
                versions(),
                "must have exactly one version marked as storage version",
            ));
        }
        errs.extend(validate_crd_names(&spec.names, &sp.child("names")));
        errs
    }
}
