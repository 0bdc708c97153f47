//! Request parameters of [`crate::Api`]: `ListParams`, `WatchParams`, `DeleteParams`.

use kybern_core::api::meta::v1::Preconditions;

use crate::store::{DeleteOptions, PropagationPolicy, ResourceVersionMatch};

/// Parameters of [`crate::Api::list`] (upstream `ListOptions`), built fluently:
///
/// ```
/// use kybern_reconciler::ListParams;
/// let lp = ListParams::default().labels("app=web").limit(50);
/// assert_eq!(lp.label_selector.as_deref(), Some("app=web"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListParams {
    /// Label selector string, e.g. `app=web,tier!=db`.
    pub label_selector: Option<String>,
    /// Field selector string, e.g. `spec.nodeName=node-1`.
    pub field_selector: Option<String>,
    /// At most this many items per page.
    pub limit: Option<u64>,
    /// Continue token from the previous page's `metadata.continue`.
    pub continue_token: Option<String>,
    /// Revision to read at (see [`crate::store::ListOptions::resource_version`]).
    pub resource_version: Option<String>,
    /// How `resource_version` is matched.
    pub resource_version_match: Option<ResourceVersionMatch>,
}

impl ListParams {
    /// Sets the label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Continues a paginated list.
    pub fn continue_token(mut self, token: &str) -> Self {
        self.continue_token = Some(token.to_owned());
        self
    }

    /// Reads the state at exactly this revision (410 Expired once compacted).
    pub fn at_exact(mut self, resource_version: &str) -> Self {
        self.resource_version = Some(resource_version.to_owned());
        self.resource_version_match = Some(ResourceVersionMatch::Exact);
        self
    }

    /// Reads a state at least as new as this revision.
    pub fn not_older_than(mut self, resource_version: &str) -> Self {
        self.resource_version = Some(resource_version.to_owned());
        self.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
        self
    }
}

/// Parameters of [`crate::Api::watch`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchParams {
    /// Label selector string.
    pub label_selector: Option<String>,
    /// Field selector string.
    pub field_selector: Option<String>,
    /// Start after this revision; unset or `"0"` starts with an ADDED event per existing object.
    pub resource_version: Option<String>,
    /// Ask for periodic BOOKMARK events.
    pub bookmarks: bool,
    /// Streaming list (upstream's `sendInitialEvents=true&resourceVersionMatch=NotOlderThan`,
    /// as kube-rs's): start with an ADDED event per object of a state at least as new as
    /// `resource_version` (unset: the latest), then a BOOKMARK marked
    /// [`initial_events_end`](crate::store::Bookmark::initial_events_end) when `bookmarks` is
    /// set, then every change.
    pub send_initial_events: bool,
}

impl WatchParams {
    /// Sets the label selector.
    pub fn labels(mut self, selector: &str) -> Self {
        self.label_selector = Some(selector.to_owned());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: &str) -> Self {
        self.field_selector = Some(selector.to_owned());
        self
    }

    /// Starts after this revision (no initial events).
    pub fn from_revision(mut self, resource_version: &str) -> Self {
        self.resource_version = Some(resource_version.to_owned());
        self
    }

    /// Asks for periodic bookmarks.
    pub fn bookmarks(mut self) -> Self {
        self.bookmarks = true;
        self
    }

    /// A streaming list: the initial state as ADDED events, the initial-events-end bookmark,
    /// then changes (sets `send_initial_events` and `bookmarks`).
    pub fn streaming_lists(mut self) -> Self {
        self.send_initial_events = true;
        self.bookmarks = true;
        self
    }
}

/// Parameters of [`crate::Api::delete`] (upstream `DeleteOptions`), built fluently:
///
/// ```
/// use kybern_reconciler::DeleteParams;
/// use kybern_reconciler::store::PropagationPolicy;
/// let dp = DeleteParams::with_uid("1234").propagation(PropagationPolicy::Foreground);
/// assert_eq!(dp.propagation_policy, Some(PropagationPolicy::Foreground));
/// assert_eq!(DeleteParams::orphan().propagation_policy, Some(PropagationPolicy::Orphan));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteParams {
    /// uid / resourceVersion the object must still have.
    pub preconditions: Option<Preconditions>,
    /// How dependents are treated (`None`: the kind's default, Background for most kinds).
    pub propagation_policy: Option<PropagationPolicy>,
    /// Upstream's `gracePeriodSeconds`; see [`crate::store::DeleteOptions::grace_period_seconds`].
    pub grace_period_seconds: Option<i64>,
}

impl DeleteParams {
    /// Deletes only if the object still has this uid.
    pub fn with_uid(uid: &str) -> Self {
        DeleteParams {
            preconditions: Some(Preconditions {
                uid: Some(uid.to_owned()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        }
    }

    /// Deletes only if the object is still at this resourceVersion.
    pub fn with_resource_version(resource_version: &str) -> Self {
        DeleteParams {
            preconditions: Some(Preconditions {
                uid: None,
                resource_version: Some(resource_version.to_owned()),
            }),
            ..DeleteParams::default()
        }
    }

    /// Deletes the dependents first (the `foregroundDeletion` finalizer).
    pub fn foreground() -> Self {
        DeleteParams::default().propagation(PropagationPolicy::Foreground)
    }

    /// Deletes now; the garbage collector deletes the dependents afterwards.
    pub fn background() -> Self {
        DeleteParams::default().propagation(PropagationPolicy::Background)
    }

    /// Keeps the dependents, removing their owner references (the `orphan` finalizer).
    pub fn orphan() -> Self {
        DeleteParams::default().propagation(PropagationPolicy::Orphan)
    }

    /// Sets the propagation policy.
    #[must_use]
    pub fn propagation(mut self, policy: PropagationPolicy) -> Self {
        self.propagation_policy = Some(policy);
        self
    }

    /// The store's options for these parameters.
    pub fn to_options(&self) -> DeleteOptions {
        DeleteOptions {
            preconditions: self.preconditions.clone(),
            propagation_policy: self.propagation_policy,
            grace_period_seconds: self.grace_period_seconds,
        }
    }
}
