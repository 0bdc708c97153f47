//! Crash test for `DurableStore`: a child process writes under load with many concurrent
//! writers and prints every acknowledged write; the parent kills it with SIGKILL at random
//! moments, reopens the directory and checks that no acknowledged write was lost, nothing was
//! half-applied and the revision never went backwards.
//!
//! The child is this same test binary re-invoked on this same test with
//! `KYBERN_CRASH_CHILD_DIR` set; it writes until it is killed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kybern_core::api::core::v1::ConfigMap;
use kybern_core::{ApiResource, DynamicObject, Resource};
use kybern_reconciler::store::{DeleteOptions, DeleteOutcome, DurableStore, Store, WriteScope};
use serde_json::json;

const CHILD_ENV: &str = "KYBERN_CRASH_CHILD_DIR";
const ROUND_ENV: &str = "KYBERN_CRASH_ROUND";
const TEST_NAME: &str = "kill_9_loses_no_acknowledged_write";
const ROUNDS: usize = 24;
const WRITERS: usize = 32;
const KEYS_PER_WRITER: usize = 4;

fn cms() -> ApiResource {
    ConfigMap::api_resource(&())
}

fn key_name(writer: usize, k: usize) -> String {
    format!("w{writer}-k{k}")
}

/// What the parent knows of a key: the revision and value (`None` = deleted) of its last
/// acknowledged (or, after a restart, observed) state, and whether a delete was in flight
/// when the child was killed (so the key may be gone without that being acknowledged).
#[derive(Clone, Debug, Default)]
struct Known {
    revision: u64,
    value: Option<String>,
    delete_in_flight: bool,
}

type Acked = BTreeMap<String, Known>;

/// One line of the child's output.
enum Line {
    /// `TRY <key>`: a delete of the key is about to be sent.
    TryDelete(String),
    /// `ACK <key> <revision> <value|->`: a write was acknowledged.
    Ack(String, u64, Option<String>),
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        let round: usize = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
        child(&dir, round);
        unreachable!("the child writes until it is killed");
    }
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut acked = Acked::new();
    let mut last_restart_revision = 0;
    let mut total_acks = 0;
    for round in 0..ROUNDS {
        let acks = run_and_kill(dir.path(), round);
        for line in acks {
            match line {
                Line::TryDelete(key) => acked.entry(key).or_default().delete_in_flight = true,
                Line::Ack(key, revision, value) => {
                    total_acks += 1;
                    let e = acked.entry(key).or_default();
                    assert!(
                        revision > e.revision,
                        "acknowledged revisions of a key increase"
                    );
                    *e = Known {
                        revision,
                        value,
                        delete_in_flight: false,
                    };
                }
            }
        }
        let revision = verify(dir.path(), &mut acked, round);
        assert!(
            revision >= last_restart_revision,
            "round {round}: revision went backwards: {revision} < {last_restart_revision}"
        );
        last_restart_revision = revision;
    }
    eprintln!(
        "durable crash test: {ROUNDS} SIGKILL rounds, {total_acks} acknowledged writes checked, final revision {last_restart_revision}, {:?}",
        started.elapsed()
    );
    assert!(
        total_acks > ROUNDS * 10,
        "the child wrote too little: {total_acks}"
    );
}

/// Starts a child writing into `dir`, kills it with SIGKILL after a random delay once it has
/// acknowledged writes, and returns every complete line it printed.
fn run_and_kill(dir: &std::path::Path, round: usize) -> Vec<Line> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first_ack = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let signal = first_ack.clone();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut r = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if line.starts_with("ACK ") {
                        let (lock, cv) = &*signal;
                        *lock.lock().unwrap() = true;
                        cv.notify_all();
                    }
                    text.push_str(&line);
                }
            }
        }
        let mut rest = String::new();
        let _ = r.read_to_string(&mut rest);
        text.push_str(&rest);
        text
    });
    {
        let (lock, cv) = &*first_ack;
        let guard = lock.lock().unwrap();
        let (guard, timeout) = cv
            .wait_timeout_while(guard, Duration::from_secs(20), |seen| !*seen)
            .unwrap();
        assert!(
            !timeout.timed_out() && *guard,
            "round {round}: the child acknowledged nothing within 20s"
        );
    }
    std::thread::sleep(Duration::from_millis(fastrand::u64(5..300)));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let text = reader.join().unwrap();
    // Only complete lines count: the kill may cut the last one.
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .filter_map(|l| {
            if let Some(key) = l.strip_prefix("TRY ") {
                return Some(Line::TryDelete(key.to_owned()));
            }
            let mut p = l.strip_prefix("ACK ")?.splitn(3, ' ');
            let key = p.next().unwrap().to_owned();
            let rev: u64 = p.next().unwrap().parse().unwrap();
            let value = match p.next().unwrap() {
                "-" => None,
                v => Some(v.to_owned()),
            };
            Some(Line::Ack(key, rev, value))
        })
        .collect()
}

/// Reopens the store and checks it against the acknowledged writes; records what it found
/// (a later, unacknowledged but complete state) and returns the store's revision.
fn verify(dir: &std::path::Path, acked: &mut Acked, round: usize) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = DurableStore::open(dir).unwrap();
        let revision = s.current_revision().await.unwrap();
        let max_acked = acked.values().map(|k| k.revision).max().unwrap_or(0);
        assert!(
            revision >= max_acked,
            "round {round}: revision {revision} is behind an acknowledged write at {max_acked}"
        );
        for (key, known) in acked.iter_mut() {
            let (rev, value) = (&known.revision, &known.value);
            let got = s.get(&cms(), Some("crash"), key).await;
            let stored = match got {
                Ok(o) => Some(o),
                Err(e) if e.is_not_found() => None,
                Err(e) => panic!("round {round}: {key}: {e}"),
            };
            let stored_rev = stored.as_ref().map(|o| {
                o.metadata
                    .resource_version
                    .as_deref()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            });
            let stored_value = stored
                .as_ref()
                .map(|o| o.data["data"]["v"].as_str().unwrap().to_owned());
            match (stored_rev, value) {
                // Exactly the acknowledged state.
                (Some(r), Some(v)) if r == *rev => assert_eq!(
                    stored_value.as_deref(),
                    Some(v.as_str()),
                    "round {round}: {key} at {r} has another value"
                ),
                (None, None) => {}
                // A delete sent after the last acknowledgement completed.
                (None, Some(_)) if known.delete_in_flight => {}
                // A later write, complete but not acknowledged before the kill.
                (Some(r), _) if r > *rev => {
                    assert!(r <= revision, "round {round}: {key} at {r} > store revision");
                    let v = stored_value.clone().unwrap();
                    assert!(
                        v.starts_with(&format!("{key}:")),
                        "round {round}: {key} holds a foreign value {v}"
                    );
                }
                (got, want) => panic!(
                    "round {round}: {key}: acknowledged {want:?} at revision {rev}, found {stored_value:?} at {got:?}"
                ),
            }
            // From now on the key must keep what was found.
            *known = Known {
                revision: stored_rev.unwrap_or(known.revision),
                value: stored_value,
                delete_in_flight: false,
            };
        }
        // Every stored object is whole: it decodes (or open would have failed), and carries
        // the identity the store gave it.
        let page = s
            .list(&cms(), &kybern_reconciler::store::ListOptions::default())
            .await
            .unwrap();
        for o in &page.items {
            assert!(o.metadata.uid.is_some(), "round {round}: object without uid");
            assert_eq!(o.metadata.generation.map(|g| g >= 1), Some(true));
        }
        revision
    })
}

/// The child: `WRITERS` tasks, each owning `KEYS_PER_WRITER` keys, creating, updating and
/// deleting them as fast as the store acknowledges, printing `TRY <key>` before each delete
/// and `ACK <key> <revision> <value|->` after each acknowledgement.
fn child(dir: &str, round: usize) {
    // The test harness has printed `test <name> ... ` without a newline; end that line so the
    // first protocol line (a `TRY` the parent must see) starts a line of its own.
    println!();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = Arc::new(DurableStore::open(dir).unwrap());
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let padding = "x".repeat(fastrand::usize(16..512));
                let mut seq = 0u64;
                loop {
                    let k = fastrand::usize(..KEYS_PER_WRITER);
                    let key = key_name(w, k);
                    seq += 1;
                    let value = format!("{key}:{round}:{seq}:{padding}");
                    let line = match s.get(&cms(), Some("crash"), &key).await {
                        Ok(cur) if fastrand::u8(..10) == 0 => {
                            let _ = cur;
                            println!("TRY {key}");
                            let out = s
                                .delete(&cms(), Some("crash"), &key, &DeleteOptions::default())
                                .await
                                .unwrap();
                            let DeleteOutcome::Deleted(o) = out else {
                                panic!("no finalizers, yet {out:?}")
                            };
                            format!(
                                "ACK {key} {} -",
                                o.metadata.resource_version.as_deref().unwrap()
                            )
                        }
                        Ok(cur) => {
                            let mut next = DynamicObject::clone(&cur);
                            next.data.insert("data".into(), json!({ "v": value }));
                            let o = s.update(&cms(), next, WriteScope::Main).await.unwrap();
                            format!(
                                "ACK {key} {} {value}",
                                o.metadata.resource_version.as_deref().unwrap()
                            )
                        }
                        Err(_) => {
                            let mut o = DynamicObject::new(&key, &cms());
                            o.metadata.namespace = Some("crash".into());
                            o.data.insert("data".into(), json!({ "v": value }));
                            let o = s.create(&cms(), o).await.unwrap();
                            format!(
                                "ACK {key} {} {value}",
                                o.metadata.resource_version.as_deref().unwrap()
                            )
                        }
                    };
                    println!("{line}");
                }
            }));
        }
        // The writers loop until the process is killed.
        futures::future::join_all(tasks).await;
    });
}
