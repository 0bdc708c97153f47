//! `CycleState`: per-scheduling-cycle data that plugins hand from one extension point to the
//! next (PreFilter → Filter, PreScore → Score), typed by Rust type.

use std::any::{Any, TypeId};
use std::fmt;

/// Data a plugin stores in the [`CycleState`]. It must be cloneable, because preemption
/// clones the state to try removing pods on a copy.
pub trait StateData: Any + Send + Sync {
    /// A boxed copy.
    fn clone_data(&self) -> Box<dyn StateData>;
    /// Upcast for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// Upcast for downcasting, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone + Send + Sync> StateData for T {
    fn clone_data(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Per-cycle storage keyed by the stored value's type (a plugin defines its own state type,
/// so keys never clash). A handful of entries: a linear scan beats hashing.
#[derive(Default)]
pub struct CycleState {
    entries: Vec<(TypeId, Box<dyn StateData>)>,
    /// Plugins whose PreFilter returned `Skip`: their Filter is not run this cycle.
    skip_filter: Vec<String>,
    /// Plugins whose PreScore returned `Skip`: their Score is not run this cycle.
    skip_score: Vec<String>,
    /// The same as bit masks over the framework's Filter / Score plugin positions, so the
    /// per-node loop tests a bit instead of comparing names.
    pub(crate) skip_filter_mask: u64,
    pub(crate) skip_score_mask: u64,
}

impl fmt::Debug for CycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CycleState")
            .field("entries", &self.entries.len())
            .field("skip_filter", &self.skip_filter)
            .field("skip_score", &self.skip_score)
            .finish()
    }
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            entries: self
                .entries
                .iter()
                .map(|(k, v)| (*k, (**v).clone_data()))
                .collect(),
            skip_filter: self.skip_filter.clone(),
            skip_score: self.skip_score.clone(),
            skip_filter_mask: self.skip_filter_mask,
            skip_score_mask: self.skip_score_mask,
        }
    }
}

impl CycleState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `value`, replacing any earlier value of the same type.
    pub fn write<T: Any + Clone + Send + Sync>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == id) {
            slot.1 = Box::new(value);
        } else {
            self.entries.push((id, Box::new(value)));
        }
    }

    /// The stored value of type `T`, if any.
    pub fn read<T: Any>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter()
            .find(|(k, _)| *k == id)
            .and_then(|(_, v)| (**v).as_any().downcast_ref::<T>())
    }

    /// The stored value of type `T`, mutably.
    pub fn read_mut<T: Any>(&mut self) -> Option<&mut T> {
        let id = TypeId::of::<T>();
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == id)
            .and_then(|(_, v)| (**v).as_any_mut().downcast_mut::<T>())
    }

    /// Marks a plugin's Filter as skipped for this cycle.
    pub(crate) fn skip_filter_of(&mut self, plugin: &str) {
        self.skip_filter.push(plugin.to_owned());
    }

    /// Whether a plugin's Filter is skipped this cycle.
    pub fn is_filter_skipped(&self, plugin: &str) -> bool {
        self.skip_filter.iter().any(|p| p == plugin)
    }

    /// Marks a plugin's Score as skipped for this cycle.
    pub(crate) fn skip_score_of(&mut self, plugin: &str) {
        self.skip_score.push(plugin.to_owned());
    }

    /// Whether a plugin's Score is skipped this cycle.
    pub fn is_score_skipped(&self, plugin: &str) -> bool {
        self.skip_score.iter().any(|p| p == plugin)
    }
}
