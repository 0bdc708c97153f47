//! `scheduler_perf`-like workloads run end to end (MemoryStore, real bindings); prints
//! throughput (average and per-interval percentiles) next to upstream's floors.
//!
//! `cargo bench -p kybern-scheduler --bench scheduler_perf` runs all; pass workload names
//! (e.g. `SchedulingBasic`) to filter, `--small` for 100-node versions, and `--store-source`
//! to take the intake from `StoreSource` (own list + watch) instead of the shared informers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_scheduler::sim::{RunConfig, Workload, WorkloadKind, run_with_source};
use kybern_scheduler::{ClusterSource, StoreSource};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    let small = args.iter().any(|a| a == "--small");
    let store_source = args.iter().any(|a| a == "--store-source");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let workloads = if small {
        vec![
            Workload::new(WorkloadKind::Basic, 100, 100, 1000),
            Workload::new(WorkloadKind::PodAntiAffinity, 100, 20, 50),
            Workload::new(WorkloadKind::TopologySpreading, 100, 100, 500),
            Workload::new(WorkloadKind::NodeAffinity, 100, 100, 500),
            Workload::new(WorkloadKind::Preemption, 50, 200, 50),
        ]
    } else {
        vec![
            Workload::new(WorkloadKind::Basic, 5000, 1000, 10_000),
            Workload::new(WorkloadKind::PodAntiAffinity, 5000, 1000, 1000),
            Workload::new(WorkloadKind::TopologySpreading, 5000, 1000, 2000),
            Workload::new(WorkloadKind::NodeAffinity, 5000, 1000, 2000),
            Workload::new(WorkloadKind::Preemption, 500, 2000, 500),
        ]
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for w in workloads {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        let source = |store| {
            store_source.then(|| Arc::new(StoreSource::new(store)) as Arc<dyn ClusterSource>)
        };
        let report = rt
            .block_on(run_with_source(&w, &RunConfig::default(), source))
            .unwrap();
        println!("{report}");
    }
}
