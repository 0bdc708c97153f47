//! `scheduler_perf`-style volume workloads through the real scheduler loop with the volume
//! plugins on (and the PV controller for the WaitForFirstConsumer variant), next to the
//! scheduler's SchedulingBasic on the same cluster size in the same run (the ratio is the
//! volume plugins' cost). Prints average and per-interval p50/p90/p99 pods/s.
//!
//! `cargo bench -p kybern-storage --features scheduler --bench volume_scheduling` runs the
//! 500-node workloads; `--small` runs 100 nodes, `--large` 5000 nodes; other arguments
//! filter workloads by name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_scheduler::sim::{RunConfig, Workload, WorkloadKind, run as run_basic};
use kybern_storage::scheduler::sim::{VolumeWorkload, VolumeWorkloadKind, run};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--bench"))
        .collect();
    let (nodes, init, measured) = if args.iter().any(|a| a == "--small") {
        (100, 100, 500)
    } else if args.iter().any(|a| a == "--large") {
        (5000, 1000, 5000)
    } else {
        (500, 500, 1000)
    };
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let basic = Workload::new(WorkloadKind::Basic, nodes, init, measured);
    if wanted(basic.name) {
        println!(
            "{}",
            rt.block_on(run_basic(&basic, &RunConfig::default()))
                .unwrap()
        );
    }
    for kind in [
        VolumeWorkloadKind::BoundCsi,
        VolumeWorkloadKind::WaitForFirstConsumer,
    ] {
        let w = VolumeWorkload::new(kind, nodes, init, measured);
        if wanted(w.name) {
            println!("{}", rt.block_on(run(&w, &RunConfig::default())).unwrap());
        }
    }
}
