//! ImageLocality: prefer nodes that already have the pod's container images, weighted by
//! image size and by how widely the image is spread (to avoid piling onto one node).

use std::sync::Arc;

use super::names;
use crate::cache::{NodeInfo, PodInfo, Snapshot, normalize_image};
use crate::framework::{
    CycleState, MAX_NODE_SCORE, Plugin, PreScorePlugin, ScorePlugin, Status, score_each_position,
};

const MB: i64 = 1024 * 1024;
/// Below this sum of image scores, the score is 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container, above this sum the score is 100.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// The ImageLocality plugin.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageLocality;

impl ImageLocality {
    /// The plugin.
    pub fn new() -> Arc<Self> {
        Arc::new(ImageLocality)
    }
}

#[derive(Clone)]
struct PreScoreState {
    /// (image, number of nodes having it) for each container image of the pod.
    images: Vec<(String, usize)>,
    containers: i64,
    total_nodes: usize,
}

impl Plugin for ImageLocality {
    fn name(&self) -> &str {
        names::IMAGE_LOCALITY
    }
}

impl PreScorePlugin for ImageLocality {
    fn reads_nodes(&self, _pod: &PodInfo) -> bool {
        false
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _nodes: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) -> Status {
        let Some(spec) = pod.pod().spec.as_ref() else {
            return Status::skip();
        };
        let images: Vec<(String, usize)> = spec
            .init_containers
            .iter()
            .chain(&spec.containers)
            .filter_map(|c| c.image.as_deref())
            .map(normalize_image)
            .filter_map(|img| {
                let n = snapshot.image_node_count(&img);
                (n > 0).then_some((img, n))
            })
            .collect();
        state.write(PreScoreState {
            images,
            containers: (spec.init_containers.len() + spec.containers.len()) as i64,
            total_nodes: snapshot.len(),
        });
        Status::success()
    }
}

impl ScorePlugin for ImageLocality {
    fn score(&self, state: &CycleState, _pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        Ok(state
            .read::<PreScoreState>()
            .map_or(0, |s| image_score(s, node)))
    }

    fn score_positions(
        &self,
        state: &CycleState,
        _pod: &PodInfo,
        snapshot: &Snapshot,
        positions: &[usize],
        out: &mut [i64],
    ) -> Result<(), Status> {
        match state.read::<PreScoreState>() {
            // No image of the pod is on any node: every node scores 0.
            Some(s) if !s.images.is_empty() && s.total_nodes > 0 => {
                score_each_position(snapshot, positions, out, |node| {
                    Ok(image_score(s, node.info()))
                })
            }
            _ => {
                out.fill(0);
                Ok(())
            }
        }
    }
}

/// The raw score of one node.
fn image_score(s: &PreScoreState, node: &NodeInfo) -> i64 {
    if s.images.is_empty() || node.images().is_empty() || s.total_nodes == 0 {
        return 0;
    }
    let mut sum = 0i64;
    for (img, count) in &s.images {
        if let Some((_, size)) = node.images().iter().find(|(n, _)| n == img) {
            let spread = *count as f64 / s.total_nodes as f64;
            sum += (*size as f64 * spread) as i64;
        }
    }
    let max = MAX_CONTAINER_THRESHOLD * s.containers.max(1);
    let clamped = sum.clamp(MIN_THRESHOLD, max);
    MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}
