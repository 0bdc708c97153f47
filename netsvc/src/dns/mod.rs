//! Cluster DNS: the records CoreDNS's `kubernetes` plugin publishes for Services (and pods), an answer API
//! ([`DnsTable::lookup`]) and a small UDP server ([`server::DnsServer`]) speaking the wire format
//! through `hickory-proto`.

pub mod records;
pub mod server;

pub use records::{
    DEFAULT_TTL, DnsAnswer, DnsRecord, DnsTable, PodRecords, RecordData, RecordKind,
};
pub use server::DnsServer;
