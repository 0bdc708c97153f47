//! Allocation counting for the zero-allocation tests, robust to the test harness's own threads.

use std::alloc::System;

use stats_alloc::{Region, Stats, StatsAlloc};

/// The statistics of the quietest of three runs of `pass`, each in its own counting region.
///
/// The counting allocator is process-wide: the harness's other threads can allocate while a
/// pass runs (seen under CI load: 4 allocations, none freed, from another thread). Code that
/// allocates does so in every pass, so judging the quietest pass still catches it.
pub fn quietest_of_three(alloc: &'static StatsAlloc<System>, mut pass: impl FnMut()) -> Stats {
    (0..3)
        .map(|_| {
            let region = Region::new(alloc);
            pass();
            region.change()
        })
        .min_by_key(|s| (s.allocations, s.reallocations))
        .unwrap_or_default()
}
