//! `ByteString`: binary data (`[]byte` in Go), written on the wire as standard padded base64.
//!
//! Used for Secret `data`, ConfigMap `binaryData` and every other `format: byte` field.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that serialize as standard base64 with padding (RFC 4648), like Go's `[]byte`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(pub Vec<u8>);

/// A string that is not valid standard base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid base64 data: expected standard padded base64 (RFC 4648, as Go encodes []byte): {reason}"
)]
pub struct ByteStringError {
    /// What the decoder said.
    pub reason: String,
}

impl ByteString {
    /// Decodes standard padded base64. Line breaks (`\r`, `\n`) are ignored, as Go does.
    ///
    /// # Errors
    /// [`ByteStringError`] when the text is not valid base64.
    pub fn from_base64(text: &str) -> Result<Self, ByteStringError> {
        let decoded = if text.contains(['\r', '\n']) {
            let cleaned: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            STANDARD.decode(cleaned)
        } else {
            STANDARD.decode(text)
        };
        decoded.map(ByteString).map_err(|e| ByteStringError {
            reason: e.to_string(),
        })
    }

    /// The bytes as standard padded base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.0)
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(bytes: Vec<u8>) -> Self {
        ByteString(bytes)
    }
}

impl From<&[u8]> for ByteString {
    fn from(bytes: &[u8]) -> Self {
        ByteString(bytes.to_vec())
    }
}

impl From<&str> for ByteString {
    fn from(text: &str) -> Self {
        ByteString(text.as_bytes().to_vec())
    }
}

impl AsRef<[u8]> for ByteString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ByteString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64-encoded string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ByteString, E> {
                ByteString::from_base64(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Visitor)
    }
}

impl schemars::JsonSchema for ByteString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "byte" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_errors() {
        for (bytes, text) in [
            (&b""[..], ""),
            (&b"a"[..], "YQ=="),
            (&b"hello"[..], "aGVsbG8="),
            (&[0u8, 255, 128][..], "AP+A"),
        ] {
            let b = ByteString::from(bytes);
            assert_eq!(b.to_base64(), text);
            assert_eq!(ByteString::from_base64(text).unwrap(), b, "{text}");
        }
        assert_eq!(ByteString::from_base64("aGVs\nbG8=").unwrap().0, b"hello");
        for bad in ["YQ", "!!!!", "aGVsbG8"] {
            let err = ByteString::from_base64(bad).unwrap_err();
            assert!(err.to_string().contains("invalid base64"), "{bad}: {err}");
        }
    }
}
