//! Property tests: arbitrary input into every parser and matcher of this crate never panics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_netsvc::alloc::{Cidr, IpRange, PortRange};
use kybern_netsvc::dns::{DnsTable, RecordKind};
use kybern_netsvc::ingress::{host_match, path_match};
use proptest::prelude::*;

proptest! {
    #[test]
    fn parsers_never_panic(s in ".*", t in ".*") {
        if let Ok(c) = s.parse::<Cidr>() {
            // A parsed CIDR gives a usable range whose answers are consistent.
            let mut r = IpRange::new(c);
            if let Ok(ip) = r.allocate_next() {
                prop_assert!(r.has(&ip));
            }
        }
        let _ = s.parse::<PortRange>();
        let _ = host_match(Some(&s), &t);
        let _ = path_match("Prefix", &s, &t);
        let _ = path_match("Exact", &s, &t);
        let _ = DnsTable::new("cluster.local").lookup(&s, RecordKind::A);
    }

    #[test]
    fn dns_wire_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = kybern_netsvc::dns::server::answer(&DnsTable::new("cluster.local"), &bytes);
    }
}
