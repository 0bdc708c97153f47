//! Parsed label selectors: [`Operator`], [`Requirement`] and [`Selector`], with upstream's
//! construction rules, canonical printing and matching semantics.

use std::fmt;
use std::str::FromStr;

use crate::validation::field::{ErrorList, FieldError, FieldPath};

use super::keycmp;
use super::parse::{self, SelectorParseError};
use super::set::{Labels, validate_key, validate_value};

/// A selector operator, upstream's `selection.Operator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `in`: the label is present and its value is one of the values.
    In,
    /// `notin`: the label is absent, or its value is none of the values.
    NotIn,
    /// `=`: the label is present with exactly the value.
    Equals,
    /// `==`: same as `=`, kept distinct for printing.
    DoubleEquals,
    /// `!=`: the label is absent, or its value differs.
    NotEquals,
    /// `exists`: the label is present (any value).
    Exists,
    /// `!` (does not exist): the label is absent.
    DoesNotExist,
    /// `gt`: the label is present, an integer, and greater than the value.
    GreaterThan,
    /// `lt`: the label is present, an integer, and less than the value.
    LessThan,
}

impl Operator {
    /// Every operator, in upstream's `validRequirementOperators` order.
    pub const ALL: [Operator; 9] = [
        Operator::In,
        Operator::NotIn,
        Operator::Equals,
        Operator::DoubleEquals,
        Operator::NotEquals,
        Operator::GreaterThan,
        Operator::LessThan,
        Operator::Exists,
        Operator::DoesNotExist,
    ];

    /// Upstream's spelling: `in`, `notin`, `=`, `==`, `!=`, `exists`, `!`, `gt`, `lt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operator string is not one of upstream's selection operators.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown selector operator {0:?}; expected one of in, notin, =, ==, !=, gt, lt, exists, !")]
pub struct UnknownOperator(pub String);

impl FromStr for Operator {
    type Err = UnknownOperator;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operator::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| UnknownOperator(s.to_owned()))
    }
}

/// A requirement failed upstream's `NewRequirement` checks; every problem is listed with its
/// field path (`key`, `operator`, `values`, `values[0]`, `values[0][<key>]`, under an optional
/// prefix).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", render_aggregate(&self.0))]
pub struct RequirementError(pub ErrorList);

/// Renders an error list the way upstream's aggregate does, naming an empty field path `<nil>`
/// as Go's `field.Error` does for a nil path.
pub(crate) fn render_aggregate(errs: &ErrorList) -> String {
    let one = |e: &FieldError| {
        if e.field.as_str().is_empty() {
            format!("<nil>: {}", e.body())
        } else {
            e.to_string()
        }
    };
    match errs.0.as_slice() {
        [single] => one(single),
        many => format!("[{}]", many.iter().map(one).collect::<Vec<_>>().join(", ")),
    }
}

/// One `key <operator> values` term of a label selector.
///
/// Built by [`Requirement::new`] (validated) or by [`Selector::parse`]. Values keep the order
/// given (the parser gives them sorted and deduplicated); printing sorts them.
///
/// Every constructor goes through [`Requirement::new_unchecked`], which also precomputes what
/// matching needs: the integer of a `gt`/`lt` value and the 8-byte heads of the key and the
/// values that [`super::LabelMap`] compares instead of the strings. Those fields are derived
/// from key, operator and values, so the derived comparisons and hash stay consistent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
    /// For `gt`/`lt`: the single value parsed as an integer at construction.
    int_value: Option<i64>,
    /// `keycmp::head` of the key.
    key_head: u64,
    /// `keycmp::head` of the first [`HEADED_VALUES`] values (0 past the end), kept inline so
    /// building a requirement allocates nothing more; later values compare as strings.
    value_heads: [u64; HEADED_VALUES],
}

/// How many values of a requirement carry a cached head: `=`, `==`, `!=` have one value, and
/// most `in`/`notin` sets are small.
const HEADED_VALUES: usize = 2;

impl fmt::Debug for Requirement {
    /// Key, operator and values (the cached heads are left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("key", &self.key)
            .field("operator", &self.operator)
            .field("values", &self.values)
            .field("int_value", &self.int_value)
            .finish()
    }
}

impl Requirement {
    /// Upstream's `NewRequirement` with an empty path prefix.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, RequirementError> {
        Self::new_at(key, operator, values, &FieldPath::root())
    }

    /// Upstream's `NewRequirement` with error paths under `path` (e.g.
    /// `spec.selector.matchExpressions[0]`):
    /// the key must be a qualified name; `in`/`notin` need at least one value; `=`, `==`, `!=`
    /// exactly one; `exists`/`!` none; `gt`/`lt` exactly one integer; every value must be a valid
    /// label value.
    pub fn new_at(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
        path: &FieldPath,
    ) -> Result<Self, RequirementError> {
        let key = key.into();
        let mut errs = ErrorList::new();
        if let Some(e) = validate_key(&key, &path.child("key")) {
            errs.push(e);
        }
        let values_path = path.child("values");
        check_values(operator, &values, &values_path, &mut errs);
        for (i, v) in values.iter().enumerate() {
            if let Some(e) = validate_value(&key, v, &values_path.index(i)) {
                errs.push(e);
            }
        }
        if errs.is_empty() {
            Ok(Self::new_unchecked(key, operator, values))
        } else {
            Err(RequirementError(errs))
        }
    }

    /// Like [`Requirement::new_at`] but with the operator given as a string (as in
    /// `metav1.LabelSelectorRequirement` after conversion, or test data): an unknown operator is
    /// reported as `Unsupported value` at `path.operator`, alongside any key and value errors.
    pub fn from_operator_str(
        key: impl Into<String>,
        operator: &str,
        values: Vec<String>,
        path: &FieldPath,
    ) -> Result<Self, RequirementError> {
        match operator.parse::<Operator>() {
            Ok(op) => Self::new_at(key, op, values, path),
            Err(_) => {
                let key = key.into();
                let mut errs = ErrorList::new();
                if let Some(e) = validate_key(&key, &path.child("key")) {
                    errs.push(e);
                }
                let supported: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
                errs.push(FieldError::not_supported(
                    &path.child("operator"),
                    operator,
                    &supported,
                ));
                let values_path = path.child("values");
                for (i, v) in values.iter().enumerate() {
                    if let Some(e) = validate_value(&key, v, &values_path.index(i)) {
                        errs.push(e);
                    }
                }
                Err(RequirementError(errs))
            }
        }
    }

    /// A requirement without any validation (upstream builds these in
    /// `SelectorFromValidatedSet`). Matching stays well-defined for any input.
    pub fn new_unchecked(key: impl Into<String>, operator: Operator, values: Vec<String>) -> Self {
        let int_value = match (operator, values.as_slice()) {
            (Operator::GreaterThan | Operator::LessThan, [one]) => one.parse::<i64>().ok(),
            _ => None,
        };
        let key = key.into();
        Requirement {
            key_head: keycmp::head(&key),
            value_heads: std::array::from_fn(|i| values.get(i).map_or(0, |v| keycmp::head(v))),
            key,
            operator,
            values,
            int_value,
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values in stored order (sorted and deduplicated when parsed).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// The cached head of the key (see `keycmp::head`).
    #[inline(always)]
    pub(crate) fn key_head(&self) -> u64 {
        self.key_head
    }

    #[inline]
    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| keycmp::eq(v, value))
    }

    #[inline(always)]
    fn has_value_headed(&self, value: &str, head: u64) -> bool {
        let (headed, rest) = self.values.split_at(self.values.len().min(HEADED_VALUES));
        headed
            .iter()
            .zip(&self.value_heads)
            .any(|(v, &h)| keycmp::eq_headed(h, v, head, value))
            || rest.iter().any(|v| keycmp::eq(v, value))
    }

    /// [`Requirement::matches_value`] for a label value given with its cached head (as a
    /// [`super::LabelMap`] stores it): the same answer, comparing heads before strings.
    #[inline(always)]
    pub(crate) fn matches_headed(&self, value: Option<(&str, u64)>) -> bool {
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|(v, h)| self.has_value_headed(v, h))
            }
            Operator::NotIn | Operator::NotEquals => {
                value.is_none_or(|(v, h)| !self.has_value_headed(v, h))
            }
            _ => self.matches_value(value.map(|(v, _)| v)),
        }
    }

    /// Whether the labels satisfy this requirement, as upstream: `!=` and `notin` match when the
    /// key is absent; `gt`/`lt` need the label value to parse as an integer.
    #[inline]
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.matches_value(labels.get_label(&self.key))
    }

    /// Whether a label value (`None`: label absent) satisfies this requirement.
    #[inline(always)]
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => value.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(v), Some(limit)) = (value, self.int_value) else {
                    return false;
                };
                match v.parse::<i64>() {
                    Ok(n) if self.operator == Operator::GreaterThan => n > limit,
                    Ok(n) => n < limit,
                    Err(_) => false,
                }
            }
        }
    }
}

fn check_values(op: Operator, values: &[String], path: &FieldPath, errs: &mut ErrorList) {
    let as_json = || serde_json::Value::from(values.to_vec());
    match op {
        Operator::In | Operator::NotIn => {
            if values.is_empty() {
                errs.push(FieldError::invalid(
                    path,
                    as_json(),
                    "for 'in', 'notin' operators, values set can't be empty",
                ));
            }
        }
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
            if values.len() != 1 {
                errs.push(FieldError::invalid(
                    path,
                    as_json(),
                    "exact-match compatibility requires one single value",
                ));
            }
        }
        Operator::Exists | Operator::DoesNotExist => {
            if !values.is_empty() {
                errs.push(FieldError::invalid(
                    path,
                    as_json(),
                    "values set must be empty for exists and does not exist",
                ));
            }
        }
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                errs.push(FieldError::invalid(
                    path,
                    as_json(),
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
            }
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    errs.push(FieldError::invalid(
                        &path.index(i),
                        v.as_str(),
                        "for 'Gt', 'Lt' operators, the value must be an integer",
                    ));
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream's `Requirement.String()`: `!key`, `key`, `key=v`, `key==v`, `key!=v`,
    /// `key in (a,b)`, `key notin (a,b)`, `key>1`, `key<1`; values printed sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let (op, parens) = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => ("=", false),
            Operator::DoubleEquals => ("==", false),
            Operator::NotEquals => ("!=", false),
            Operator::In => (" in ", true),
            Operator::NotIn => (" notin ", true),
            Operator::GreaterThan => (">", false),
            Operator::LessThan => ("<", false),
        };
        f.write_str(op)?;
        if parens {
            f.write_str("(")?;
        }
        if self.values.is_sorted() {
            write_joined(f, self.values.iter())?;
        } else {
            let mut sorted: Vec<&String> = self.values.iter().collect();
            sorted.sort();
            write_joined(f, sorted.into_iter())?;
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

fn write_joined<'a>(
    f: &mut fmt::Formatter<'_>,
    values: impl Iterator<Item = &'a String>,
) -> fmt::Result {
    for (i, v) in values.enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        f.write_str(v)?;
    }
    Ok(())
}

/// A label selector: the AND of its requirements, kept sorted by key (stable), or the special
/// selector that matches nothing.
///
/// [`Selector::everything`] (no requirements, also what `""` parses to) matches every label set;
/// [`Selector::nothing`] matches none. Both print as `""`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// The selector matching every label set (upstream's `Everything()`).
    pub fn everything() -> Self {
        Selector::default()
    }

    /// The selector matching no label set (upstream's `Nothing()`).
    pub fn nothing() -> Self {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses upstream's selector syntax, e.g. `a=b,c!=d,e in (x,y),!f,g,h notin (z),i>3`.
    pub fn parse(selector: &str) -> Result<Self, SelectorParseError> {
        parse::parse_requirements(selector).map(Self::from_requirements)
    }

    /// A selector of the given requirements, sorted by key (stable, as upstream's parser).
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements,
            nothing: false,
        }
    }

    /// Upstream's `Add`: a copy with more requirements, re-sorted by key. Adding to
    /// [`Selector::nothing`] leaves it unchanged.
    pub fn add(&self, more: impl IntoIterator<Item = Requirement>) -> Self {
        if self.nothing {
            return self.clone();
        }
        let mut reqs = self.requirements.clone();
        reqs.extend(more);
        Self::from_requirements(reqs)
    }

    /// Whether every requirement matches the labels (always `true` for `everything`, always
    /// `false` for `nothing`). Never allocates.
    #[inline]
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        !self.nothing && labels.matches_all_sorted(&self.requirements)
    }

    /// Upstream's `Empty()`: `true` when the selector does not restrict anything
    /// ([`Selector::everything`]); `false` for [`Selector::nothing`].
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Upstream's `MatchesNothing`: `true` only for [`Selector::nothing`] (conflicting
    /// requirements such as `a,!a` are not detected).
    pub fn matches_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, or `None` for [`Selector::nothing`] (upstream's `selectable == false`).
    pub fn requirements(&self) -> Option<&[Requirement]> {
        (!self.nothing).then_some(self.requirements.as_slice())
    }

    /// Upstream's `RequiresExactMatch`: the value the first requirement on `label` pins it to,
    /// when that requirement is `=`, `==` or `in` with a single value.
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [one]) => Some(one),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    /// The canonical string form (requirements joined by `,`); re-parses to an equal selector
    /// except for [`Selector::nothing`], which prints as `""` like upstream.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}
