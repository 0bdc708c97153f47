//! `IntOrString`: a value that is either an int32 or a string (ports, percentages), as
//! upstream's `k8s.io/apimachinery/pkg/util/intstr`.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An int32 or a string, as upstream's `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// An integer value.
    Int(i32),
    /// A string value (a named port, a percentage such as `25%`).
    String(String),
}

/// Why an `IntOrString` could not be read as an integer or a percentage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntOrStringError {
    /// No value at all (upstream: a nil pointer).
    #[error("nil value for IntOrString")]
    Nil,
    /// A string without a trailing `%`.
    #[error(
        "invalid value for IntOrString: invalid type: string is not a percentage (expected an integer or a string such as \"25%\", got {value:?})"
    )]
    NotPercentage {
        /// The rejected string.
        value: String,
    },
    /// A string ending in `%` whose number part is not an integer.
    #[error(
        "invalid value for IntOrString: invalid value {value:?}: expected an integer before '%'"
    )]
    InvalidPercentage {
        /// The rejected string.
        value: String,
    },
    /// The scaled value does not fit an `i32`.
    #[error("invalid value for IntOrString: {value:?} of {total} does not fit an int32")]
    Overflow {
        /// The percentage or integer.
        value: String,
        /// The total it was applied to.
        total: i32,
    },
}

/// Go's `strconv.Atoi` for a 64-bit `int`: optional sign, decimal digits, in range.
fn atoi(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

impl IntOrString {
    /// `Int` if `s` is a decimal int32, otherwise `String(s)` (upstream `intstr.Parse`).
    pub fn parse(s: &str) -> IntOrString {
        match s.parse::<i32>() {
            Ok(i) => IntOrString::Int(i),
            Err(_) => IntOrString::String(s.to_owned()),
        }
    }

    /// The integer value; a string is read as a decimal integer, `0` if it is not one and
    /// clamped to the `i64` range if it is too large (upstream `IntValue`).
    pub fn int_value(&self) -> i64 {
        match self {
            IntOrString::Int(i) => i64::from(*i),
            IntOrString::String(s) => match atoi(s) {
                Some(v) => v,
                None => {
                    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
                    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                        if s.starts_with('-') {
                            i64::MIN
                        } else {
                            i64::MAX
                        }
                    } else {
                        0
                    }
                }
            },
        }
    }

    /// The integer, or the percentage number and `true` for strings like `"25%"`
    /// (upstream `getIntOrPercentValueSafely`). Other strings are errors.
    pub fn int_or_percent(&self) -> Result<(i64, bool), IntOrStringError> {
        match self {
            IntOrString::Int(i) => Ok((i64::from(*i), false)),
            IntOrString::String(s) => {
                let Some(number) = s.strip_suffix('%') else {
                    return Err(IntOrStringError::NotPercentage { value: s.clone() });
                };
                atoi(number)
                    .map(|v| (v, true))
                    .ok_or_else(|| IntOrStringError::InvalidPercentage { value: s.clone() })
            }
        }
    }

    /// An integer as is, or a percentage of `total`, rounded up (`ceil`) or down (`floor`)
    /// (upstream `GetScaledValueFromIntOrPercent`). A string without `%` is an error.
    pub fn scaled_value_from_int_or_percent(
        &self,
        total: i32,
        round_up: bool,
    ) -> Result<i32, IntOrStringError> {
        let (value, is_percent) = self.int_or_percent()?;
        let scaled = if is_percent {
            // The same float computation as upstream, so rounding matches bit for bit.
            let exact = value as f64 * f64::from(total) / 100.0;
            let r = if round_up {
                exact.ceil()
            } else {
                exact.floor()
            };
            if r >= f64::from(i32::MIN) && r <= f64::from(i32::MAX) {
                Some(r as i64)
            } else {
                None
            }
        } else {
            Some(value)
        };
        scaled
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| IntOrStringError::Overflow {
                value: self.to_string(),
                total,
            })
    }
}

/// [`IntOrString::scaled_value_from_int_or_percent`] for an optional value: `None` is an
/// error, as a nil pointer is upstream.
pub fn scaled_value_from_int_or_percent(
    value: Option<&IntOrString>,
    total: i32,
    round_up: bool,
) -> Result<i32, IntOrStringError> {
    value
        .ok_or(IntOrStringError::Nil)?
        .scaled_value_from_int_or_percent(total, round_up)
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl From<i32> for IntOrString {
    fn from(v: i32) -> Self {
        IntOrString::Int(v)
    }
}

impl From<&str> for IntOrString {
    fn from(v: &str) -> Self {
        IntOrString::String(v.to_owned())
    }
}

impl From<String> for IntOrString {
    fn from(v: String) -> Self {
        IntOrString::String(v)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => fmt::Display::fmt(i, f),
            IntOrString::String(s) => f.pad(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => s.serialize_i32(*i),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

struct IntOrStringVisitor;

impl IntOrStringVisitor {
    fn int<E: de::Error>(v: impl TryInto<i32> + fmt::Display + Copy) -> Result<IntOrString, E> {
        v.try_into().map(IntOrString::Int).map_err(|_| {
            E::custom(format_args!(
                "invalid IntOrString {v}: expected an int32 (-2147483648..=2147483647) or a string"
            ))
        })
    }
}

impl<'de> Visitor<'de> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an IntOrString: an int32 or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
        Self::int(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
        Self::int(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<IntOrString, E> {
        Err(E::custom(format_args!(
            "invalid IntOrString {v}: expected an int32 or a string, not a fractional number"
        )))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v))
    }

    /// `null` leaves upstream's value at its zero, `Int(0)`.
    fn visit_unit<E: de::Error>(self) -> Result<IntOrString, E> {
        Ok(IntOrString::Int(0))
    }

    fn visit_none<E: de::Error>(self) -> Result<IntOrString, E> {
        Ok(IntOrString::Int(0))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<IntOrString, D::Error> {
        d.deserialize_any(IntOrStringVisitor)
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntOrStringVisitor)
    }
}

impl schemars::JsonSchema for IntOrString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IntOrString".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        })
    }
}
