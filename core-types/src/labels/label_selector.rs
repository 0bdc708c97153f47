//! `metav1.LabelSelector` (`matchLabels` + `matchExpressions`) conversion to [`Selector`] and to
//! a plain label map, and its API validation, as upstream's `metav1` helpers and
//! `metav1/validation`.

use std::collections::BTreeMap;

use crate::api::meta::v1::{LabelSelector, LabelSelectorRequirement};
use crate::validation::field::{ErrorList, FieldError, FieldPath};

use super::selector::{Operator, Requirement, RequirementError, Selector};
use crate::validation::names;

/// Why a `LabelSelector` could not be converted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelSelectorError {
    /// A `matchExpressions` operator is not `In`, `NotIn`, `Exists` or `DoesNotExist`.
    #[error("{0:?} is not a valid label selector operator")]
    InvalidOperator(String),
    /// A key or value failed upstream's `NewRequirement` checks.
    #[error(transparent)]
    Requirement(#[from] RequirementError),
    /// `In` with other than one value cannot become a `key=value` pair.
    #[error(
        "operator {0:?} without a single value cannot be converted into the old label selector format"
    )]
    NotSingleValue(String),
    /// `NotIn`, `Exists` and `DoesNotExist` cannot become `key=value` pairs.
    #[error("operator {0:?} cannot be converted into the old label selector format")]
    NotConvertible(String),
    /// An unknown operator met while converting to a map.
    #[error("{0:?} is not a valid selector operator")]
    InvalidMapOperator(String),
}

/// Options of [`validate_label_selector`], upstream's `LabelSelectorValidationOptions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LabelSelectorValidationOptions {
    /// Skip label value checks in `matchExpressions` values (for objects stored before the
    /// check existed).
    pub allow_invalid_label_value_in_selector: bool,
}

/// The `matchExpressions` operator as a selector operator.
fn expression_operator(op: &str) -> Option<Operator> {
    Some(match op {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        _ => return None,
    })
}

/// Upstream's `LabelSelectorAsSelector`: `None` (a nil selector) matches nothing; an empty
/// selector matches everything; otherwise `matchLabels` become `key=value` requirements and
/// `matchExpressions` become `in`/`notin`/exists/`!` requirements, all validated. The first
/// problem is returned (`matchLabels` checked in key order, then expressions in order).
pub fn label_selector_as_selector(
    selector: Option<&LabelSelector>,
) -> Result<Selector, LabelSelectorError> {
    let Some(ps) = selector else {
        return Ok(Selector::nothing());
    };
    if ps.match_labels.is_empty() && ps.match_expressions.is_empty() {
        return Ok(Selector::everything());
    }
    let mut reqs = Vec::with_capacity(ps.match_labels.len() + ps.match_expressions.len());
    for (k, v) in &ps.match_labels {
        reqs.push(Requirement::new(
            k.clone(),
            Operator::Equals,
            vec![v.clone()],
        )?);
    }
    for expr in &ps.match_expressions {
        let op = expression_operator(&expr.operator)
            .ok_or_else(|| LabelSelectorError::InvalidOperator(expr.operator.clone()))?;
        reqs.push(Requirement::new(expr.key.clone(), op, expr.values.clone())?);
    }
    Ok(Selector::from_requirements(reqs))
}

/// Upstream's `LabelSelectorAsMap`: `None` for a nil selector; otherwise `matchLabels` plus every
/// `In` expression with exactly one value. Any other expression is an error.
pub fn label_selector_as_map(
    selector: Option<&LabelSelector>,
) -> Result<Option<BTreeMap<String, String>>, LabelSelectorError> {
    let Some(ps) = selector else {
        return Ok(None);
    };
    let mut map = ps.match_labels.clone();
    for expr in &ps.match_expressions {
        match expr.operator.as_str() {
            "In" => match expr.values.as_slice() {
                [one] => {
                    map.insert(expr.key.clone(), one.clone());
                }
                _ => return Err(LabelSelectorError::NotSingleValue(expr.operator.clone())),
            },
            "NotIn" | "Exists" | "DoesNotExist" => {
                return Err(LabelSelectorError::NotConvertible(expr.operator.clone()));
            }
            _ => {
                return Err(LabelSelectorError::InvalidMapOperator(
                    expr.operator.clone(),
                ));
            }
        }
    }
    Ok(Some(map))
}

/// Upstream's `SetAsLabelSelector`: a selector with the set as `matchLabels`.
pub fn set_as_label_selector(labels: &BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: labels.clone(),
        ..LabelSelector::default()
    }
}

/// Upstream's `FormatLabelSelector`: the selector string, `<none>` when it is empty (or nil),
/// `<error>` when it does not convert.
pub fn format_label_selector(selector: Option<&LabelSelector>) -> String {
    match label_selector_as_selector(selector) {
        Err(_) => "<error>".to_owned(),
        Ok(s) => {
            let text = s.to_string();
            if text.is_empty() {
                "<none>".to_owned()
            } else {
                text
            }
        }
    }
}

/// Upstream's `ValidateLabelSelector`: every problem in `matchLabels` (at `path.matchLabels`) and
/// in each expression (at `path.matchExpressions[i].{operator,values,key}`). A nil selector is
/// valid.
pub fn validate_label_selector(
    selector: Option<&LabelSelector>,
    opts: LabelSelectorValidationOptions,
    path: &FieldPath,
) -> ErrorList {
    let Some(ps) = selector else {
        return ErrorList::new();
    };
    let mut errs =
        crate::validation::meta::validate_labels(&ps.match_labels, &path.child("matchLabels"));
    let exprs_path = path.child("matchExpressions");
    for (i, expr) in ps.match_expressions.iter().enumerate() {
        errs.extend(validate_label_selector_requirement(
            expr,
            opts,
            &exprs_path.index(i),
        ));
    }
    errs
}

/// Upstream's `ValidateLabelSelectorRequirement`.
pub fn validate_label_selector_requirement(
    req: &LabelSelectorRequirement,
    opts: LabelSelectorValidationOptions,
    path: &FieldPath,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let values_path = path.child("values");
    match req.operator.as_str() {
        "In" | "NotIn" => {
            if req.values.is_empty() {
                errs.push(FieldError::required(
                    &values_path,
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !req.values.is_empty() {
                errs.push(FieldError::forbidden(
                    &values_path,
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        _ => errs.push(FieldError::invalid(
            &path.child("operator"),
            req.operator.as_str(),
            "not a valid selector operator",
        )),
    }
    errs.extend(crate::validation::meta::validate_label_name(
        &req.key,
        &path.child("key"),
    ));
    if !opts.allow_invalid_label_value_in_selector {
        for (i, v) in req.values.iter().enumerate() {
            for msg in names::is_valid_label_value(v) {
                errs.push(FieldError::invalid(&values_path.index(i), v.as_str(), msg));
            }
        }
    }
    errs
}

impl LabelSelector {
    /// This selector as a [`Selector`] (see [`label_selector_as_selector`]).
    pub fn to_selector(&self) -> Result<Selector, LabelSelectorError> {
        label_selector_as_selector(Some(self))
    }
}
