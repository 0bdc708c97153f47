//! [`RbacAuthorizer`]: upstream's RBAC authorizer over Roles, ClusterRoles, RoleBindings and
//! ClusterRoleBindings, indexed so a decision looks only at the bindings that name the user,
//! one of the user's groups or the user's service account — and allocates nothing when it
//! allows.
//!
//! # Semantics (upstream `plugin/pkg/auth/authorizer/rbac` and
//! `pkg/registry/rbac/validation`)
//! - Purely additive: there are no deny rules. A request no rule allows gets
//!   [`Decision::NoOpinion`] (never `Deny`), so a [`Union`](crate::Union) can ask the next
//!   authorizer; the reason is empty unless some applicable binding points at a missing role,
//!   in which case it lists those errors (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not
//!   found`).
//! - ClusterRoleBindings grant everywhere; RoleBindings grant only in their own namespace, also
//!   when they reference a ClusterRole. A Role is looked up in the binding's namespace.
//! - Bindings to missing roles grant nothing; when the role appears later
//!   ([`upsert_role`](RbacAuthorizer::upsert_role)), the binding starts to grant.
//! - Subjects: `User` by name, `Group` by membership, `ServiceAccount` by the user name
//!   `system:serviceaccount:<ns>:<name>` (an empty subject namespace means the binding's
//!   namespace; in a ClusterRoleBinding such a subject matches nobody). Other kinds match
//!   nobody.
//! - Evaluation order: ClusterRoleBindings first, then RoleBindings of the request's namespace,
//!   as upstream; within each, the user's own entries, then each group's in the user's group
//!   order. The reported binding is the first that allows, and its subject is the binding's
//!   first subject that applies to the user (upstream's `appliesTo`).
//!
//! # Index
//! Bindings are filed under every user name, service-account user name and group name their
//! subjects name, once for the cluster and once per namespace. Each binding holds the slot of
//! its role (created empty when the role does not exist yet), so a decision never looks a role
//! up by name. Every update is incremental: [`apply`](RbacAuthorizer::apply) takes watch-style
//! events; `upsert_*`/`remove_*` do the same one object at a time.

use std::collections::HashMap;
use std::fmt;

use kybern_core::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use crate::attributes::{Attributes, UserInfo, service_account_username};
use crate::authorizer::{
    AllowedBy, Authorizer, BindingKind, Decision, Reason, Verdict, write_binding_description,
};
use crate::gofmt::write_quoted;
use crate::matching::{GROUP_KIND, SERVICE_ACCOUNT_KIND, USER_KIND, applies_to, rule_allows};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// `Role`, the kind a RoleRef names for a namespaced role.
pub const ROLE_KIND: &str = "Role";
/// `ClusterRole`, the kind a RoleRef names for a cluster role.
pub const CLUSTER_ROLE_KIND: &str = "ClusterRole";

/// Why a binding's role could not be resolved (upstream's getter errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolutionError<'a> {
    /// `role.rbac.authorization.k8s.io "<name>" not found`.
    RoleNotFound {
        /// The namespace looked in (the binding's).
        namespace: &'a str,
        /// The role's name.
        name: &'a str,
    },
    /// `clusterrole.rbac.authorization.k8s.io "<name>" not found`.
    ClusterRoleNotFound {
        /// The cluster role's name.
        name: &'a str,
    },
    /// `unsupported role reference kind: "<kind>"`.
    UnsupportedKind {
        /// The RoleRef's kind.
        kind: &'a str,
    },
}

impl fmt::Display for ResolutionError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RoleNotFound { name, .. } => {
                f.write_str("role.rbac.authorization.k8s.io ")?;
                write_quoted(f, name)?;
                f.write_str(" not found")
            }
            Self::ClusterRoleNotFound { name } => {
                f.write_str("clusterrole.rbac.authorization.k8s.io ")?;
                write_quoted(f, name)?;
                f.write_str(" not found")
            }
            Self::UnsupportedKind { kind } => {
                f.write_str("unsupported role reference kind: ")?;
                write_quoted(f, kind)
            }
        }
    }
}

/// A Role, ClusterRole, RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq)]
pub enum RbacObject {
    /// A namespaced role.
    Role(Role),
    /// A cluster role.
    ClusterRole(ClusterRole),
    /// A namespaced binding.
    RoleBinding(RoleBinding),
    /// A cluster binding.
    ClusterRoleBinding(ClusterRoleBinding),
}

/// A watch-style change for [`RbacAuthorizer::apply`].
#[derive(Clone, Debug, PartialEq)]
pub enum RbacEvent {
    /// Added or modified: the object replaces any object of the same kind, namespace and name.
    Applied(RbacObject),
    /// Deleted (only kind, namespace and name are read).
    Deleted(RbacObject),
}

/// One binding-to-subject grant, as "explain" reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant<'a> {
    /// The binding's kind.
    pub binding_kind: BindingKind,
    /// The binding's namespace (empty for a ClusterRoleBinding).
    pub binding_namespace: &'a str,
    /// The binding's name.
    pub binding_name: &'a str,
    /// The role the binding references.
    pub role_ref: &'a RoleRef,
    /// The binding's first subject that applies to the user.
    pub subject: &'a Subject,
    /// The role's rules, or why they could not be found.
    pub rules: Result<&'a [PolicyRule], ResolutionError<'a>>,
}

impl fmt::Display for Grant<'_> {
    /// Upstream's source description: `ClusterRoleBinding "x" of ClusterRole "y" to User "z"`
    /// or `RoleBinding "name/ns" of Role "y" to Group "g"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_binding_description(
            f,
            self.binding_kind,
            self.binding_namespace,
            self.binding_name,
            &self.role_ref.kind,
            &self.role_ref.name,
            self.subject,
        )
    }
}

/// The rules that apply to a user in a namespace and the errors met finding them (upstream's
/// `RulesFor`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedRules {
    /// Every rule of every applicable binding's role, in evaluation order (duplicates kept).
    pub rules: Vec<PolicyRule>,
    /// Rendered [`ResolutionError`]s.
    pub errors: Vec<String>,
}

#[derive(Clone, Debug)]
struct RoleSlot {
    cluster: bool,
    namespace: String,
    name: String,
    rules: Option<Vec<PolicyRule>>,
}

#[derive(Clone, Debug)]
struct BindingEntry {
    kind: BindingKind,
    namespace: String,
    name: String,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
    /// The role slot, or `None` for an unsupported RoleRef kind.
    role: Option<u32>,
    /// The index keys this binding is filed under (for removal).
    keys: Vec<IndexKey>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum IndexKey {
    User(String),
    Group(String),
}

#[derive(Clone, Debug, Default)]
struct SubjectIndex {
    users: Map<String, Vec<u32>>,
    groups: Map<String, Vec<u32>>,
}

impl SubjectIndex {
    fn insert(&mut self, key: &IndexKey, id: u32) {
        let (map, k) = match key {
            IndexKey::User(k) => (&mut self.users, k),
            IndexKey::Group(k) => (&mut self.groups, k),
        };
        map.entry(k.clone()).or_default().push(id);
    }

    fn remove(&mut self, key: &IndexKey, id: u32) {
        let (map, k) = match key {
            IndexKey::User(k) => (&mut self.users, k),
            IndexKey::Group(k) => (&mut self.groups, k),
        };
        if let Some(list) = map.get_mut(k.as_str()) {
            list.retain(|&x| x != id);
            if list.is_empty() {
                map.remove(k.as_str());
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }

    /// The binding ids filed under the user's name, then under each of its groups.
    fn candidates<'i>(&'i self, user: &'i UserInfo) -> impl Iterator<Item = u32> + 'i {
        let own = self.users.get(user.name.as_str()).into_iter().flatten();
        let groups = user
            .groups
            .iter()
            .filter_map(|g| self.groups.get(g.as_str()))
            .flatten();
        own.chain(groups).copied()
    }
}

/// The indexed RBAC authorizer. Build it with [`new`](Self::new) (or
/// [`Policy::authorizer`](crate::Policy::authorizer)), update it with [`apply`](Self::apply) or
/// the `upsert_*`/`remove_*` methods, and ask it through [`Authorizer::authorize`].
///
/// It has no interior mutability: share it behind an `RwLock` (or swap whole `Arc`s) when a
/// watch updates it while requests are decided.
#[derive(Clone, Debug, Default)]
pub struct RbacAuthorizer {
    roles: Vec<RoleSlot>,
    role_slot: Map<(bool, String, String), u32>,
    bindings: Vec<Option<BindingEntry>>,
    free: Vec<u32>,
    binding_slot: Map<(BindingKind, String, String), u32>,
    cluster_index: SubjectIndex,
    namespace_index: Map<String, SubjectIndex>,
    live_bindings: usize,
}

impl RbacAuthorizer {
    /// An authorizer over the given objects.
    pub fn new<'a>(
        roles: impl IntoIterator<Item = &'a Role>,
        cluster_roles: impl IntoIterator<Item = &'a ClusterRole>,
        role_bindings: impl IntoIterator<Item = &'a RoleBinding>,
        cluster_role_bindings: impl IntoIterator<Item = &'a ClusterRoleBinding>,
    ) -> Self {
        let mut this = Self::default();
        for r in roles {
            this.upsert_role(r);
        }
        for r in cluster_roles {
            this.upsert_cluster_role(r);
        }
        for b in role_bindings {
            this.upsert_role_binding(b);
        }
        for b in cluster_role_bindings {
            this.upsert_cluster_role_binding(b);
        }
        this
    }

    /// Applies one watch event.
    pub fn apply(&mut self, event: RbacEvent) {
        match event {
            RbacEvent::Applied(RbacObject::Role(r)) => self.upsert_role(&r),
            RbacEvent::Applied(RbacObject::ClusterRole(r)) => self.upsert_cluster_role(&r),
            RbacEvent::Applied(RbacObject::RoleBinding(b)) => self.upsert_role_binding(&b),
            RbacEvent::Applied(RbacObject::ClusterRoleBinding(b)) => {
                self.upsert_cluster_role_binding(&b);
            }
            RbacEvent::Deleted(RbacObject::Role(r)) => {
                self.remove_role(ns_of(&r.metadata), name_of(&r.metadata));
            }
            RbacEvent::Deleted(RbacObject::ClusterRole(r)) => {
                self.remove_cluster_role(name_of(&r.metadata));
            }
            RbacEvent::Deleted(RbacObject::RoleBinding(b)) => {
                self.remove_role_binding(ns_of(&b.metadata), name_of(&b.metadata));
            }
            RbacEvent::Deleted(RbacObject::ClusterRoleBinding(b)) => {
                self.remove_cluster_role_binding(name_of(&b.metadata));
            }
        }
    }

    fn slot_for(&mut self, cluster: bool, namespace: &str, name: &str) -> u32 {
        let key = (cluster, namespace.to_owned(), name.to_owned());
        if let Some(&id) = self.role_slot.get(&key) {
            return id;
        }
        let id = u32::try_from(self.roles.len()).unwrap_or(u32::MAX);
        self.roles.push(RoleSlot {
            cluster,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            rules: None,
        });
        self.role_slot.insert(key, id);
        id
    }

    fn set_role(
        &mut self,
        cluster: bool,
        namespace: &str,
        name: &str,
        rules: Option<&[PolicyRule]>,
    ) {
        if rules.is_none()
            && !self
                .role_slot
                .contains_key(&(cluster, namespace.to_owned(), name.to_owned()))
        {
            return;
        }
        let id = self.slot_for(cluster, namespace, name);
        if let Some(slot) = self.roles.get_mut(id as usize) {
            slot.rules = rules.map(<[PolicyRule]>::to_vec);
        }
    }

    /// Adds or replaces a Role.
    pub fn upsert_role(&mut self, role: &Role) {
        let ns = ns_of(&role.metadata);
        self.set_role(false, ns, name_of(&role.metadata), Some(&role.rules));
    }

    /// Removes a Role (bindings to it stop granting).
    pub fn remove_role(&mut self, namespace: &str, name: &str) {
        self.set_role(false, namespace, name, None);
    }

    /// Adds or replaces a ClusterRole (its current `rules`; aggregation is the aggregation
    /// controller's job, see [`aggregate`](crate::aggregate)).
    pub fn upsert_cluster_role(&mut self, role: &ClusterRole) {
        self.set_role(true, "", name_of(&role.metadata), Some(&role.rules));
    }

    /// Removes a ClusterRole.
    pub fn remove_cluster_role(&mut self, name: &str) {
        self.set_role(true, "", name, None);
    }

    /// Adds or replaces a RoleBinding.
    pub fn upsert_role_binding(&mut self, binding: &RoleBinding) {
        self.upsert_binding(
            BindingKind::RoleBinding,
            ns_of(&binding.metadata),
            name_of(&binding.metadata),
            &binding.role_ref,
            &binding.subjects,
        );
    }

    /// Removes a RoleBinding.
    pub fn remove_role_binding(&mut self, namespace: &str, name: &str) {
        self.remove_binding(BindingKind::RoleBinding, namespace, name);
    }

    /// Adds or replaces a ClusterRoleBinding.
    pub fn upsert_cluster_role_binding(&mut self, binding: &ClusterRoleBinding) {
        self.upsert_binding(
            BindingKind::ClusterRoleBinding,
            "",
            name_of(&binding.metadata),
            &binding.role_ref,
            &binding.subjects,
        );
    }

    /// Removes a ClusterRoleBinding.
    pub fn remove_cluster_role_binding(&mut self, name: &str) {
        self.remove_binding(BindingKind::ClusterRoleBinding, "", name);
    }

    fn upsert_binding(
        &mut self,
        kind: BindingKind,
        namespace: &str,
        name: &str,
        role_ref: &RoleRef,
        subjects: &[Subject],
    ) {
        if !name.is_empty() {
            self.remove_binding(kind, namespace, name);
        }
        let role = match role_ref.kind.as_str() {
            ROLE_KIND => Some(self.slot_for(false, namespace, &role_ref.name)),
            CLUSTER_ROLE_KIND => Some(self.slot_for(true, "", &role_ref.name)),
            _ => None,
        };
        let mut keys: Vec<IndexKey> = Vec::new();
        for s in subjects {
            let key = match s.kind.as_str() {
                USER_KIND => Some(IndexKey::User(s.name.clone())),
                GROUP_KIND => Some(IndexKey::Group(s.name.clone())),
                SERVICE_ACCOUNT_KIND => {
                    let sa_ns = match s.namespace.as_deref() {
                        Some(n) if !n.is_empty() => n,
                        _ => namespace,
                    };
                    (!sa_ns.is_empty())
                        .then(|| IndexKey::User(service_account_username(sa_ns, &s.name)))
                }
                _ => None,
            };
            if let Some(key) = key
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
        let entry = BindingEntry {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            role_ref: role_ref.clone(),
            subjects: subjects.to_vec(),
            role,
            keys,
        };
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.bindings.push(None);
                u32::try_from(self.bindings.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let index = match kind {
            BindingKind::ClusterRoleBinding => &mut self.cluster_index,
            BindingKind::RoleBinding => self
                .namespace_index
                .entry(namespace.to_owned())
                .or_default(),
        };
        for key in &entry.keys {
            index.insert(key, id);
        }
        // Unnamed bindings (test fixtures; API objects always have names) are kept side by
        // side and cannot be replaced or removed by name.
        if !name.is_empty() {
            self.binding_slot
                .insert((kind, namespace.to_owned(), name.to_owned()), id);
        }
        self.live_bindings += 1;
        if let Some(slot) = self.bindings.get_mut(id as usize) {
            *slot = Some(entry);
        }
    }

    fn remove_binding(&mut self, kind: BindingKind, namespace: &str, name: &str) {
        let Some(id) = self
            .binding_slot
            .remove(&(kind, namespace.to_owned(), name.to_owned()))
        else {
            return;
        };
        let Some(entry) = self.bindings.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        match kind {
            BindingKind::ClusterRoleBinding => {
                for key in &entry.keys {
                    self.cluster_index.remove(key, id);
                }
            }
            BindingKind::RoleBinding => {
                if let Some(index) = self.namespace_index.get_mut(namespace) {
                    for key in &entry.keys {
                        index.remove(key, id);
                    }
                    if index.is_empty() {
                        self.namespace_index.remove(namespace);
                    }
                }
            }
        }
        self.free.push(id);
        self.live_bindings = self.live_bindings.saturating_sub(1);
    }

    /// How many bindings (Role and ClusterRole) are indexed.
    pub fn binding_count(&self) -> usize {
        self.live_bindings
    }

    /// How many roles (Role and ClusterRole) exist.
    pub fn role_count(&self) -> usize {
        self.roles.iter().filter(|r| r.rules.is_some()).count()
    }

    /// The rules a RoleRef resolves to for a binding in `binding_namespace` (empty for a
    /// ClusterRoleBinding), as upstream's `GetRoleReferenceRules`.
    ///
    /// # Errors
    /// The role is missing or the RoleRef kind is neither `Role` nor `ClusterRole`.
    pub fn role_reference_rules<'s>(
        &'s self,
        role_ref: &'s RoleRef,
        binding_namespace: &'s str,
    ) -> Result<&'s [PolicyRule], ResolutionError<'s>> {
        let key = match role_ref.kind.as_str() {
            ROLE_KIND => (false, binding_namespace.to_owned(), role_ref.name.clone()),
            CLUSTER_ROLE_KIND => (true, String::new(), role_ref.name.clone()),
            _ => {
                return Err(ResolutionError::UnsupportedKind {
                    kind: &role_ref.kind,
                });
            }
        };
        let rules = self
            .role_slot
            .get(&key)
            .and_then(|&id| self.roles.get(id as usize))
            .and_then(|slot| slot.rules.as_deref());
        rules.ok_or(if key.0 {
            ResolutionError::ClusterRoleNotFound {
                name: &role_ref.name,
            }
        } else {
            ResolutionError::RoleNotFound {
                namespace: binding_namespace,
                name: &role_ref.name,
            }
        })
    }

    fn entry_rules<'s>(
        &'s self,
        entry: &'s BindingEntry,
    ) -> Result<&'s [PolicyRule], ResolutionError<'s>> {
        let Some(slot) = entry.role.and_then(|id| self.roles.get(id as usize)) else {
            return Err(ResolutionError::UnsupportedKind {
                kind: &entry.role_ref.kind,
            });
        };
        slot.rules.as_deref().ok_or(if slot.cluster {
            ResolutionError::ClusterRoleNotFound { name: &slot.name }
        } else {
            ResolutionError::RoleNotFound {
                namespace: &slot.namespace,
                name: &slot.name,
            }
        })
    }

    /// Checks one index; `Some` when a binding in it allows.
    fn check_index<'s>(
        &'s self,
        index: &'s SubjectIndex,
        attributes: &Attributes<'_>,
        errors: &mut Vec<ResolutionError<'s>>,
    ) -> Option<AllowedBy<'s>> {
        for id in index.candidates(attributes.user) {
            let Some(entry) = self.bindings.get(id as usize).and_then(Option::as_ref) else {
                continue;
            };
            match self.entry_rules(entry) {
                Ok(rules) => {
                    if rules.iter().any(|r| rule_allows(attributes, r)) {
                        let Some(subject) =
                            applies_to(attributes.user, &entry.subjects, &entry.namespace)
                                .and_then(|i| entry.subjects.get(i))
                        else {
                            continue;
                        };
                        return Some(AllowedBy {
                            binding_kind: entry.kind,
                            binding_namespace: &entry.namespace,
                            binding_name: &entry.name,
                            role_kind: &entry.role_ref.kind,
                            role_name: &entry.role_ref.name,
                            subject,
                        });
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        None
    }

    /// The ids of every binding that applies to `user` in `namespace`: ClusterRoleBindings
    /// sorted by name, then the namespace's RoleBindings sorted by name.
    fn applicable(&self, user: &UserInfo, namespace: &str) -> Vec<&BindingEntry> {
        let mut out: Vec<&BindingEntry> = Vec::new();
        let mut collect = |index: &SubjectIndex| {
            let mut ids: Vec<u32> = index.candidates(user).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut entries: Vec<&BindingEntry> = ids
                .into_iter()
                .filter_map(|id| self.bindings.get(id as usize).and_then(Option::as_ref))
                .collect();
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(entries);
        };
        collect(&self.cluster_index);
        if !namespace.is_empty()
            && let Some(index) = self.namespace_index.get(namespace)
        {
            collect(index);
        }
        out
    }

    /// "Explain": every binding that applies to `user` in `namespace` (ClusterRoleBindings,
    /// then the namespace's RoleBindings, each sorted by name), with the subject that matched
    /// and the role's rules (or why they are missing).
    pub fn explain<'s>(&'s self, user: &UserInfo, namespace: &str) -> Vec<Grant<'s>> {
        self.applicable(user, namespace)
            .into_iter()
            .filter_map(|entry| {
                let subject = applies_to(user, &entry.subjects, &entry.namespace)
                    .and_then(|i| entry.subjects.get(i))?;
                Some(Grant {
                    binding_kind: entry.kind,
                    binding_namespace: &entry.namespace,
                    binding_name: &entry.name,
                    role_ref: &entry.role_ref,
                    subject,
                    rules: self.entry_rules(entry),
                })
            })
            .collect()
    }

    /// Every (grant, rule) pair that allows this request — all of them, not just the first.
    pub fn explain_request<'s>(
        &'s self,
        attributes: &Attributes<'_>,
    ) -> Vec<(Grant<'s>, &'s PolicyRule)> {
        let mut out = Vec::new();
        for grant in self.explain(attributes.user, attributes.namespace) {
            if let Ok(rules) = grant.rules {
                for rule in rules.iter().filter(|r| rule_allows(attributes, r)) {
                    out.push((grant.clone(), rule));
                }
            }
        }
        out
    }

    /// Every rule that applies to `user` in `namespace` (upstream's `RulesFor`): the rules of
    /// every applicable ClusterRoleBinding, then (for a non-empty namespace) of every
    /// applicable RoleBinding there.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> ResolvedRules {
        let mut out = ResolvedRules::default();
        for grant in self.explain(user, namespace) {
            match grant.rules {
                Ok(rules) => out.rules.extend_from_slice(rules),
                Err(e) => out.errors.push(e.to_string()),
            }
        }
        out
    }
}

impl Authorizer for RbacAuthorizer {
    fn authorize<'s>(&'s self, attributes: &Attributes<'_>) -> Verdict<'s> {
        let mut errors = Vec::new();
        if let Some(allowed) = self.check_index(&self.cluster_index, attributes, &mut errors) {
            return Verdict::allow(Reason::Allowed(allowed));
        }
        if !attributes.namespace.is_empty()
            && let Some(index) = self.namespace_index.get(attributes.namespace)
            && let Some(allowed) = self.check_index(index, attributes, &mut errors)
        {
            return Verdict::allow(Reason::Allowed(allowed));
        }
        let reason = if errors.is_empty() {
            Reason::None
        } else {
            Reason::ResolutionErrors(errors)
        };
        Verdict {
            decision: Decision::NoOpinion,
            reason,
        }
    }
}

fn name_of(meta: &kybern_core::api::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn ns_of(meta: &kybern_core::api::meta::v1::ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}
