//! Table-driven checks of `Quantity` against the upstream behaviour vectors in
//! `shared/vectors/quantities.json`, plus property tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use kybern_core::{Format, Quantity, QuantityError};
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/quantities.json"
);

fn vectors() -> Value {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("missing vector file {VECTORS}: {e}"));
    serde_json::from_str(&text).expect("quantities.json is JSON")
}

/// Runs `f` on every vector of `group`; fails listing each failing vector with its origin.
fn check(group: &str, f: impl Fn(&Value) -> Result<(), String>) {
    let all = vectors();
    let items = all[group]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} missing from {VECTORS}"));
    assert!(!items.is_empty(), "group {group} is empty");
    let failures: Vec<String> = items
        .iter()
        .filter_map(|v| {
            f(v).err().map(|e| {
                format!(
                    "[{group}] from={} vector={}: {e}",
                    v["from"].as_str().unwrap_or("?"),
                    v
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        items.len(),
        failures.join("\n")
    );
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn parse(text: &str) -> Result<Quantity, String> {
    Quantity::parse(text).map_err(|e| format!("parse {text:?}: {e}"))
}

fn format_named(v: &Value) -> Format {
    Format::from_name(s(v))
}

/// A quantity holding the exact decimal `value` (plain notation) in `format`.
fn exact(value: &str, format: Format) -> Quantity {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = format!("{int}{frac}");
    let mantissa: i128 = digits.parse().expect("vector value is a decimal");
    Quantity::from_parts(mantissa, -(frac.len() as i32), format)
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn ordering(n: i64) -> Ordering {
    n.cmp(&0)
}

#[test]
fn parse_vectors() {
    check("parse", |v| {
        let q = parse(s(&v["input"]))?;
        let want = exact(s(&v["value"]), Format::DecimalSI);
        same("value", q.cmp_value(&want), Ordering::Equal).map_err(|e| format!("{e} ({q:?})"))?;
        same("format", q.format(), format_named(&v["format"]))
    });
}

#[test]
fn parse_invalid_vectors() {
    check("parse_invalid", |v| {
        let input = s(&v["input"]);
        match Quantity::parse(input) {
            Ok(q) => Err(format!("accepted as {q:?}")),
            Err(e) => {
                let msg = e.to_string();
                if msg.contains(input) && (msg.contains("expected") || msg.contains("must match")) {
                    Ok(())
                } else {
                    Err(format!("message does not name the input: {msg}"))
                }
            }
        }
    });
}

#[test]
fn canonical_vectors() {
    check("canonical", |v| {
        let q = parse(s(&v["input"]))?;
        let want = s(&v["canonical"]);
        same("to_string", q.to_string().as_str(), want)?;
        let mut buf = [0u8; kybern_core::quantity::CANONICAL_MAX_LEN];
        same("canonical()", q.canonical(&mut buf), want)?;
        // The canonical form is a fixed point.
        same("reparsed", parse(want)?.to_string().as_str(), want)
    });
}

#[test]
fn format_string_vectors() {
    check("format_string", |v| {
        let q = exact(s(&v["value"]), format_named(&v["format"]));
        same("string", q.to_string().as_str(), s(&v["string"]))
    });
}

#[test]
fn arith_string_vectors() {
    check("arith_string", |v| {
        let a = parse(s(&v["a"]))?;
        let b = parse(s(&v["b"]))?;
        let r = match s(&v["op"]) {
            "add" => a + b,
            "sub" => a - b,
            op => return Err(format!("unknown op {op}")),
        };
        same("string", r.to_string().as_str(), s(&v["string"]))
    });
}

#[test]
fn cmp_vectors() {
    check("cmp", |v| {
        let a = parse(s(&v["a"]))?;
        let b = parse(s(&v["b"]))?;
        let want = ordering(v["cmp"].as_i64().unwrap());
        same("cmp", a.cmp(&b), want)?;
        same("reverse cmp", b.cmp(&a), want.reverse())
    });
}

fn parts(v: &Value) -> Quantity {
    Quantity::from_parts(
        s(&v["unscaled"]).parse().unwrap(),
        v["exponent"].as_i64().unwrap() as i32,
        Format::DecimalSI,
    )
}

#[test]
fn cmp_exact_vectors() {
    check("cmp_exact", |v| {
        let a = parts(&v["a"]);
        let b = parts(&v["b"]);
        let want = ordering(v["cmp"].as_i64().unwrap());
        same("cmp", a.cmp(&b), want)?;
        same("eq", a == b, want == Ordering::Equal)?;
        same(
            "value a",
            a.cmp(&exact(s(&v["a"]["value"]), Format::DecimalSI)),
            Ordering::Equal,
        )
    });
}

#[test]
fn ptr_equal_vectors() {
    check("ptr_equal", |v| {
        let opt = |x: &Value| {
            if x.is_null() {
                Ok(None)
            } else {
                parse(s(x)).map(Some)
            }
        };
        let (a, b) = (opt(&v["a"])?, opt(&v["b"])?);
        same("equal", a == b, v["equal"].as_bool().unwrap())
    });
}

#[test]
fn round_up_vectors() {
    check("round_up", |v| {
        let mut q = parse(s(&v["input"]))?;
        let exact_flag = q.round_up(v["scale"].as_i64().unwrap() as i32);
        same("exact", exact_flag, v["exact"].as_bool().unwrap())?;
        same(
            "value",
            q.cmp_value(&exact(s(&v["value"]), Format::DecimalSI)),
            Ordering::Equal,
        )
    });
}

#[test]
fn neg_vectors() {
    check("neg", |v| {
        let q = exact(s(&v["value"]), format_named(&v["format"]));
        let mut n = q;
        n.negate();
        same("operator", -q, n)?;
        if let Some(want) = v["string"].as_str() {
            same("string", n.to_string().as_str(), want)?;
        }
        if let Some(want) = v["result_value"].as_str() {
            same(
                "value",
                n.cmp_value(&exact(want, Format::DecimalSI)),
                Ordering::Equal,
            )?;
        }
        same("format kept", n.format(), q.format())
    });
}

fn operand(v: &Value) -> Quantity {
    exact(s(&v["value"]), format_named(&v["format"]))
}

fn arith(group: &str, op: fn(Quantity, Quantity) -> Option<Quantity>) {
    check(group, |v| {
        let r = op(operand(&v["a"]), operand(&v["b"])).ok_or("overflow")?;
        same(
            "value",
            r.cmp_value(&exact(s(&v["result_value"]), Format::DecimalSI)),
            Ordering::Equal,
        )
    });
}

#[test]
fn add_vectors() {
    arith("add", |a, b| {
        let mut c = a;
        c += &b;
        same("operator vs checked", Some(c), a.checked_add(&b)).ok()?;
        Some(c)
    });
}

#[test]
fn sub_vectors() {
    arith("sub", |a, b| {
        let mut c = a;
        c -= &b;
        same("operator vs checked", Some(c), a.checked_sub(&b)).ok()?;
        Some(c)
    });
}

#[test]
fn mul_vectors() {
    check("mul", |v| {
        let mut q = operand(&v["a"]);
        let ok = q.mul_i64(v["multiplier"].as_i64().unwrap());
        same("ok", ok, v["ok"].as_bool().unwrap())?;
        same(
            "value",
            q.cmp_value(&exact(s(&v["result_value"]), Format::DecimalSI)),
            Ordering::Equal,
        )
    });
}

#[test]
fn json_unmarshal_vectors() {
    check("json_unmarshal", |v| {
        let q: Quantity = serde_json::from_str(s(&v["json"])).map_err(|e| e.to_string())?;
        same("string", q.to_string().as_str(), s(&v["string"]))
    });
}

#[test]
fn json_marshal_vectors() {
    check("json_marshal", |v| {
        let q = parse(s(&v["input"]))?;
        same(
            "json",
            serde_json::to_string(&q).unwrap().as_str(),
            s(&v["json"]),
        )?;
        same("value", q.value(), v["value"].as_i64().unwrap())?;
        let back: Quantity = serde_json::from_str(s(&v["json"])).unwrap();
        same("round trip", back, q)
    });
}

#[test]
fn new_quantity_vectors() {
    check("new_quantity", |v| {
        let q = Quantity::new(v["value"].as_i64().unwrap(), format_named(&v["format"]));
        same("string", q.to_string().as_str(), s(&v["string"]))?;
        if let Some(rt) = v["roundtrip_value"].as_i64() {
            same("roundtrip", parse(s(&v["string"]))?.value(), rt)?;
        }
        Ok(())
    });
}

#[test]
fn new_milli_quantity_vectors() {
    check("new_milli_quantity", |v| {
        let q = Quantity::new_milli(
            v["milli_value"].as_i64().unwrap(),
            format_named(&v["format"]),
        );
        same("string", q.to_string().as_str(), s(&v["string"]))?;
        let rt = v["roundtrip_milli_value"].as_i64().unwrap();
        same("roundtrip", parse(s(&v["string"]))?.milli_value(), rt)
    });
}

#[test]
fn new_scaled_quantity_vectors() {
    check("new_scaled_quantity", |v| {
        let scale = v["scale"].as_i64().unwrap() as i32;
        let q = Quantity::new_scaled(v["value"].as_i64().unwrap(), scale);
        same("string", q.to_string().as_str(), s(&v["string"]))?;
        let rt = v["roundtrip_scaled_value"].as_i64().unwrap();
        same("roundtrip", parse(s(&v["string"]))?.scaled_value(scale), rt)
    });
}

#[test]
fn scaled_value_vectors() {
    check("scaled_value", |v| {
        let q = Quantity::new_scaled(
            v["value"].as_i64().unwrap(),
            v["scale"].as_i64().unwrap() as i32,
        );
        same(
            "scaled_value",
            q.scaled_value(v["to_scale"].as_i64().unwrap() as i32),
            v["scaled_value"].as_i64().unwrap(),
        )
    });
}

#[test]
fn parsed_values_vectors() {
    check("parsed_values", |v| {
        let q = parse(s(&v["input"]))?;
        same("format", q.format(), format_named(&v["format"]))?;
        if let Some(want) = v["value"].as_i64() {
            same("value", q.value(), want)?;
        }
        if let Some(want) = v["milli_value"].as_i64() {
            same("milli_value", q.milli_value(), want)?;
        }
        Ok(())
    });
}

fn float(v: &Value) -> f64 {
    match v {
        Value::String(x) if x == "+Inf" => f64::INFINITY,
        Value::String(x) if x == "-Inf" => f64::NEG_INFINITY,
        other => other.as_f64().unwrap(),
    }
}

fn floats(q: &Quantity, v: &Value) -> Result<(), String> {
    same(
        "approximate",
        q.as_approximate_f64().to_bits(),
        float(&v["as_approximate_float64"]).to_bits(),
    )?;
    same(
        "slow",
        q.as_f64().to_bits(),
        float(&v["as_float64_slow"]).to_bits(),
    )
}

#[test]
fn float64_from_value_vectors() {
    check("float64_from_value", |v| {
        let mut q = parts(v);
        q.set_format(format_named(&v["format"]));
        floats(&q, v)
    });
}

#[test]
fn float64_from_string_vectors() {
    check("float64_from_string", |v| {
        floats(&parse(s(&v["input"]))?, v)
    });
}

fn hash_of(q: &Quantity) -> u64 {
    let mut h = DefaultHasher::new();
    q.hash(&mut h);
    h.finish()
}

/// Behaviour beyond the vector file: upstream facts about the grammar, errors, serde.
#[test]
fn extra_cases() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("", Err("must match")),
        ("1.1.M", Err("must match")),
        ("1i", Err("suffix")),
        ("1e", Err("suffix")),
        ("1KiB", Err("must match")),
        ("e-10", Err("numeric")),
        ("1000E", Ok("1e21")),
        ("100E", Ok("100E")),
        ("1.5Gi", Ok("1536Mi")),
        ("1.5", Ok("1500m")),
        ("0.5", Ok("500m")),
        ("1000m", Ok("1")),
        ("-", Ok("0")),
        ("1e2147483647", Ok("10e2147483646")),
        ("1e-2147483648", Ok("1e-9")),
        ("1180591620717411303424Ei", Ok("9223372036854775807")),
        (
            "1.000000000000000000000000001Gi",
            Ok("1073741824000000001n"),
        ),
        (
            "123456789012345678901234567890123456789012",
            Err("out of range"),
        ),
        (
            "123456789012345678901234567890123456789000000",
            Ok("123456789012345678901234567890123456789M"),
        ),
        (
            "0.00000000000000000000000000000000000000000000000001",
            Ok("1n"),
        ),
        ("12.5e-1", Ok("1250e-3")),
        ("1E3", Ok("1e3")),
    ];
    for (input, want) in cases {
        match (Quantity::parse(input), want) {
            (Ok(q), Ok(w)) => assert_eq!(q.to_string(), *w, "input {input:?}"),
            (Err(e), Err(w)) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(w) && msg.contains(&format!("{input:?}")),
                    "{input:?}: {msg}"
                );
            }
            (got, want) => panic!("input {input:?}: got {got:?}, want {want:?}"),
        }
    }
    // Equality, ordering and hashing agree on value.
    let a = parse("1000m").unwrap();
    let b = parse("1").unwrap();
    assert_eq!(a, b);
    assert_eq!(hash_of(&a), hash_of(&b));
    assert_eq!(
        hash_of(&parse("1Ki").unwrap()),
        hash_of(&parse("1024").unwrap())
    );
    assert_eq!(Quantity::default(), Quantity::zero());
    assert_eq!(Quantity::default().to_string(), "0");
    // serde: numbers, strings with spaces, null, rejections.
    let q: Quantity = serde_json::from_str("1.5").unwrap();
    assert_eq!(q.to_string(), "1500m");
    let q: Quantity = serde_json::from_str("\" 2Gi \"").unwrap();
    assert_eq!(q.to_string(), "2Gi");
    let q: Quantity = serde_json::from_str("null").unwrap();
    assert!(q.is_zero());
    let q: Quantity = serde_json::from_str("18446744073709551615").unwrap();
    assert_eq!(q.to_string(), "18446744073709551615");
    for bad in ["true", "[]", "{}", "\"1.1.M\""] {
        let err = serde_json::from_str::<Quantity>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("quantity"), "{bad}: {err}");
    }
    assert!(matches!(
        Quantity::try_from("x"),
        Err(QuantityError::Format { .. })
    ));
    let schema = schemars::schema_for!(Quantity);
    let json = serde_json::to_value(&schema).unwrap();
    assert_eq!(json["x-kubernetes-int-or-string"], true);
    assert_eq!(json["anyOf"][0]["type"], "integer");
    assert_eq!(json["anyOf"][1]["type"], "string");
    // Exactness beyond i64 nano units.
    let big = parse("9223372036854775807").unwrap() + parse("9223372036854775807").unwrap();
    assert_eq!(big.to_string(), "18446744073709551614");
    assert_eq!(big.value(), i64::MAX, "value() saturates");
}

fn valid_quantity() -> impl Strategy<Value = String> {
    let suffix = prop::sample::select(vec![
        "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3",
        "e-3", "E6", "e0", "e-12", "e+20",
    ]);
    (
        "[+-]?",
        "[0-9]{1,9}",
        prop::option::of("[0-9]{0,9}"),
        suffix,
    )
        .prop_map(|(sign, int, frac, suffix)| match frac {
            Some(f) => format!("{sign}{int}.{f}{suffix}"),
            None => format!("{sign}{int}{suffix}"),
        })
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,40}") {
        let _ = Quantity::parse(&s);
    }

    #[test]
    fn quantity_like_strings_never_panic(s in "[-+]?[0-9.]{0,45}[eEinumkKMGTP]{0,3}[-+]?[0-9]{0,12}") {
        if let Ok(q) = Quantity::parse(&s) {
            let _ = q.to_string();
            let _ = q.value();
            let _ = q.as_f64();
        }
    }

    #[test]
    fn canonical_form_round_trips(s in valid_quantity()) {
        let q = Quantity::parse(&s).unwrap();
        let text = q.to_string();
        let back = Quantity::parse(&text).unwrap();
        prop_assert_eq!(back, q, "{} -> {}", s, text);
        prop_assert_eq!(back.to_string(), text);
        prop_assert_eq!(hash_of(&back), hash_of(&q));
    }

    #[test]
    fn add_and_sub_are_inverse(a in valid_quantity(), b in valid_quantity()) {
        let (qa, qb) = (Quantity::parse(&a).unwrap(), Quantity::parse(&b).unwrap());
        let sum = qa.checked_add(&qb).unwrap();
        prop_assert_eq!(sum.checked_sub(&qb).unwrap(), qa);
        prop_assert_eq!(sum.cmp(&qa), qb.sign().cmp(&0));
    }
}
