//! `Status`: what an extension point answered — a code (upstream's seven) and reasons.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A status code, as upstream's `framework.Code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The plugin ran and the pod may proceed.
    Success,
    /// An internal error: the pod is retried with backoff, not marked unschedulable.
    Error,
    /// The pod does not fit now; preemption might help.
    Unschedulable,
    /// The pod does not fit and preemption cannot help on this node.
    UnschedulableAndUnresolvable,
    /// Permit: the pod waits (for an allow or a timeout).
    Wait,
    /// PreFilter/PreScore/Bind: this plugin has nothing to do for this pod; skip it.
    Skip,
    /// The pod waits for something outside the scheduler (e.g. a gate); retried on events.
    Pending,
}

impl Code {
    /// Upstream's name of the code (`Success`, `UnschedulableAndUnresolvable`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Success => "Success",
            Code::Error => "Error",
            Code::Unschedulable => "Unschedulable",
            Code::UnschedulableAndUnresolvable => "UnschedulableAndUnresolvable",
            Code::Wait => "Wait",
            Code::Skip => "Skip",
            Code::Pending => "Pending",
        }
    }

    /// Parses upstream's name of a code.
    pub fn from_name(name: &str) -> Option<Code> {
        Some(match name {
            "Success" => Code::Success,
            "Error" => Code::Error,
            "Unschedulable" => Code::Unschedulable,
            "UnschedulableAndUnresolvable" => Code::UnschedulableAndUnresolvable,
            "Wait" => Code::Wait,
            "Skip" => Code::Skip,
            "Pending" => Code::Pending,
            _ => return None,
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer of a plugin at one extension point: a [`Code`], the reasons (shown to users in
/// the pod's `PodScheduled` condition, counted per node in the fit error), and which plugin
/// said so.
///
/// A success allocates nothing: hot paths return [`Status::success`] per node; neither does
/// a rejection with one static reason (Filter plugins return one per rejected node).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    code: Code,
    reasons: Reasons,
    plugin: Option<Arc<str>>,
}

/// A status's reasons: one kept inline (the common case), or a list.
#[derive(Clone)]
enum Reasons {
    One(Cow<'static, str>),
    List(Vec<Cow<'static, str>>),
}

impl Reasons {
    const NONE: Reasons = Reasons::List(Vec::new());

    #[inline]
    fn as_slice(&self) -> &[Cow<'static, str>] {
        match self {
            Reasons::One(r) => std::slice::from_ref(r),
            Reasons::List(l) => l,
        }
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Reasons {}

impl fmt::Debug for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Default for Status {
    fn default() -> Self {
        Status::success()
    }
}

impl Status {
    /// Success, no reasons.
    #[inline]
    pub const fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Reasons::NONE,
            plugin: None,
        }
    }

    /// A status with one reason.
    pub fn new(code: Code, reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: Reasons::One(reason.into()),
            plugin: None,
        }
    }

    /// A status with several reasons.
    pub fn with_reasons(code: Code, reasons: Vec<Cow<'static, str>>) -> Status {
        Status {
            code,
            reasons: Reasons::List(reasons),
            plugin: None,
        }
    }

    /// A status with a code and no reasons (e.g. `Skip`, `Wait`).
    pub const fn code_only(code: Code) -> Status {
        Status {
            code,
            reasons: Reasons::NONE,
            plugin: None,
        }
    }

    /// `Skip`.
    pub const fn skip() -> Status {
        Status::code_only(Code::Skip)
    }

    /// `Unschedulable` with a reason.
    pub fn unschedulable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }

    /// `UnschedulableAndUnresolvable` with a reason.
    pub fn unresolvable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }

    /// `Error` with a message.
    pub fn error(message: impl Into<Cow<'static, str>>) -> Status {
        Status::new(Code::Error, message)
    }

    /// Records which plugin produced this status (upstream's `WithPlugin`).
    pub fn with_plugin(mut self, plugin: &str) -> Status {
        if self.plugin.is_none() {
            self.plugin = Some(Arc::from(plugin));
        }
        self
    }

    /// As [`Status::with_plugin`], sharing an already allocated name.
    pub(crate) fn with_plugin_name(mut self, plugin: &Arc<str>) -> Status {
        if self.plugin.is_none() {
            self.plugin = Some(plugin.clone());
        }
        self
    }

    /// The code.
    #[inline]
    pub fn code(&self) -> Code {
        self.code
    }

    /// The reasons, in order.
    pub fn reasons(&self) -> &[Cow<'static, str>] {
        self.reasons.as_slice()
    }

    /// The plugin that produced this status, if recorded.
    pub fn plugin(&self) -> Option<&str> {
        self.plugin.as_deref()
    }

    /// The reasons joined with `", "` (upstream's `Message`).
    pub fn message(&self) -> String {
        self.reasons.as_slice().join(", ")
    }

    /// Whether the code is `Success`.
    #[inline]
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }

    /// Consumes a status; a plain success (no reasons, no plugin: what
    /// [`Status::success`] returns) owns no memory and is forgotten without running its
    /// drop glue, which the per-node Filter loop would otherwise call once per plugin and
    /// node. Anything else is dropped normally.
    #[inline]
    pub(crate) fn discard(self) {
        let owns_nothing =
            self.plugin.is_none() && matches!(&self.reasons, Reasons::List(l) if l.capacity() == 0);
        if owns_nothing {
            std::mem::forget(self);
        }
    }

    /// Whether the code is `Skip`.
    #[inline]
    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }

    /// Whether the code is `Unschedulable` or `UnschedulableAndUnresolvable` (upstream's
    /// `IsRejected` also counts `Pending`).
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable | Code::Pending
        )
    }

    /// Whether the code is `Error`.
    pub fn is_error(&self) -> bool {
        self.code == Code::Error
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reasons.as_slice().is_empty() {
            f.write_str(self.code.as_str())
        } else {
            write!(f, "{}: {}", self.code, self.message())
        }
    }
}
