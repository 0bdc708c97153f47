//! `Node` validation with upstream's messages: name, pod CIDRs, and taints (key, value,
//! effect, unique by key and effect).

use std::collections::BTreeSet;

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::{validate_label_name, validate_resource_meta};
use super::names::{is_valid_label_value, name_is_dns_subdomain};
use super::network::{parse_ip_sloppy, validate_cidr};
use super::pod::TAINT_EFFECTS;
use crate::api::core::v1::{Node, Taint};

/// Upstream's `validateNodeTaints`: key a qualified name, value a label value, effect
/// required and supported, and no two taints with the same key and effect.
pub fn validate_taints(taints: &[Taint], path: &FieldPath) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, t) in taints.iter().enumerate() {
        let ip = path.index(i);
        errs.extend(validate_label_name(&t.key, &ip.child("key")));
        let value = t.value.as_deref().unwrap_or("");
        let msgs = is_valid_label_value(value);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &ip.child("value"),
                value,
                msgs.join(";"),
            ));
        }
        let ep = ip.child("effect");
        if t.effect.is_empty() {
            errs.push(FieldError::required(&ep, ""));
        } else if !TAINT_EFFECTS.contains(&t.effect.as_str()) {
            errs.push(FieldError::not_supported(
                &ep,
                t.effect.as_str(),
                &TAINT_EFFECTS,
            ));
        }
        if !seen.insert((t.key.as_str(), t.effect.as_str())) {
            let mut e = FieldError::duplicate(&ip, serde_json::to_value(t).unwrap_or_default());
            e.detail = "taints must be unique by key and effect pair".to_owned();
            errs.push(e);
        }
    }
    errs
}

impl Validate for Node {
    /// Metadata (DNS-1123 subdomain, cluster-scoped); `spec.podCIDRs` valid CIDRs, at most one
    /// per IP family, `podCIDR` equal to the first; taints.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_resource_meta(self, name_is_dns_subdomain);
        let Some(spec) = &self.spec else {
            return errs;
        };
        let sp = FieldPath::new("spec");
        let cp = sp.child("podCIDRs");
        for (i, c) in spec.pod_cidrs.iter().enumerate() {
            errs.extend(validate_cidr(c, &cp.index(i)));
        }
        if spec.pod_cidrs.len() > 2 {
            errs.push(FieldError::invalid(
                &cp,
                spec.pod_cidrs.clone(),
                "may specify no more than one CIDR for each IP family",
            ));
        } else if spec.pod_cidrs.len() == 2 {
            let family = |c: &str| {
                c.split_once('/')
                    .and_then(|(ip, _)| parse_ip_sloppy(ip))
                    .map(|ip| ip.is_ipv4())
            };
            let (a, b) = (family(&spec.pod_cidrs[0]), family(&spec.pod_cidrs[1]));
            if a.is_some() && a == b {
                errs.push(FieldError::invalid(
                    &cp,
                    spec.pod_cidrs.clone(),
                    "may specify no more than one CIDR for each IP family",
                ));
            }
        }
        if let (Some(c), Some(first)) = (spec.pod_cidr.as_deref(), spec.pod_cidrs.first())
            && !c.is_empty()
            && c != first
        {
            errs.push(FieldError::invalid(
                &sp.child("podCIDR"),
                c,
                "must match the first value of `podCIDRs`",
            ));
        }
        errs.extend(validate_taints(&spec.taints, &sp.child("taints")));
        errs
    }
}
