//! How a list or a watch reads, decided once for every backend: its selection, and for a list
//! its continue token and the revision it reads at, for a watch the revision it starts after,
//! validated with the API server's rules and messages.

use super::continue_token::ContinueToken;
use super::selection::Selection;
use kybern_core::ApiResource;

use super::{ListOptions, ResourceVersionMatch, StoreError, WatchOptions};

/// The message of an exact-revision list below the retained history.
pub(crate) const LIST_TOO_OLD: &str = "The resourceVersion for the provided list is too old.";

/// A revision from a `resourceVersion` parameter; `what` names the request in the error.
pub(crate) fn parse_revision(rv: &str, what: &str) -> Result<u64, StoreError> {
    rv.parse::<u64>().map_err(|_| {
        StoreError::bad_request(format!(
            "{what}: invalid resourceVersion {rv:?}: expected a decimal revision"
        ))
    })
}

/// The revision a list reads at.
#[derive(Debug)]
pub(crate) enum ReadAt {
    /// The latest state (no `resourceVersion`, or `"0"`).
    Latest,
    /// The latest state, which must not be older than this revision
    /// (`resourceVersion` with `NotOlderThan` or no match).
    NotOlderThan(u64),
    /// Exactly this revision (`resourceVersionMatch=Exact`).
    Exact(u64),
    /// The revision of the first page, resuming after the token's key.
    Continue(ContinueToken),
}

/// A validated list request.
#[derive(Debug)]
pub(crate) struct ListRead {
    /// Namespace and selectors.
    pub selection: Selection,
    /// The revision to read at.
    pub at: ReadAt,
    /// The page size (`None`: everything).
    pub limit: Option<usize>,
}

impl ListRead {
    /// Parses and validates `options` for `resource` as the API server does.
    pub(crate) fn parse(resource: &ApiResource, options: &ListOptions) -> Result<Self, StoreError> {
        let selection = Selection::parse(
            resource,
            options.namespace.as_deref(),
            options.label_selector.as_deref(),
            options.field_selector.as_deref(),
        )?;
        let rv = options
            .resource_version
            .as_deref()
            .filter(|s| !s.is_empty());
        let token = options
            .continue_token
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|t| ContinueToken::decode(t, resource.is_namespaced()))
            .transpose()?;
        let at = match (token, rv, options.resource_version_match) {
            (Some(_), _, Some(_)) => {
                return Err(StoreError::bad_request(
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            (Some(_), Some(r), None) if r != "0" => {
                return Err(StoreError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            (Some(t), _, None) => ReadAt::Continue(t),
            (None, None, Some(_)) => {
                return Err(StoreError::bad_request(
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            (None, None, None) => ReadAt::Latest,
            (None, Some("0"), Some(ResourceVersionMatch::Exact)) => {
                return Err(StoreError::bad_request(
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            (None, Some("0"), _) => ReadAt::Latest,
            (None, Some(r), Some(ResourceVersionMatch::Exact)) => {
                ReadAt::Exact(parse_revision(r, "list")?)
            }
            (None, Some(r), _) => ReadAt::NotOlderThan(parse_revision(r, "list")?),
        };
        let limit = options.limit.filter(|l| *l > 0).map(|l| l as usize);
        Ok(ListRead {
            selection,
            at,
            limit,
        })
    }
}

/// A validated watch request.
#[derive(Debug)]
pub(crate) struct WatchRead {
    /// Namespace and selectors.
    pub selection: Selection,
    /// The revision to send changes after (`None`: from now, after the initial state).
    pub from: Option<u64>,
}

impl WatchRead {
    /// Parses `options` for `resource`: an empty or `"0"` resourceVersion means "from now".
    pub(crate) fn parse(
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<Self, StoreError> {
        let selection = Selection::parse(
            resource,
            options.namespace.as_deref(),
            options.label_selector.as_deref(),
            options.field_selector.as_deref(),
        )?;
        let from = options
            .resource_version
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "0")
            .map(|r| parse_revision(r, "watch"))
            .transpose()?;
        Ok(WatchRead { selection, from })
    }
}
