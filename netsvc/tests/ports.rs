//! `find_port` against the shared `service_ports.json` vectors (upstream `TestFindPort`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::core::v1::{Pod, ServicePort};
use kybern_netsvc::ports::find_port;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    name: String,
    from: String,
    pod: Pod,
    service_port: ServicePort,
    port: i32,
    ok: bool,
}

#[derive(Deserialize)]
struct File {
    find_port: Vec<Vector>,
}

fn check(v: &Vector) {
    let got = find_port(&v.pod, &v.service_port);
    match (got, v.ok) {
        (Ok(p), true) => assert_eq!(p, v.port, "{} / {}: port", v.from, v.name),
        (Err(_), false) => {}
        (got, _) => panic!(
            "{} / {}: expected ok={} port={}, got {got:?}",
            v.from, v.name, v.ok, v.port
        ),
    }
}

#[test]
fn find_port_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/service_ports.json"
    );
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("missing vectors {path}: {e}"));
    let file: File = serde_json::from_str(&text).unwrap();
    assert!(!file.find_port.is_empty(), "no find_port vectors");
    for v in &file.find_port {
        check(v);
    }
}
