//! How a list or a watch reads, decided once for every backend: its selection, and for a list
//! its continue token and the revision it reads at, for a watch the revision it starts after,
//! validated with the API server's rules and messages.

use super::continue_token::ContinueToken;
use super::selection::Selection;
use kybern_core::validation::{ErrorList, FieldError, FieldPath};
use kybern_core::{ApiResource, GroupVersionKind, Scope};

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

/// A read at `revision` that must not be older than `want` (`NotOlderThan`): upstream's
/// 504 `Too large resource version` when the store is not there yet.
pub(crate) fn check_not_older_than(want: Option<u64>, revision: u64) -> Result<(), StoreError> {
    match want {
        Some(requested) if requested > revision => Err(StoreError::TooLargeResourceVersion {
            requested,
            current: revision,
        }),
        _ => Ok(()),
    }
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
        // Upstream's ValidateListOptions: every broken rule is one cause of a 422 Invalid.
        if let Some(m) = options.resource_version_match {
            let mut errs = ErrorList::new();
            if rv.is_none() {
                errs.push(FieldError::forbidden(
                    &match_path(),
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if token.is_some() {
                errs.push(FieldError::forbidden(
                    &match_path(),
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if m == ResourceVersionMatch::Exact && rv == Some("0") {
                errs.push(FieldError::forbidden(
                    &match_path(),
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
            if !errs.is_empty() {
                return Err(invalid_options(errs));
            }
        }
        let at = match (token, rv, options.resource_version_match) {
            (Some(_), Some(r), _) if r != "0" => {
                return Err(StoreError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            (Some(t), _, _) => ReadAt::Continue(t),
            (None, None | Some("0"), _) => ReadAt::Latest,
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

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchStart {
    /// A synthetic ADDED event per object of the latest state (which must be at least
    /// `not_older_than`), then — with `end_bookmark` — a BOOKMARK marked initial-events-end at
    /// that state's revision, then every change after it.
    Initial {
        /// The state must be at least this new (`TooLargeResourceVersion` when the store is
        /// not there yet).
        not_older_than: Option<u64>,
        /// Send the initial-events-end bookmark (`sendInitialEvents` with bookmarks).
        end_bookmark: bool,
    },
    /// Every change after this revision, no initial events.
    After(u64),
    /// Every change after the latest revision, no initial events.
    Now,
}

/// A validated watch request.
#[derive(Debug)]
pub(crate) struct WatchRead {
    /// Namespace and selectors.
    pub selection: Selection,
    /// Where the watch starts.
    pub start: WatchStart,
}

impl WatchRead {
    /// Parses `options` for `resource` as the API server does (v1.33, `WatchList` on): a legacy
    /// watch (no `sendInitialEvents`, no `resourceVersionMatch`, resourceVersion unset or
    /// `"0"`) is defaulted to `sendInitialEvents=true` with `NotOlderThan`, then the options
    /// are validated with upstream's rules and messages (422 Invalid on `ListOptions`).
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
        let rv = options
            .resource_version
            .as_deref()
            .filter(|s| !s.is_empty());
        let (mut initial, mut matching) =
            (options.send_initial_events, options.resource_version_match);
        // SetListOptionsDefaults.
        if initial.is_none() && matching.is_none() && matches!(rv, None | Some("0")) {
            initial = Some(true);
            matching = Some(ResourceVersionMatch::NotOlderThan);
        }
        // validateWatchOptions.
        let mut errs = ErrorList::new();
        if initial.is_some() && matching != Some(ResourceVersionMatch::NotOlderThan) {
            errs.push(FieldError::forbidden(
                &match_path(),
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if let Some(m) = matching {
            if initial.is_none() {
                errs.push(FieldError::forbidden(
                    &match_path(),
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                ));
            }
            if m != ResourceVersionMatch::NotOlderThan {
                errs.push(FieldError::not_supported(
                    &match_path(),
                    m.as_str(),
                    &[ResourceVersionMatch::NotOlderThan.as_str()],
                ));
            }
        }
        if !errs.is_empty() {
            return Err(invalid_options(errs));
        }
        let revision = |r| parse_revision(r, "watch");
        let start = match (initial, rv) {
            (Some(true), None | Some("0")) => WatchStart::Initial {
                not_older_than: None,
                end_bookmark: options.bookmarks,
            },
            (Some(true), Some(r)) => WatchStart::Initial {
                not_older_than: Some(revision(r)?),
                end_bookmark: options.bookmarks,
            },
            (_, None | Some("0")) => WatchStart::Now,
            (_, Some(r)) => WatchStart::After(revision(r)?),
        };
        Ok(WatchRead { selection, start })
    }
}

/// The path of the `resourceVersionMatch` parameter in validation causes.
fn match_path() -> FieldPath {
    FieldPath::new("resourceVersionMatch")
}

/// Upstream's 422 for list and watch options: `ListOptions.meta.k8s.io "" is invalid: …`.
fn invalid_options(errs: ErrorList) -> StoreError {
    let list_options = ApiResource {
        gvk: GroupVersionKind {
            group: "meta.k8s.io".into(),
            version: "v1".into(),
            kind: "ListOptions".into(),
        },
        plural: "listoptions".into(),
        scope: Scope::Cluster,
    };
    StoreError::invalid(&list_options, "", errs)
}
