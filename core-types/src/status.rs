//! `Status` errors with upstream's reasons, codes and messages (`k8s.io/apimachinery/pkg/api/errors`).
//!
//! The store, the API layer and controllers report failures as `meta/v1` `Status` objects, so a
//! client sees exactly what it would see from a Kubernetes API server:
//! `deployments.apps "web" not found`, reason `NotFound`, code 404.

use std::fmt;

use crate::api::meta::v1::{Status, StatusCause, StatusDetails};
use crate::resource::ApiResource;
use crate::validation::ErrorList;

/// Upstream's `metav1.StatusReason` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusReason {
    /// The reason is unknown (`""`).
    Unknown,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409: the object already exists.
    AlreadyExists,
    /// 409: a write raced with another (resourceVersion precondition failed).
    Conflict,
    /// 410: the requested revision is no longer available.
    Gone,
    /// 410: the watch or list revision has been compacted; relist.
    Expired,
    /// 422: validation failed; details carry the causes.
    Invalid,
    /// 504.
    Timeout,
    /// 429.
    TooManyRequests,
    /// 400.
    BadRequest,
    /// 405.
    MethodNotAllowed,
    /// 406.
    NotAcceptable,
    /// 413.
    RequestEntityTooLarge,
    /// 415.
    UnsupportedMediaType,
    /// 500.
    InternalError,
    /// 503.
    ServiceUnavailable,
}

impl StatusReason {
    /// The wire string (`NotFound`, `AlreadyExists`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::Unknown => "",
            StatusReason::Unauthorized => "Unauthorized",
            StatusReason::Forbidden => "Forbidden",
            StatusReason::NotFound => "NotFound",
            StatusReason::AlreadyExists => "AlreadyExists",
            StatusReason::Conflict => "Conflict",
            StatusReason::Gone => "Gone",
            StatusReason::Expired => "Expired",
            StatusReason::Invalid => "Invalid",
            StatusReason::Timeout => "Timeout",
            StatusReason::TooManyRequests => "TooManyRequests",
            StatusReason::BadRequest => "BadRequest",
            StatusReason::MethodNotAllowed => "MethodNotAllowed",
            StatusReason::NotAcceptable => "NotAcceptable",
            StatusReason::RequestEntityTooLarge => "RequestEntityTooLarge",
            StatusReason::UnsupportedMediaType => "UnsupportedMediaType",
            StatusReason::InternalError => "InternalError",
            StatusReason::ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The HTTP status code upstream pairs with the reason.
    pub fn code(self) -> i32 {
        match self {
            StatusReason::Unknown | StatusReason::InternalError => 500,
            StatusReason::Unauthorized => 401,
            StatusReason::Forbidden => 403,
            StatusReason::NotFound => 404,
            StatusReason::AlreadyExists | StatusReason::Conflict => 409,
            StatusReason::Gone | StatusReason::Expired => 410,
            StatusReason::Invalid => 422,
            StatusReason::Timeout => 504,
            StatusReason::TooManyRequests => 429,
            StatusReason::BadRequest => 400,
            StatusReason::MethodNotAllowed => 405,
            StatusReason::NotAcceptable => 406,
            StatusReason::RequestEntityTooLarge => 413,
            StatusReason::UnsupportedMediaType => 415,
            StatusReason::ServiceUnavailable => 503,
        }
    }

    /// Parses a wire string; unknown strings map to [`StatusReason::Unknown`].
    pub fn parse(s: &str) -> Self {
        use StatusReason::*;
        [
            Unauthorized,
            Forbidden,
            NotFound,
            AlreadyExists,
            Conflict,
            Gone,
            Expired,
            Invalid,
            Timeout,
            TooManyRequests,
            BadRequest,
            MethodNotAllowed,
            NotAcceptable,
            RequestEntityTooLarge,
            UnsupportedMediaType,
            InternalError,
            ServiceUnavailable,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .unwrap_or(Unknown)
    }
}

impl fmt::Display for StatusReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `resource.group` (or `resource` for the core group), as upstream's `GroupResource.String()`.
fn qualified_resource(r: &ApiResource) -> String {
    if r.gvk.group.is_empty() {
        r.plural.to_string()
    } else {
        format!("{}.{}", r.plural, r.gvk.group)
    }
}

/// `Kind.group` (or `Kind`), as upstream's `GroupKind.String()`.
fn qualified_kind(r: &ApiResource) -> String {
    if r.gvk.group.is_empty() {
        r.gvk.kind.to_string()
    } else {
        format!("{}.{}", r.gvk.kind, r.gvk.group)
    }
}

fn failure(reason: StatusReason, message: String, details: Option<StatusDetails>) -> Status {
    Status {
        api_version: Some("v1".into()),
        kind: Some("Status".into()),
        status: Some("Failure".into()),
        code: Some(reason.code()),
        reason: Some(reason.as_str().into()),
        message: Some(message),
        details,
        ..Status::default()
    }
}

fn details(r: &ApiResource, name: &str) -> StatusDetails {
    StatusDetails {
        name: (!name.is_empty()).then(|| name.to_owned()),
        group: Some(r.gvk.group.to_string()),
        kind: Some(r.plural.to_string()),
        ..StatusDetails::default()
    }
}

impl Status {
    /// `Success` status.
    pub fn success() -> Status {
        Status {
            api_version: Some("v1".into()),
            kind: Some("Status".into()),
            status: Some("Success".into()),
            ..Status::default()
        }
    }

    /// `pods "x" not found` (404 NotFound).
    pub fn not_found(r: &ApiResource, name: &str) -> Status {
        let msg = format!("{} {name:?} not found", qualified_resource(r));
        failure(StatusReason::NotFound, msg, Some(details(r, name)))
    }

    /// `pods "x" already exists` (409 AlreadyExists).
    pub fn already_exists(r: &ApiResource, name: &str) -> Status {
        let msg = format!("{} {name:?} already exists", qualified_resource(r));
        failure(StatusReason::AlreadyExists, msg, Some(details(r, name)))
    }

    /// `Operation cannot be fulfilled on pods "x": <why>` (409 Conflict).
    pub fn conflict(r: &ApiResource, name: &str, why: &str) -> Status {
        let msg = format!(
            "Operation cannot be fulfilled on {} {name:?}: {why}",
            qualified_resource(r)
        );
        failure(StatusReason::Conflict, msg, Some(details(r, name)))
    }

    /// `Deployment.apps "x" is invalid: <errors>` (422 Invalid) with one cause per field error.
    pub fn invalid(r: &ApiResource, name: &str, errors: &ErrorList) -> Status {
        let causes = errors
            .iter()
            .map(|e| StatusCause {
                reason: Some(e.error_type.reason().into()),
                message: Some(e.body()),
                field: Some(e.field.to_string()),
            })
            .collect();
        let msg = format!("{} {name:?} is invalid: {errors}", qualified_kind(r));
        let mut d = details(r, name);
        d.kind = Some(r.gvk.kind.to_string());
        d.causes = causes;
        failure(StatusReason::Invalid, msg, Some(d))
    }

    /// A compacted revision (410 Expired): the caller must relist.
    pub fn expired(message: impl Into<String>) -> Status {
        failure(StatusReason::Expired, message.into(), None)
    }

    /// `pods "x" is forbidden: <why>` (403 Forbidden).
    pub fn forbidden(r: &ApiResource, name: &str, why: &str) -> Status {
        let msg = if name.is_empty() {
            format!("{} is forbidden: {why}", qualified_resource(r))
        } else {
            format!("{} {name:?} is forbidden: {why}", qualified_resource(r))
        };
        failure(StatusReason::Forbidden, msg, Some(details(r, name)))
    }

    /// A 400 BadRequest with the given message.
    pub fn bad_request(message: impl Into<String>) -> Status {
        failure(StatusReason::BadRequest, message.into(), None)
    }

    /// `Internal error occurred: <why>` (500 InternalError).
    pub fn internal_error(why: &str) -> Status {
        failure(
            StatusReason::InternalError,
            format!("Internal error occurred: {why}"),
            None,
        )
    }

    /// The typed reason.
    pub fn status_reason(&self) -> StatusReason {
        StatusReason::parse(self.reason.as_deref().unwrap_or(""))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or("unknown error"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apps::v1::Deployment;
    use crate::api::core::v1::Pod;
    use crate::resource::{Resource, TypedResource};
    use crate::validation::{FieldError, FieldPath};

    #[test]
    fn messages_match_upstream() {
        let pods = Pod::api_resource(&());
        let deps = Deployment::api_resource(&());
        let cases: Vec<(Status, StatusReason, i32, &str)> = vec![
            (
                Status::not_found(&pods, "x"),
                StatusReason::NotFound,
                404,
                "pods \"x\" not found",
            ),
            (
                Status::not_found(&deps, "web"),
                StatusReason::NotFound,
                404,
                "deployments.apps \"web\" not found",
            ),
            (
                Status::already_exists(&pods, "x"),
                StatusReason::AlreadyExists,
                409,
                "pods \"x\" already exists",
            ),
            (
                Status::conflict(
                    &deps,
                    "web",
                    "the object has been modified; please apply your changes to the latest version and try again",
                ),
                StatusReason::Conflict,
                409,
                "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again",
            ),
            (
                Status::expired("too old resource version: 1 (5)"),
                StatusReason::Expired,
                410,
                "too old resource version: 1 (5)",
            ),
            (
                Status::forbidden(&pods, "", "nope"),
                StatusReason::Forbidden,
                403,
                "pods is forbidden: nope",
            ),
        ];
        for (status, reason, code, msg) in cases {
            assert_eq!(status.status_reason(), reason);
            assert_eq!(status.code, Some(code));
            assert_eq!(status.message.as_deref(), Some(msg));
            assert_eq!(status.status.as_deref(), Some("Failure"));
        }
    }

    #[test]
    fn invalid_carries_causes() {
        let deps = Deployment::api_resource(&());
        let mut errs = ErrorList::new();
        errs.push(FieldError::required(
            &FieldPath::new("spec").child("selector"),
            "",
        ));
        errs.push(FieldError::invalid(
            &FieldPath::new("spec").child("replicas"),
            -1,
            "must be greater than or equal to 0",
        ));
        let s = Status::invalid(&deps, "web", &errs);
        assert_eq!(
            s.message.as_deref(),
            Some(
                "Deployment.apps \"web\" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]"
            )
        );
        let d = s.details.unwrap();
        assert_eq!(d.causes.len(), 2);
        assert_eq!(d.causes[0].reason.as_deref(), Some("FieldValueRequired"));
        assert_eq!(d.causes[1].field.as_deref(), Some("spec.replicas"));
        assert_eq!(d.kind.as_deref(), Some("Deployment"));
        assert_eq!(Deployment::KIND, "Deployment");
    }
}
