//! `StoreError`: every way a store operation fails, each variant mapping onto one upstream
//! `meta/v1` `Status` (reason, code, message) through [`StoreError::to_status`].

use kybern_core::ApiResource;
use kybern_core::api::meta::v1::{Status, StatusCause, StatusDetails};
use kybern_core::validation::ErrorList;

/// Upstream's conflict message when a `resourceVersion` precondition fails on update.
pub const CONFLICT_MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// Upstream's 410 message for a paginated list whose revision was compacted.
pub const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A store operation failed. Convert to the wire form with [`StoreError::to_status`].
///
/// Messages are upstream's (`pods "x" not found`, `Operation cannot be fulfilled on …`), so a
/// client sees exactly what a Kubernetes API server would say.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The object does not exist (404 NotFound).
    #[error("{}", Status::not_found(resource, name))]
    NotFound {
        /// The kind looked up.
        resource: Box<ApiResource>,
        /// The object's name.
        name: String,
    },
    /// An object with that name already exists (409 AlreadyExists).
    #[error("{}", Status::already_exists(resource, name))]
    AlreadyExists {
        /// The kind.
        resource: Box<ApiResource>,
        /// The object's name.
        name: String,
    },
    /// A precondition (resourceVersion, uid) failed or the write raced another (409 Conflict).
    #[error("{}", Status::conflict(resource, name, message))]
    Conflict {
        /// The kind.
        resource: Box<ApiResource>,
        /// The object's name.
        name: String,
        /// Why, e.g. [`CONFLICT_MODIFIED`].
        message: String,
    },
    /// The object failed validation (422 Invalid), one cause per field error.
    #[error("{}", Status::invalid(resource, name, errors))]
    Invalid {
        /// The kind.
        resource: Box<ApiResource>,
        /// The object's name.
        name: String,
        /// The field errors, with upstream wording.
        errors: ErrorList,
    },
    /// A patch could not be applied to the object (422, reason Invalid), as upstream reports a
    /// failing JSON patch operation.
    #[error("{message}")]
    PatchFailed {
        /// What the patch engine said.
        message: String,
    },
    /// The requested revision was compacted away (410 Expired): relist.
    #[error("{message}")]
    Expired {
        /// Upstream's message, e.g. `too old resource version: 3 (7)`.
        message: String,
    },
    /// The request itself is malformed (400 BadRequest).
    #[error("{message}")]
    BadRequest {
        /// What was wrong.
        message: String,
    },
    /// The operation is not allowed on this object (403 Forbidden).
    #[error("{}", Status::forbidden(resource, name, message))]
    Forbidden {
        /// The kind.
        resource: Box<ApiResource>,
        /// The object's name (may be empty).
        name: String,
        /// Why.
        message: String,
    },
    /// A read asked for a revision newer than the store has (504, reason Timeout, as
    /// upstream's `Too large resource version`).
    #[error("Too large resource version: {requested}, current: {current}")]
    TooLargeResourceVersion {
        /// The revision asked for.
        requested: u64,
        /// The store's current revision.
        current: u64,
    },
    /// A stored object could not be converted to or from the caller's type (500).
    #[error("Internal error occurred: {kind}: {message}")]
    Serialization {
        /// The kind being converted.
        kind: String,
        /// The serde error, naming the field.
        message: String,
    },
    /// Anything else (500 InternalError).
    #[error("Internal error occurred: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

impl StoreError {
    /// The upstream `Status` for this error: reason, code, message and details.
    pub fn to_status(&self) -> Status {
        match self {
            StoreError::NotFound { resource, name } => Status::not_found(resource, name),
            StoreError::AlreadyExists { resource, name } => Status::already_exists(resource, name),
            StoreError::Conflict {
                resource,
                name,
                message,
            } => Status::conflict(resource, name, message),
            StoreError::Invalid {
                resource,
                name,
                errors,
            } => Status::invalid(resource, name, errors),
            StoreError::PatchFailed { message } => Status {
                code: Some(422),
                reason: Some("Invalid".into()),
                ..Status::bad_request(message.clone())
            },
            StoreError::Expired { message } => Status::expired(message.clone()),
            StoreError::BadRequest { message } => Status::bad_request(message.clone()),
            StoreError::Forbidden {
                resource,
                name,
                message,
            } => Status::forbidden(resource, name, message),
            StoreError::TooLargeResourceVersion { .. } => Status {
                code: Some(504),
                reason: Some("Timeout".into()),
                details: Some(StatusDetails {
                    causes: vec![StatusCause {
                        reason: Some("ResourceVersionTooLarge".into()),
                        message: Some("Too large resource version".into()),
                        field: None,
                    }],
                    retry_after_seconds: Some(1),
                    ..StatusDetails::default()
                }),
                ..Status::bad_request(self.to_string())
            },
            StoreError::Serialization { .. } | StoreError::Internal { .. } => {
                let text = self.to_string();
                let why = text
                    .strip_prefix("Internal error occurred: ")
                    .unwrap_or(&text);
                Status::internal_error(why)
            }
        }
    }

    /// Whether this is a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Whether this is a 409 Conflict (not AlreadyExists).
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Whether this is a 410 Expired: the caller must relist.
    pub fn is_expired(&self) -> bool {
        matches!(self, StoreError::Expired { .. })
    }

    /// A NotFound for this kind and name.
    pub fn not_found(resource: &ApiResource, name: &str) -> Self {
        StoreError::NotFound {
            resource: Box::new(resource.clone()),
            name: name.to_owned(),
        }
    }

    /// A Conflict with the given reason.
    pub fn conflict(resource: &ApiResource, name: &str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            resource: Box::new(resource.clone()),
            name: name.to_owned(),
            message: message.into(),
        }
    }

    /// An Invalid with the given field errors.
    pub fn invalid(resource: &ApiResource, name: &str, errors: ErrorList) -> Self {
        StoreError::Invalid {
            resource: Box::new(resource.clone()),
            name: name.to_owned(),
            errors,
        }
    }

    /// A BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        StoreError::BadRequest {
            message: message.into(),
        }
    }

    /// `too old resource version: {requested} ({compacted})`, upstream's watch-cache wording.
    pub fn too_old(requested: u64, compacted: u64) -> Self {
        StoreError::Expired {
            message: format!("too old resource version: {requested} ({compacted})"),
        }
    }
}
