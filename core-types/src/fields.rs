//! Field selectors, as upstream's `k8s.io/apimachinery/pkg/fields`: `field=value`,
//! `field==value` and `field!=value` terms joined by `,`, with `\`, `,` and `=` in values escaped
//! by a backslash.
//!
//! ```
//! use std::collections::BTreeMap;
//! use kybern_core::fields::FieldSelector;
//!
//! let sel = FieldSelector::parse("status.phase!=Failed,metadata.name=web-0").unwrap();
//! let fields = BTreeMap::from([
//!     ("metadata.name".to_owned(), "web-0".to_owned()),
//!     ("status.phase".to_owned(), "Running".to_owned()),
//! ]);
//! assert!(sel.matches(&fields));
//! assert_eq!(sel.to_string(), "metadata.name=web-0,status.phase!=Failed");
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;

/// Read access to an object's selectable fields (`metadata.name`, `spec.nodeName`, ...).
///
/// A field the object does not have reads as `None`, which matches like the empty string (as
/// upstream's `Fields.Get`). Implemented for `BTreeMap`/`HashMap` of strings and slices of pairs;
/// per-kind getters can implement it directly.
pub trait Fields {
    /// The field's value, `None` when the object has no such field.
    fn get_field(&self, field: &str) -> Option<&str>;
}

impl<F: Fields + ?Sized> Fields for &F {
    fn get_field(&self, field: &str) -> Option<&str> {
        (**self).get_field(field)
    }
}

impl Fields for BTreeMap<String, String> {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl<S: BuildHasher> Fields for HashMap<String, String, S> {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.get(field).map(String::as_str)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Fields for [(K, V)] {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref() == field)
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Fields for [(K, V); N] {
    fn get_field(&self, field: &str) -> Option<&str> {
        self.as_slice().get_field(field)
    }
}

/// A field selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==`: the field equals the value (printed as `=`).
    Equals,
    /// `!=`: the field differs from the value.
    NotEquals,
}

impl FieldOperator {
    /// `=` or `!=`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

/// One `field op value` term; `value` is unescaped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// The operator.
    pub operator: FieldOperator,
    /// The (unescaped) value.
    pub value: String,
}

impl FieldRequirement {
    /// Whether the fields satisfy this term (a missing field reads as `""`).
    #[inline]
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        let v = fields.get_field(&self.field).unwrap_or("");
        match self.operator {
            FieldOperator::Equals => v == self.value,
            FieldOperator::NotEquals => v != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.field,
            self.operator.as_str(),
            escape_value(&self.value)
        )
    }
}

/// A field value escape problem, upstream's `InvalidEscapeSequence` / `UnescapedRune`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnescapeError {
    /// A backslash not followed by `\`, `,` or `=` (or a trailing backslash).
    #[error("invalid field selector: invalid escape sequence: {sequence}")]
    InvalidEscapeSequence {
        /// The offending sequence, e.g. `\a` or `\`.
        sequence: String,
    },
    /// A bare `,` or `=` inside a value.
    #[error("invalid field selector: unescaped character in value: {character}")]
    UnescapedCharacter {
        /// The character (`,` or `=`).
        character: char,
    },
}

/// Why a field selector string did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldSelectorParseError {
    /// A term has no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    InvalidTerm {
        /// The whole selector.
        selector: String,
        /// The term that could not be split.
        term: String,
    },
    /// A value is badly escaped.
    #[error(transparent)]
    Unescape(#[from] UnescapeError),
}

/// A parsed field selector: the AND of its terms. The empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector matching everything (upstream's `Everything()`).
    pub fn everything() -> Self {
        FieldSelector::default()
    }

    /// Upstream's `ParseSelector`: splits on unescaped `,`, sorts the raw terms, skips empty
    /// ones, splits each at the first `!=`, `==` or `=`, and unescapes the value.
    pub fn parse(selector: &str) -> Result<Self, FieldSelectorParseError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::with_capacity(parts.len());
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(FieldSelectorParseError::InvalidTerm {
                    selector: selector.to_owned(),
                    term: part.to_owned(),
                });
            };
            let value = unescape_value(rhs)?;
            let operator = if op == "!=" {
                FieldOperator::NotEquals
            } else {
                FieldOperator::Equals
            };
            terms.push(FieldRequirement {
                field: lhs.to_owned(),
                operator,
                value,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Upstream's `ParseAndTransformSelector`: parse, then [`FieldSelector::transform`].
    pub fn parse_and_transform<E>(
        selector: &str,
        f: impl FnMut(&str, &str) -> Result<(String, String), E>,
    ) -> Result<Self, ParseAndTransformError<E>> {
        let sel = Self::parse(selector).map_err(ParseAndTransformError::Parse)?;
        sel.transform(f).map_err(ParseAndTransformError::Transform)
    }

    /// Upstream's `SelectorFromSet`: `field=value` terms for every entry (not validated).
    pub fn from_set(set: &BTreeMap<String, String>) -> Self {
        FieldSelector {
            terms: set
                .iter()
                .map(|(k, v)| FieldRequirement {
                    field: k.clone(),
                    operator: FieldOperator::Equals,
                    value: v.clone(),
                })
                .collect(),
        }
    }

    /// Upstream's `OneTermEqualSelector`.
    pub fn one_term_equal(field: impl Into<String>, value: impl Into<String>) -> Self {
        FieldSelector {
            terms: vec![FieldRequirement {
                field: field.into(),
                operator: FieldOperator::Equals,
                value: value.into(),
            }],
        }
    }

    /// Upstream's `OneTermNotEqualSelector`.
    pub fn one_term_not_equal(field: impl Into<String>, value: impl Into<String>) -> Self {
        FieldSelector {
            terms: vec![FieldRequirement {
                field: field.into(),
                operator: FieldOperator::NotEquals,
                value: value.into(),
            }],
        }
    }

    /// Upstream's `AndSelectors`: all terms of all selectors, in order.
    pub fn and(selectors: impl IntoIterator<Item = FieldSelector>) -> Self {
        FieldSelector {
            terms: selectors.into_iter().flat_map(|s| s.terms).collect(),
        }
    }

    /// The terms, in order.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// Whether the selector has no terms (matches everything).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether every term matches.
    #[inline]
    pub fn matches<F: Fields + ?Sized>(&self, fields: &F) -> bool {
        self.terms.iter().all(|t| t.matches(fields))
    }

    /// Upstream's `RequiresExactMatch`: the value of the first `=` term on `field`; `None` when
    /// the first term on `field` is `!=` or there is none.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        let t = self.terms.iter().find(|t| t.field == field)?;
        (t.operator == FieldOperator::Equals).then_some(t.value.as_str())
    }

    /// Upstream's `Transform`: maps every `(field, value)`; a term mapped to `("", "")` is
    /// dropped. Term order is preserved; the first error is returned.
    pub fn transform<E>(
        &self,
        mut f: impl FnMut(&str, &str) -> Result<(String, String), E>,
    ) -> Result<Self, E> {
        let mut terms = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            let (field, value) = f(&t.field, &t.value)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(FieldRequirement {
                field,
                operator: t.operator,
                value,
            });
        }
        Ok(FieldSelector { terms })
    }
}

/// Error of [`FieldSelector::parse_and_transform`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseAndTransformError<E> {
    /// The string did not parse.
    #[error(transparent)]
    Parse(FieldSelectorParseError),
    /// The transform function failed.
    #[error("{0}")]
    Transform(E),
}

impl fmt::Display for FieldSelector {
    /// Terms joined by `,`, values escaped; `==` prints as `=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = FieldSelectorParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldSelector::parse(s)
    }
}

/// Upstream's `EscapeValue`: `\` → `\\`, `,` → `\,`, `=` → `\=`.
pub fn escape_value(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', ',', '=']) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 4);
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Upstream's `UnescapeValue`: undoes [`escape_value`]; rejects unknown escapes, a trailing
/// backslash, and bare `,` or `=`.
pub fn unescape_value(value: &str) -> Result<String, UnescapeError> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    let mut in_slash = false;
    for c in value.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(UnescapeError::InvalidEscapeSequence {
                    sequence: format!("\\{c}"),
                });
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => return Err(UnescapeError::UnescapedCharacter { character: c }),
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err(UnescapeError::InvalidEscapeSequence {
            sequence: "\\".to_owned(),
        });
    }
    Ok(out)
}

/// Upstream's `splitTerms`: splits on `,` not preceded by an escaping backslash. The empty string
/// gives no terms.
pub fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::with_capacity(1);
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Upstream's `splitTerm`: `(lhs, operator, rhs)` split at the first position where `!=`, `==`
/// or `=` starts (tried in that order); `None` when there is none. `rhs` stays escaped.
pub fn split_term(term: &str) -> Option<(&str, &'static str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((&term[..i], op, rhs));
            }
        }
    }
    None
}
