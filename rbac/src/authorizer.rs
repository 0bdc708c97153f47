//! The [`Authorizer`] trait (pure, sync, object-safe), its [`Verdict`] (a [`Decision`] and a
//! lazily rendered [`Reason`]), and the [`Union`] that chains authorizers as upstream's
//! `union.New`.

use std::borrow::Cow;
use std::fmt;

use kybern_core::api::rbac::v1::Subject;

use crate::attributes::Attributes;
use crate::gofmt::write_quoted;
use crate::matching::SERVICE_ACCOUNT_KIND;

/// An authorizer's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The request is allowed; later authorizers are not asked.
    Allow,
    /// The request is denied; later authorizers are not asked.
    Deny,
    /// No opinion: the next authorizer decides (after the last one, the request is refused).
    NoOpinion,
}

/// A decision and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict<'a> {
    /// The decision.
    pub decision: Decision,
    /// Why; rendered only when displayed.
    pub reason: Reason<'a>,
}

impl<'a> Verdict<'a> {
    /// [`Decision::Allow`] with a reason.
    pub fn allow(reason: Reason<'a>) -> Self {
        Self {
            decision: Decision::Allow,
            reason,
        }
    }

    /// [`Decision::Deny`] with a reason.
    pub fn deny(reason: Reason<'a>) -> Self {
        Self {
            decision: Decision::Deny,
            reason,
        }
    }

    /// [`Decision::NoOpinion`] with a reason.
    pub fn no_opinion(reason: Reason<'a>) -> Self {
        Self {
            decision: Decision::NoOpinion,
            reason,
        }
    }

    /// Whether the decision is [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// Detaches the verdict from the authorizer it borrows from (renders the reason).
    pub fn into_owned(self) -> Verdict<'static> {
        let reason = if self.reason.is_empty() {
            Reason::None
        } else {
            Reason::Text(Cow::Owned(self.reason.to_string()))
        };
        Verdict {
            decision: self.decision,
            reason,
        }
    }
}

/// Which kind of binding granted a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindingKind {
    /// A namespaced `RoleBinding`.
    RoleBinding,
    /// A `ClusterRoleBinding`.
    ClusterRoleBinding,
}

impl BindingKind {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoleBinding => "RoleBinding",
            Self::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// The binding, role and subject that allowed a request: references into the authorizer, so
/// building it costs nothing. Displays as upstream's reason, e.g.
/// `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"` or
/// `RBAC: allowed by RoleBinding "name/ns" of Role "y" to ServiceAccount "sa/ns"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AllowedBy<'a> {
    /// The binding's kind.
    pub binding_kind: BindingKind,
    /// The binding's namespace (empty for a ClusterRoleBinding).
    pub binding_namespace: &'a str,
    /// The binding's name.
    pub binding_name: &'a str,
    /// `Role` or `ClusterRole`.
    pub role_kind: &'a str,
    /// The role's name.
    pub role_name: &'a str,
    /// The first of the binding's subjects that applies to the user.
    pub subject: &'a Subject,
}

impl fmt::Display for AllowedBy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RBAC: allowed by ")?;
        write_binding_description(
            f,
            self.binding_kind,
            self.binding_namespace,
            self.binding_name,
            self.role_kind,
            self.role_name,
            self.subject,
        )
    }
}

/// Upstream's `clusterRoleBindingDescriber`/`roleBindingDescriber` text:
/// `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`.
pub(crate) fn write_binding_description(
    f: &mut impl fmt::Write,
    kind: BindingKind,
    namespace: &str,
    name: &str,
    role_kind: &str,
    role_name: &str,
    subject: &Subject,
) -> fmt::Result {
    f.write_str(kind.as_str())?;
    f.write_char(' ')?;
    match kind {
        BindingKind::ClusterRoleBinding => write_quoted(f, name)?,
        BindingKind::RoleBinding => write_quoted(f, &format!("{name}/{namespace}"))?,
    }
    f.write_str(" of ")?;
    f.write_str(role_kind)?;
    f.write_char(' ')?;
    write_quoted(f, role_name)?;
    f.write_str(" to ")?;
    write_subject_description(f, subject, namespace)
}

/// Upstream's `describeSubject`: `User "z"`, `Group "g"`, `ServiceAccount "name/namespace"`
/// (the binding's namespace when the subject has none).
pub(crate) fn write_subject_description(
    f: &mut impl fmt::Write,
    subject: &Subject,
    binding_namespace: &str,
) -> fmt::Result {
    f.write_str(&subject.kind)?;
    f.write_char(' ')?;
    if subject.kind == SERVICE_ACCOUNT_KIND {
        let ns = match subject.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => binding_namespace,
        };
        write_quoted(f, &format!("{}/{}", subject.name, ns))
    } else {
        write_quoted(f, &subject.name)
    }
}

/// Why an authorizer decided as it did. Rendered lazily through [`fmt::Display`]; an empty
/// reason displays as nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason<'a> {
    /// No reason (upstream's `""`).
    None,
    /// A fixed or computed text.
    Text(Cow<'a, str>),
    /// RBAC allowed the request through a binding.
    Allowed(AllowedBy<'a>),
    /// RBAC found no rule but hit resolution errors (bindings to missing roles):
    /// `RBAC: <errors>` with upstream's aggregate formatting (one error as is, several as
    /// `[a, b]`, duplicates once).
    ResolutionErrors(Vec<crate::rbac::ResolutionError<'a>>),
    /// Several authorizers' reasons, joined by newlines (a [`Union`] where nobody decided).
    Joined(Vec<Reason<'a>>),
}

impl Reason<'_> {
    /// Whether the reason renders as the empty string.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::None => true,
            Self::Text(t) => t.is_empty(),
            Self::Allowed(_) => false,
            Self::ResolutionErrors(e) => e.is_empty(),
            Self::Joined(parts) => parts.iter().all(Reason::is_empty),
        }
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Text(t) => f.write_str(t),
            Self::Allowed(a) => a.fmt(f),
            Self::ResolutionErrors(errors) => {
                if errors.is_empty() {
                    return Ok(());
                }
                f.write_str("RBAC: ")?;
                write_aggregate(f, errors.iter().map(ToString::to_string))
            }
            Self::Joined(parts) => {
                let mut first = true;
                for part in parts.iter().filter(|p| !p.is_empty()) {
                    if !first {
                        f.write_str("\n")?;
                    }
                    first = false;
                    part.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

/// Upstream's `utilerrors.NewAggregate(...).Error()`: one message as is; several deduplicated
/// and written as `[a, b]`.
pub(crate) fn write_aggregate(
    f: &mut impl fmt::Write,
    messages: impl Iterator<Item = String>,
) -> fmt::Result {
    let mut seen: Vec<String> = Vec::new();
    for m in messages {
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    match seen.as_slice() {
        [] => Ok(()),
        [one] => f.write_str(one),
        many => {
            f.write_char('[')?;
            f.write_str(&many.join(", "))?;
            f.write_char(']')
        }
    }
}

/// Decides whether a request is allowed. Pure and synchronous; object-safe
/// (`Box<dyn Authorizer>`). The verdict may borrow from the authorizer (for a reason rendered
/// only on demand).
///
/// Closures `Fn(&Attributes) -> Verdict<'static>` are authorizers (hooks), and `()` is the
/// authorizer that never has an opinion.
pub trait Authorizer {
    /// Decides on one request.
    fn authorize<'s>(&'s self, attributes: &Attributes<'_>) -> Verdict<'s>;
}

impl<F> Authorizer for F
where
    F: Fn(&Attributes<'_>) -> Verdict<'static>,
{
    fn authorize<'s>(&'s self, attributes: &Attributes<'_>) -> Verdict<'s> {
        self(attributes)
    }
}

impl Authorizer for () {
    fn authorize<'s>(&'s self, _attributes: &Attributes<'_>) -> Verdict<'s> {
        Verdict::no_opinion(Reason::None)
    }
}

/// Asks several authorizers in order, as upstream's union authorizer: the first
/// [`Decision::Allow`] or [`Decision::Deny`] wins with its reason; when all have no opinion,
/// the verdict is [`Decision::NoOpinion`] with their non-empty reasons joined by newlines.
#[derive(Default)]
pub struct Union {
    authorizers: Vec<Box<dyn Authorizer + Send + Sync>>,
}

impl fmt::Debug for Union {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Union")
            .field("authorizers", &self.authorizers.len())
            .finish()
    }
}

impl Union {
    /// An empty union (always no opinion).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an authorizer (asked after the ones before it).
    #[must_use]
    pub fn with(mut self, authorizer: impl Authorizer + Send + Sync + 'static) -> Self {
        self.push(authorizer);
        self
    }

    /// Appends an authorizer.
    pub fn push(&mut self, authorizer: impl Authorizer + Send + Sync + 'static) {
        self.authorizers.push(Box::new(authorizer));
    }

    /// How many authorizers are chained.
    pub fn len(&self) -> usize {
        self.authorizers.len()
    }

    /// Whether no authorizer is chained.
    pub fn is_empty(&self) -> bool {
        self.authorizers.is_empty()
    }
}

impl Authorizer for Union {
    fn authorize<'s>(&'s self, attributes: &Attributes<'_>) -> Verdict<'s> {
        let mut reasons = Vec::new();
        for authorizer in &self.authorizers {
            let verdict = authorizer.authorize(attributes);
            match verdict.decision {
                Decision::Allow | Decision::Deny => return verdict,
                Decision::NoOpinion => {
                    if !verdict.reason.is_empty() {
                        reasons.push(verdict.reason);
                    }
                }
            }
        }
        let reason = match reasons.len() {
            0 => Reason::None,
            1 => reasons.pop().unwrap_or(Reason::None),
            _ => Reason::Joined(reasons),
        };
        Verdict::no_opinion(reason)
    }
}

/// The API server's refusal text for a request no authorizer allowed (upstream's
/// `forbiddenMessage`): `User "john" cannot list resource "pods" in API group "" in the
/// namespace "dev"`, `... at the cluster scope`, or `User "u" cannot get path "/healthz"`.
pub fn forbidden_message(attributes: &Attributes<'_>) -> String {
    use crate::gofmt::quote;
    let user = quote(&attributes.user.name);
    if !attributes.resource_request {
        return format!(
            "User {user} cannot {} path {}",
            attributes.verb,
            quote(attributes.path)
        );
    }
    let resource = if attributes.subresource.is_empty() {
        attributes.resource.to_owned()
    } else {
        format!("{}/{}", attributes.resource, attributes.subresource)
    };
    if attributes.namespace.is_empty() {
        format!(
            "User {user} cannot {} resource {} in API group {} at the cluster scope",
            attributes.verb,
            quote(&resource),
            quote(attributes.api_group)
        )
    } else {
        format!(
            "User {user} cannot {} resource {} in API group {} in the namespace {}",
            attributes.verb,
            quote(&resource),
            quote(attributes.api_group),
            quote(attributes.namespace)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::UserInfo;

    #[test]
    fn union_first_decision_wins_and_reasons_join() {
        let user = UserInfo::new("u", Vec::<String>::new());
        let attrs = Attributes::resource(&user, "get", "", "pods");
        let say = |text: &'static str| {
            move |_: &Attributes<'_>| Verdict::no_opinion(Reason::Text(Cow::Borrowed(text)))
        };
        let cases: Vec<(Union, Decision, &str)> = vec![
            (Union::new(), Decision::NoOpinion, ""),
            (Union::new().with(()), Decision::NoOpinion, ""),
            (
                Union::new().with(say("a")).with(()).with(say("b")),
                Decision::NoOpinion,
                "a\nb",
            ),
            (
                Union::new()
                    .with(say("a"))
                    .with(|_: &Attributes<'_>| Verdict::deny(Reason::Text(Cow::Borrowed("no"))))
                    .with(|_: &Attributes<'_>| Verdict::allow(Reason::None)),
                Decision::Deny,
                "no",
            ),
        ];
        for (union, decision, reason) in cases {
            let v = union.authorize(&attrs);
            assert_eq!(v.decision, decision);
            assert_eq!(v.reason.to_string(), reason);
        }
    }

    #[test]
    fn forbidden_messages_match_upstream() {
        let user = UserInfo::new("john", ["devs"]);
        let cases = [
            (
                Attributes::resource(&user, "list", "", "pods").in_namespace("dev"),
                r#"User "john" cannot list resource "pods" in API group "" in the namespace "dev""#,
            ),
            (
                Attributes::resource(&user, "get", "apps", "deployments").with_subresource("scale"),
                r#"User "john" cannot get resource "deployments/scale" in API group "apps" at the cluster scope"#,
            ),
            (
                Attributes::non_resource(&user, "get", "/healthz"),
                r#"User "john" cannot get path "/healthz""#,
            ),
        ];
        for (attrs, want) in cases {
            assert_eq!(forbidden_message(&attrs), want);
        }
    }
}
