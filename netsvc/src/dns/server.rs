//! A small authoritative DNS server over UDP serving a [`DnsTable`] (NXDOMAIN for unknown
//! names, no recursion), using `hickory-proto` for the wire format.

use std::io;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

use super::records::{DnsAnswer, DnsTable, RecordData, RecordKind};

/// A running DNS server.
pub struct DnsServer {
    table: Arc<RwLock<Arc<DnsTable>>>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DnsServer {
    /// Binds `bind` (use a loopback address; port 0 picks one) and serves `table`.
    ///
    /// # Errors
    /// The socket could not be bound.
    pub async fn start(bind: SocketAddr, table: DnsTable) -> io::Result<Self> {
        let socket = UdpSocket::bind(bind).await?;
        let addr = socket.local_addr()?;
        let table = Arc::new(RwLock::new(Arc::new(table)));
        let shared = table.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    continue;
                };
                let current = shared.read().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some(reply) = answer(&current, &buf[..n]) {
                    let _ = socket.send_to(&reply, peer).await;
                }
            }
        });
        Ok(Self { table, addr, task })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the records served.
    pub fn update(&self, table: DnsTable) {
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

fn kind_of(t: RecordType) -> Option<RecordKind> {
    Some(match t {
        RecordType::A => RecordKind::A,
        RecordType::AAAA => RecordKind::Aaaa,
        RecordType::CNAME => RecordKind::Cname,
        RecordType::SRV => RecordKind::Srv,
        RecordType::ANY => RecordKind::Any,
        _ => return None,
    })
}

fn name(s: &str) -> Option<Name> {
    Name::from_str(&format!("{s}.")).ok()
}

/// Builds the wire reply to a wire query (`None` for undecodable input).
pub fn answer(table: &DnsTable, query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_authoritative(true);
    let Some(q) = request.queries().first().cloned() else {
        reply.set_response_code(ResponseCode::FormErr);
        return reply.to_vec().ok();
    };
    reply.add_query(q.clone());
    let qname = q.name().to_ascii();
    let code = match kind_of(q.query_type()) {
        None => match table.lookup(&qname, RecordKind::Any) {
            DnsAnswer::NxDomain => ResponseCode::NXDomain,
            _ => ResponseCode::NoError,
        },
        Some(kind) => match table.lookup(&qname, kind) {
            DnsAnswer::NxDomain => ResponseCode::NXDomain,
            DnsAnswer::NoData => ResponseCode::NoError,
            DnsAnswer::Records(records) => {
                for r in records {
                    let Some(owner) = name(&r.name) else { continue };
                    let rdata = match r.data {
                        RecordData::A(ip) => RData::A(A(ip)),
                        RecordData::Aaaa(ip) => RData::AAAA(AAAA(ip)),
                        RecordData::Cname(t) => match name(&t) {
                            Some(n) => RData::CNAME(CNAME(n)),
                            None => continue,
                        },
                        RecordData::Srv {
                            priority,
                            weight,
                            port,
                            target,
                        } => match name(&target) {
                            Some(n) => RData::SRV(SRV::new(priority, weight, port, n)),
                            None => continue,
                        },
                    };
                    reply.add_answer(Record::from_rdata(owner, r.ttl, rdata));
                }
                ResponseCode::NoError
            }
        },
    };
    reply.set_response_code(code);
    reply.to_vec().ok()
}
