//! Volume node affinity: whether a node satisfies a PersistentVolume's
//! `spec.nodeAffinity.required` node selector (upstream's `CheckNodeAffinity`).
//!
//! Terms are ORed, the requirements of a term ANDed. A selector without terms, or a term
//! without requirements, matches nothing. A term with an invalid requirement (unknown
//! operator, bad key or value, `Gt`/`Lt` with a non-integer) never matches, as upstream's
//! lazy-error node selector treats it.

use kybern_core::api::core::v1::{NodeSelector, NodeSelectorRequirement, PersistentVolume};
use kybern_core::labels::{Labels, Operator, Requirement};

/// Why a node does not satisfy a volume's node affinity.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeAffinityError {
    /// No term of the volume's required node selector matched the node.
    #[error("no matching NodeSelectorTerms")]
    NoMatchingTerms,
}

/// Checks `volume`'s required node affinity against a node with this name and labels.
/// A volume without node affinity fits every node.
///
/// # Errors
/// [`NodeAffinityError::NoMatchingTerms`] when the volume cannot be used on the node.
pub fn check_volume_node_affinity<L: Labels + ?Sized>(
    volume: &PersistentVolume,
    node_name: &str,
    node_labels: &L,
) -> Result<(), NodeAffinityError> {
    let required = volume
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref());
    match required {
        None => Ok(()),
        Some(selector) if node_selector_matches(selector, node_name, node_labels) => Ok(()),
        Some(_) => Err(NodeAffinityError::NoMatchingTerms),
    }
}

/// Whether a node (name and labels) matches a node selector: any term matches.
pub fn node_selector_matches<L: Labels + ?Sized>(
    selector: &NodeSelector,
    node_name: &str,
    node_labels: &L,
) -> bool {
    selector.node_selector_terms.iter().any(|term| {
        if term.match_expressions.is_empty() && term.match_fields.is_empty() {
            return false;
        }
        term.match_expressions
            .iter()
            .all(|r| expression_matches(r, node_labels))
            && term
                .match_fields
                .iter()
                .all(|r| field_matches(r, node_name))
    })
}

fn operator(name: &str) -> Option<Operator> {
    Some(match name {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::GreaterThan,
        "Lt" => Operator::LessThan,
        _ => return None,
    })
}

fn expression_matches<L: Labels + ?Sized>(req: &NodeSelectorRequirement, labels: &L) -> bool {
    let Some(op) = operator(&req.operator) else {
        return false;
    };
    match Requirement::new(req.key.clone(), op, req.values.clone()) {
        Ok(r) => r.matches(labels),
        Err(_) => false,
    }
}

fn field_matches(req: &NodeSelectorRequirement, node_name: &str) -> bool {
    if req.key != "metadata.name" || req.values.len() != 1 {
        return false;
    }
    let equal = req.values.first().is_some_and(|v| v == node_name);
    match req.operator.as_str() {
        "In" => equal,
        "NotIn" => !equal,
        _ => false,
    }
}

/// The node names a volume's node affinity pins it to: every term exactly one
/// `kubernetes.io/hostname In [...]` expression (upstream's
/// `GetLocalPersistentVolumeNodeNames`); `None` otherwise.
pub fn pinned_node_names(volume: &PersistentVolume) -> Option<std::collections::BTreeSet<String>> {
    let terms = &volume
        .spec
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required
        .as_ref()?
        .node_selector_terms;
    if terms.is_empty() {
        return None;
    }
    let mut names = std::collections::BTreeSet::new();
    for t in terms {
        let [e] = t.match_expressions.as_slice() else {
            return None;
        };
        if !t.match_fields.is_empty()
            || e.key != crate::annotations::HOSTNAME_LABEL
            || e.operator != "In"
        {
            return None;
        }
        names.extend(e.values.iter().cloned());
    }
    Some(names)
}
