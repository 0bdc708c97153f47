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

/// Upstream's wire forms, as `strftime` patterns (what [`utc_digits`] writes by hand).
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
const MICRO_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S.%6fZ";

/// The longest form [`utc_digits`] writes: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
const UTC_DIGITS_MAX: usize = 27;

/// Writes `ts` in UTC into `buf` as `YYYY-MM-DDTHH:MM:SSZ`, or with `micros` as
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (microseconds truncated), and returns the text; `None`
/// for years outside 0000–9999, which the callers leave to `strftime`.
///
/// Byte-identical to `strftime` with [`TIME_FORMAT`] / [`MICRO_TIME_FORMAT`] (a property test
/// checks it over jiff's whole range): every object's timestamps are written on each store
/// write, and `strftime` interprets its pattern on every call.
fn utc_digits(ts: jiff::Timestamp, micros: bool, buf: &mut [u8; UTC_DIGITS_MAX]) -> Option<&str> {
    let dt = jiff::tz::Offset::UTC.to_datetime(ts);
    let year = u32::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
    let two = |v: i8| u32::try_from(v).unwrap_or(0);
    let fields: [(u32, usize, u8); 6] = [
        (year, 4, b'-'),
        (two(dt.month()), 2, b'-'),
        (two(dt.day()), 2, b'T'),
        (two(dt.hour()), 2, b':'),
        (two(dt.minute()), 2, b':'),
        (two(dt.second()), 2, if micros { b'.' } else { b'Z' }),
    ];
    let mut at = 0;
    let digits = |buf: &mut [u8; UTC_DIGITS_MAX], mut v: u32, width: usize, at: usize| {
        for slot in buf[at..at + width].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    for (v, width, sep) in fields {
        digits(buf, v, width, at);
        buf[at + width] = sep;
        at += width + 1;
    }
    if micros {
        let us = u32::try_from(dt.subsec_nanosecond() / 1000).unwrap_or(0);
        digits(buf, us, 6, at);
        buf[at + 6] = b'Z';
        at += 7;
    }
    std::str::from_utf8(&buf[..at]).ok()
}

/// Writes `ts` as [`utc_digits`] does, through `strftime` with `pattern` where it does not.
fn write_utc(
    f: &mut fmt::Formatter<'_>,
    ts: jiff::Timestamp,
    micros: bool,
    pattern: &str,
) -> fmt::Result {
    match utc_digits(ts, micros, &mut [0; UTC_DIGITS_MAX]) {
        Some(s) => f.write_str(s),
        None => write!(f, "{}", ts.strftime(pattern)),
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc(f, self.0, false, TIME_FORMAT)
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_utc(f, self.0, true, MICRO_TIME_FORMAT)
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
    ($ty:ident, $micros:literal, $example:literal) => {
        impl Serialize for $ty {
            /// One string, written without the formatting machinery when it can be.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match utc_digits(self.0, $micros, &mut [0; UTC_DIGITS_MAX]) {
                    Some(text) => s.serialize_str(text),
                    None => s.collect_str(self),
                }
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

time_serde!(Time, false, "2006-01-02T15:04:05Z");
time_serde!(MicroTime, true, "2006-01-02T15:04:05.000000Z");

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

    /// Timestamps across jiff's whole range (years −9999 … 9999), at any nanosecond.
    fn any_timestamp() -> impl proptest::strategy::Strategy<Value = jiff::Timestamp> {
        use proptest::prelude::*;
        let (min, max) = (
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
        );
        (min..=max, 0..1_000_000_000i32).prop_map(move |(s, ns)| {
            let ns = if s == max { 0 } else { ns };
            jiff::Timestamp::new(s, ns).unwrap()
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        /// The hand-written formatting is byte-identical to `strftime` with upstream's
        /// patterns, in `Display` and in JSON.
        #[test]
        fn formatting_matches_strftime(ts in any_timestamp()) {
            let want = ts.strftime(TIME_FORMAT).to_string();
            proptest::prop_assert_eq!(Time(ts).to_string(), want.clone());
            proptest::prop_assert_eq!(serde_json::to_string(&Time(ts)).unwrap(), format!("{want:?}"));
            let want = ts.strftime(MICRO_TIME_FORMAT).to_string();
            proptest::prop_assert_eq!(MicroTime(ts).to_string(), want.clone());
            proptest::prop_assert_eq!(
                serde_json::to_string(&MicroTime(ts)).unwrap(),
                format!("{want:?}")
            );
        }
    }

    #[test]
    fn formatting_matches_strftime_at_the_edges() {
        for s in [
            "0000-01-01T00:00:00Z",
            "0000-12-31T23:59:59.999999999Z",
            "1969-12-31T23:59:59.000001Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:34:56.789012345Z",
            "9999-12-30T21:59:59.999999Z",
            "-000001-12-31T23:59:59Z",
        ] {
            let ts: jiff::Timestamp = s.parse().unwrap();
            for (got, pattern) in [
                (Time(ts).to_string(), TIME_FORMAT),
                (MicroTime(ts).to_string(), MICRO_TIME_FORMAT),
            ] {
                assert_eq!(got, ts.strftime(pattern).to_string(), "{s} as {pattern}");
            }
        }
        assert_eq!(
            Time("0042-03-04T05:06:07.5Z".parse().unwrap()).to_string(),
            "0042-03-04T05:06:07Z"
        );
        assert_eq!(
            MicroTime("0042-03-04T05:06:07.5Z".parse().unwrap()).to_string(),
            "0042-03-04T05:06:07.500000Z"
        );
    }

    #[test]
    fn bad_time_is_a_typed_error() {
        let err = "yesterday".parse::<Time>().unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
        assert!(serde_json::from_str::<Time>("42").is_err());
    }
}
