//! Scalar resolution: turning a YAML scalar's text (plus its style and tag) into a JSON value.
//!
//! Plain (unquoted) scalars follow the YAML 1.2 core schema with one Kubernetes-compatible
//! extension (leading-zero octal); quoted and block scalars are always strings. See the
//! [`crate::load`] module documentation for the full table and the deviations from go-yaml.

use serde_json::{Number, Value};

/// Why a scalar could not become a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScalarError {
    /// `.inf`, `-.inf` or `.nan` (plain or `!!float`): JSON has no such numbers.
    NonFinite,
    /// An explicit `!!int`/`!!float`/`!!bool`/`!!null` tag on text that is not one.
    BadTagged(&'static str),
}

/// The core-schema tags this loader honours on scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarTag {
    /// No tag, or a tag this loader does not know (resolved as if untagged).
    None,
    /// `!` (the non-specific tag) or `!!str`/`!!binary`: always a string.
    Str,
    /// `!!int`.
    Int,
    /// `!!float`.
    Float,
    /// `!!bool`.
    Bool,
    /// `!!null`.
    Null,
}

/// Resolves a scalar: `plain` is whether it was written without quotes or block indicators.
pub(crate) fn resolve(text: &str, plain: bool, tag: ScalarTag) -> Result<Value, ScalarError> {
    match tag {
        ScalarTag::Str => Ok(Value::String(text.to_owned())),
        ScalarTag::None if !plain => Ok(Value::String(text.to_owned())),
        ScalarTag::None => resolve_plain(text),
        ScalarTag::Null => match text {
            "" | "~" | "null" | "Null" | "NULL" => Ok(Value::Null),
            _ => Err(ScalarError::BadTagged("!!null")),
        },
        ScalarTag::Bool => parse_bool(text)
            .map(Value::Bool)
            .ok_or(ScalarError::BadTagged("!!bool")),
        ScalarTag::Int => match parse_int(text) {
            Some(v) => Ok(v),
            None => Err(ScalarError::BadTagged("!!int")),
        },
        ScalarTag::Float => match parse_float(text) {
            Some(f) => finite(f),
            // `!!float 3` is a valid float too.
            None => match parse_int(text) {
                Some(Value::Number(n)) => n
                    .as_f64()
                    .map_or(Err(ScalarError::BadTagged("!!float")), finite),
                _ => Err(ScalarError::BadTagged("!!float")),
            },
        },
    }
}

/// The string form of a scalar used as a mapping key: strings as-is, other scalars as their
/// canonical JSON text (`1` → `"1"`, `0x10` → `"16"`, `true` → `"true"`, `~` → `"null"`), like
/// sigs.k8s.io/yaml, which stringifies non-string keys.
pub(crate) fn key_string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Null => Some("null".to_owned()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn finite(f: f64) -> Result<Value, ScalarError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or(ScalarError::NonFinite)
}

/// Plain-scalar resolution (YAML 1.2 core schema + leading-zero octal).
fn resolve_plain(text: &str) -> Result<Value, ScalarError> {
    let Some(&first) = text.as_bytes().first() else {
        return Ok(Value::Null);
    };
    // Fast path: most plain scalars are words; only a few leading bytes can start a non-string.
    if !matches!(
        first,
        b'0'..=b'9' | b'-' | b'+' | b'.' | b'~' | b'n' | b'N' | b't' | b'T' | b'f' | b'F'
    ) {
        return Ok(Value::String(text.to_owned()));
    }
    match text {
        "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        _ => {}
    }
    if let Some(b) = parse_bool(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(v) = parse_int(text) {
        return Ok(v);
    }
    if let Some(f) = parse_float(text) {
        return finite(f);
    }
    Ok(Value::String(text.to_owned()))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Integers: `[-+]?[0-9]+` (decimal; a leading `0` followed by octal digits only is octal, as
/// in YAML 1.1 and go-yaml), `0o[0-7]+`, `0x[0-9a-fA-F]+`.
///
/// A decimal integer beyond the `i64`/`u64` range becomes a float (go-yaml parses it with
/// `ParseFloat`); an octal or hexadecimal one that does not fit stays a string (`None` here).
fn parse_int(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    if let Some(hex) = text.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return radix(oct, 8);
    }
    let digits = match bytes.first() {
        Some(b'-' | b'+') => &text[1..],
        _ => text,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b < b'8') {
        // Leading-zero octal (`0644`), the YAML 1.1 form Kubernetes manifests use for modes.
        let v = radix(&digits[1..], 8)?;
        return if text.starts_with('-') {
            v.as_i64()
                .and_then(i64::checked_neg)
                .map(|n| Value::Number(n.into()))
        } else {
            Some(v)
        };
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    if let Ok(u) = digits.parse::<u64>()
        && !text.starts_with('-')
    {
        return Some(Value::Number(u.into()));
    }
    // Out of range: a float, like go-yaml.
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

fn radix(digits: &str, radix: u32) -> Option<Value> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let u = u64::from_str_radix(digits, radix).ok()?;
    Some(match i64::try_from(u) {
        Ok(i) => Value::Number(i.into()),
        Err(_) => Value::Number(u.into()),
    })
}

/// Floats: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?.inf`, `.nan`.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - s;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    text.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(text: &str, plain: bool, tag: ScalarTag, want: Result<Value, ScalarError>) {
        assert_eq!(
            resolve(text, plain, tag),
            want,
            "{text:?} plain={plain} {tag:?}"
        );
    }

    #[test]
    fn resolution_table() {
        use ScalarTag as T;
        let ok = Ok::<Value, ScalarError>;
        let table: Vec<(&str, bool, T, Result<Value, ScalarError>)> = vec![
            ("", true, T::None, ok(Value::Null)),
            ("~", true, T::None, ok(Value::Null)),
            ("null", true, T::None, ok(Value::Null)),
            ("Null", true, T::None, ok(Value::Null)),
            ("NULL", true, T::None, ok(Value::Null)),
            ("nULL", true, T::None, ok(json!("nULL"))),
            ("null", false, T::None, ok(json!("null"))),
            ("true", true, T::None, ok(json!(true))),
            ("True", true, T::None, ok(json!(true))),
            ("FALSE", true, T::None, ok(json!(false))),
            ("yes", true, T::None, ok(json!("yes"))),
            ("on", true, T::None, ok(json!("on"))),
            ("no", true, T::None, ok(json!("no"))),
            ("0", true, T::None, ok(json!(0))),
            ("-12", true, T::None, ok(json!(-12))),
            ("+12", true, T::None, ok(json!(12))),
            ("0o17", true, T::None, ok(json!(15))),
            ("0x1F", true, T::None, ok(json!(31))),
            ("0644", true, T::None, ok(json!(420))),
            ("-010", true, T::None, ok(json!(-8))),
            ("09", true, T::None, ok(json!(9))),
            ("18446744073709551615", true, T::None, ok(json!(u64::MAX))),
            ("99999999999999999999", true, T::None, ok(json!(1e20))),
            (
                "0xFFFFFFFFFFFFFFFFFF",
                true,
                T::None,
                ok(json!("0xFFFFFFFFFFFFFFFFFF")),
            ),
            ("1.5", true, T::None, ok(json!(1.5))),
            ("-.5", true, T::None, ok(json!(-0.5))),
            ("5.", true, T::None, ok(json!(5.0))),
            ("1e3", true, T::None, ok(json!(1000.0))),
            ("1.5E-2", true, T::None, ok(json!(0.015))),
            ("1e", true, T::None, ok(json!("1e"))),
            (".", true, T::None, ok(json!("."))),
            ("1_000", true, T::None, ok(json!("1_000"))),
            ("1:20", true, T::None, ok(json!("1:20"))),
            ("2001-12-14", true, T::None, ok(json!("2001-12-14"))),
            (".inf", true, T::None, Err(ScalarError::NonFinite)),
            ("-.Inf", true, T::None, Err(ScalarError::NonFinite)),
            (".NaN", true, T::None, Err(ScalarError::NonFinite)),
            ("12", false, T::None, ok(json!("12"))),
            ("12", true, T::Str, ok(json!("12"))),
            ("12", false, T::Int, ok(json!(12))),
            ("x", true, T::Int, Err(ScalarError::BadTagged("!!int"))),
            ("3", true, T::Float, ok(json!(3.0))),
            ("true", false, T::Bool, ok(json!(true))),
            ("yes", true, T::Bool, Err(ScalarError::BadTagged("!!bool"))),
            ("", true, T::Null, ok(Value::Null)),
            ("x", true, T::Null, Err(ScalarError::BadTagged("!!null"))),
            ("nginx:1.14.2", true, T::None, ok(json!("nginx:1.14.2"))),
        ];
        for (text, plain, tag, want) in table {
            check(text, plain, tag, want);
        }
    }

    #[test]
    fn keys_stringify() {
        assert_eq!(key_string(json!(1)).as_deref(), Some("1"));
        assert_eq!(key_string(json!(true)).as_deref(), Some("true"));
        assert_eq!(key_string(Value::Null).as_deref(), Some("null"));
        assert_eq!(key_string(json!([1])), None);
    }
}
