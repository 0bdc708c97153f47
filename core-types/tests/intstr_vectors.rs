//! Table-driven checks of `IntOrString` against `shared/vectors/intstr.json`, plus property
//! tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::intstr::scaled_value_from_int_or_percent;
use kybern_core::{IntOrString, IntOrStringError};
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/intstr.json"
);

/// Runs `f` on every vector of `group`; fails listing each failing vector with its origin.
fn check(group: &str, f: impl Fn(&Value) -> Result<(), String>) {
    let text = std::fs::read_to_string(VECTORS)
        .unwrap_or_else(|e| panic!("missing vector file {VECTORS}: {e}"));
    let all: Value = serde_json::from_str(&text).unwrap();
    let items = all[group]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} missing from {VECTORS}"));
    assert!(!items.is_empty(), "group {group} is empty");
    let failures: Vec<String> = items
        .iter()
        .filter_map(|v| {
            f(v).err().map(|e| {
                format!(
                    "[{group}] from={} vector={v}: {e}",
                    v["from"].as_str().unwrap_or("?")
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

/// `{"int": n}` / `{"string": s}` / `null`.
fn value(v: &Value) -> Option<IntOrString> {
    if let Some(i) = v.get("int") {
        Some(IntOrString::Int(i.as_i64().unwrap() as i32))
    } else {
        v.get("string")
            .map(|s| IntOrString::String(s.as_str().unwrap().to_owned()))
    }
}

#[test]
fn int_or_percent_vectors() {
    check("int_or_percent", |v| {
        let got = value(&v["input"]).unwrap().int_or_percent();
        if v["error"].as_bool().unwrap() {
            return match got {
                Err(e) => same(
                    "message names IntOrString",
                    e.to_string().contains("IntOrString"),
                    true,
                ),
                Ok(x) => Err(format!("accepted as {x:?}")),
            };
        }
        let (n, pct) = got.map_err(|e| e.to_string())?;
        same("value", n, v["value"].as_i64().unwrap())?;
        same("is_percent", pct, v["is_percent"].as_bool().unwrap())
    });
}

#[test]
fn scaled_value_vectors() {
    check("scaled_value_from_int_or_percent", |v| {
        let input = value(&v["input"]);
        let got = scaled_value_from_int_or_percent(
            input.as_ref(),
            v["total"].as_i64().unwrap() as i32,
            v["round_up"].as_bool().unwrap(),
        );
        match (got, v["error"].as_bool().unwrap()) {
            (Ok(n), false) => same("value", i64::from(n), v["value"].as_i64().unwrap()),
            (Err(_), true) => Ok(()),
            (got, _) => Err(format!("got {got:?}")),
        }
    });
}

#[test]
fn parse_vectors() {
    check("parse", |v| {
        let got = IntOrString::parse(v["input"].as_str().unwrap());
        let want = match v["type"].as_str().unwrap() {
            "int" => IntOrString::Int(v["value"].as_i64().unwrap() as i32),
            _ => IntOrString::String(v["value"].as_str().unwrap().to_owned()),
        };
        same("parsed", &got, &want)?;
        same(
            "display",
            got.to_string().as_str(),
            v["input"].as_str().unwrap(),
        )
    });
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Holder {
    val: IntOrString,
}

#[test]
fn json_vectors() {
    check("json", |v| {
        let want = Holder {
            val: value(&v["value"]).unwrap(),
        };
        let json = v["json"].as_str().unwrap();
        match v["direction"].as_str().unwrap() {
            "unmarshal" => same(
                "decoded",
                serde_json::from_str::<Holder>(json).map_err(|e| e.to_string())?,
                want,
            ),
            _ => same(
                "encoded",
                serde_json::to_string(&want).unwrap().as_str(),
                json,
            ),
        }
    });
}

#[test]
fn extra_cases() {
    let int_values = [
        ("42", 42),
        ("x", 0),
        ("+7", 7),
        ("9223372036854775808", i64::MAX),
        ("-99999999999999999999", i64::MIN),
    ];
    for (s, want) in int_values {
        assert_eq!(IntOrString::String(s.into()).int_value(), want, "{s}");
    }
    assert!(matches!(
        scaled_value_from_int_or_percent(None, 1, true),
        Err(IntOrStringError::Nil)
    ));
    let e = IntOrString::from("90")
        .scaled_value_from_int_or_percent(10, true)
        .unwrap_err();
    assert!(e.to_string().contains("not a percentage"), "{e}");
    assert_eq!(
        IntOrString::from("25%")
            .scaled_value_from_int_or_percent(3, false)
            .unwrap(),
        0
    );
    assert_eq!(
        IntOrString::from("25%")
            .scaled_value_from_int_or_percent(3, true)
            .unwrap(),
        1
    );
    assert!(
        IntOrString::from("200%")
            .scaled_value_from_int_or_percent(i32::MAX, true)
            .is_err()
    );
    for bad in ["1.5", "true", "[1]", "{}", "2147483648"] {
        let err = serde_json::from_str::<IntOrString>(bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("IntOrString") || err.contains("int32"),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        serde_json::from_str::<IntOrString>("null").unwrap(),
        IntOrString::Int(0)
    );
    let schema = serde_json::to_value(schemars::schema_for!(IntOrString)).unwrap();
    assert_eq!(schema["x-kubernetes-int-or-string"], true);
    assert_eq!(schema["anyOf"][0]["type"], "integer");
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,30}", total in any::<i32>(), up in any::<bool>()) {
        let v = IntOrString::parse(&s);
        let _ = v.int_value();
        let _ = v.int_or_percent();
        let _ = v.scaled_value_from_int_or_percent(total, up);
        let pct = IntOrString::String(format!("{s}%"));
        let _ = pct.scaled_value_from_int_or_percent(total, up);
        prop_assert_eq!(v.to_string(), s);
    }
}
