//! `Time` and `MicroTime`: Kubernetes timestamps with upstream's wire format.
//!
//! Upstream (`metav1.Time`) reads any RFC 3339 timestamp and writes it in UTC at whole-second
//! precision (`2006-01-02T15:04:05Z`); `metav1.MicroTime` keeps microseconds
//! (`2006-01-02T15:04:05.000000Z`). Both follow that here, backed by [`jiff::Timestamp`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A timestamp with whole-second precision on the wire (`metav1.Time`).
///
/// Parsing accepts any RFC 3339 form (fractional seconds, offsets); the stored value keeps what
/// was parsed, but formatting truncates to seconds in UTC, exactly as upstream encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub jiff::Timestamp);

/// A timestamp with microsecond precision on the wire (`metav1.MicroTime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub jiff::Timestamp);

/// A timestamp string that is not RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {input:?}: expected RFC 3339, e.g. \"2006-01-02T15:04:05Z\" ({reason})")]
pub struct TimeParseError {
    /// The rejected input.
    pub input: String,
    /// What the parser said.
    pub reason: String,
}

fn parse_ts(s: &str) -> Result<jiff::Timestamp, TimeParseError> {
    jiff::Timestamp::from_str(s).map_err(|e| TimeParseError {
        input: s.to_owned(),
        reason: e.to_string(),
    })
}

impl Time {
    /// The timestamp truncated to whole seconds, as upstream stores it after a round trip.
    pub fn truncated(self) -> Self {
        Time(jiff::Timestamp::from_second(self.0.as_second()).unwrap_or(self.0))
    }
}

impl FromStr for Time {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ts(s).map(Time)
    }
}

impl FromStr for MicroTime {
    type Err = TimeParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_ts(s).map(MicroTime)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"))
    }
}

impl From<jiff::Timestamp> for Time {
    fn from(t: jiff::Timestamp) -> Self {
        Time(t)
    }
}

impl From<jiff::Timestamp> for MicroTime {
    fn from(t: jiff::Timestamp) -> Self {
        MicroTime(t)
    }
}

macro_rules! time_serde {
    ($ty:ident, $example:literal) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        impl schemars::JsonSchema for $ty {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "format": "date-time",
                    "examples": [$example],
                })
            }
        }
    };
}

time_serde!(Time, "2006-01-02T15:04:05Z");
time_serde!(MicroTime, "2006-01-02T15:04:05.000000Z");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats_utc_seconds() {
        for (input, want) in [
            ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02T03:04:05.999Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02T05:04:05+02:00", "2024-01-02T03:04:05Z"),
        ] {
            let t: Time = input.parse().unwrap();
            assert_eq!(t.to_string(), want, "input {input}");
        }
    }

    #[test]
    fn micro_time_keeps_microseconds() {
        let t: MicroTime = "2024-01-02T03:04:05.123456789Z".parse().unwrap();
        assert_eq!(t.to_string(), "2024-01-02T03:04:05.123456Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2024-01-02T03:04:05.123456Z\"");
    }

    #[test]
    fn bad_time_is_a_typed_error() {
        let err = "yesterday".parse::<Time>().unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
        assert!(serde_json::from_str::<Time>("42").is_err());
    }
}
