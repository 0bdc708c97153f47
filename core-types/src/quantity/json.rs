//! serde and JSON Schema for `Quantity`: written as the canonical string; read from a string
//! (surrounding whitespace trimmed, as upstream) or from a number (`cpu: 1`); `null` reads as
//! zero, as upstream's `UnmarshalJSON`.

use std::fmt::{self, Write};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Format, Quantity};

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct QuantityVisitor;

/// Parses the decimal text of a number the way upstream parses the raw JSON token.
fn from_number<E: de::Error>(args: fmt::Arguments<'_>) -> Result<Quantity, E> {
    let mut buf = NumBuf::default();
    buf.write_fmt(args).map_err(E::custom)?;
    Quantity::parse(buf.as_str()).map_err(E::custom)
}

/// Room for any `f64` written in plain decimal notation.
struct NumBuf {
    buf: [u8; 400],
    len: usize,
}

impl Default for NumBuf {
    fn default() -> Self {
        NumBuf {
            buf: [0; 400],
            len: 0,
        }
    }
}

impl NumBuf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for NumBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<'de> Visitor<'de> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity: a string such as \"500m\" or \"1Gi\", or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Quantity::parse(v.trim()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::new(v, Format::DecimalSI))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        match i64::try_from(v) {
            Ok(v) => Ok(Quantity::new(v, Format::DecimalSI)),
            Err(_) => from_number(format_args!("{v}")),
        }
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Quantity, E> {
        from_number(format_args!("{v}"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Quantity, E> {
        from_number(format_args!("{v}"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        if !v.is_finite() {
            return Err(E::custom(format_args!(
                "invalid quantity {v}: expected a finite number"
            )));
        }
        from_number(format_args!("{v}"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Quantity, E> {
        Ok(Quantity::zero())
    }

    fn visit_none<E: de::Error>(self) -> Result<Quantity, E> {
        Ok(Quantity::zero())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Quantity, D::Error> {
        d.deserialize_any(QuantityVisitor)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QuantityVisitor)
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        "io.k8s.apimachinery.pkg.api.resource.Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes resource quantity such as \"500m\", \"1Gi\" or \"1e3\".",
            "x-kubernetes-int-or-string": true,
            "anyOf": [{"type": "integer"}, {"type": "string"}]
        })
    }
}
