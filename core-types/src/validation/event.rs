//! Core `Event` (`v1`) validation with upstream's messages (`legacyValidateEvent`): the
//! involved object's namespace agrees with the event's, and events with an `eventTime` carry
//! reporting component/instance, action and reason within their length limits.

use super::Validate;
use super::field::{ErrorList, FieldError, FieldPath};
use super::meta::validate_object_meta;
use super::names::{is_dns1123_subdomain, is_qualified_name, name_is_dns_subdomain};
use crate::api::core::v1::Event;

const REPORTING_INSTANCE_LENGTH_LIMIT: usize = 128;
const ACTION_LENGTH_LIMIT: usize = 128;
const REASON_LENGTH_LIMIT: usize = 128;
const NOTE_LENGTH_LIMIT: usize = 1024;

fn limit(errs: &mut ErrorList, value: &str, max: usize, field: &str) {
    if value.len() > max {
        errs.push(FieldError::invalid(
            &FieldPath::new(field),
            "",
            format!("can have at most {max} characters"),
        ));
    }
}

impl Validate for Event {
    /// See the module documentation.
    fn validate(&self) -> ErrorList {
        let mut errs = validate_object_meta(
            &self.metadata,
            true,
            name_is_dns_subdomain,
            &FieldPath::new("metadata"),
        );
        let ns = self.metadata.namespace.as_deref().unwrap_or("");
        let involved_ns = self.involved_object.namespace.as_deref().unwrap_or("");
        let ins_path = FieldPath::new("involvedObject").child("namespace");
        let mismatch =
            || FieldError::invalid(&ins_path, involved_ns, "does not match event.namespace");
        if self.event_time.is_none() {
            if involved_ns.is_empty() {
                if !ns.is_empty() && ns != "default" {
                    errs.push(mismatch());
                }
            } else if ns != involved_ns {
                errs.push(mismatch());
            }
        } else {
            if involved_ns.is_empty() && ns != "default" && ns != "kube-system" {
                errs.push(mismatch());
            }
            let rc = self.reporting_component.as_deref().unwrap_or("");
            let rcp = FieldPath::new("reportingComponent");
            if rc.is_empty() {
                errs.push(FieldError::required(&rcp, ""));
            }
            for m in is_qualified_name(rc) {
                errs.push(FieldError::invalid(&rcp, rc, m));
            }
            let ri = self.reporting_instance.as_deref().unwrap_or("");
            if ri.is_empty() {
                errs.push(FieldError::required(
                    &FieldPath::new("reportingInstance"),
                    "",
                ));
            }
            limit(
                &mut errs,
                ri,
                REPORTING_INSTANCE_LENGTH_LIMIT,
                "reportingInstance",
            );
            let action = self.action.as_deref().unwrap_or("");
            if action.is_empty() {
                errs.push(FieldError::required(&FieldPath::new("action"), ""));
            }
            limit(&mut errs, action, ACTION_LENGTH_LIMIT, "action");
            let reason = self.reason.as_deref().unwrap_or("");
            if reason.is_empty() {
                errs.push(FieldError::required(&FieldPath::new("reason"), ""));
            }
            limit(&mut errs, reason, REASON_LENGTH_LIMIT, "reason");
            limit(
                &mut errs,
                self.message.as_deref().unwrap_or(""),
                NOTE_LENGTH_LIMIT,
                "message",
            );
        }
        if !ns.is_empty() {
            for m in is_dns1123_subdomain(ns) {
                errs.push(FieldError::invalid(&FieldPath::new("namespace"), ns, m));
            }
        }
        if let Some(t) = self.type_.as_deref().filter(|t| !t.is_empty())
            && t != "Normal"
            && t != "Warning"
        {
            errs.push(FieldError::invalid(
                &FieldPath::new("type"),
                "",
                format!("has invalid value: {t}"),
            ));
        }
        errs
    }
}
