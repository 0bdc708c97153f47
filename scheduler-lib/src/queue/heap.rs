//! A binary heap with a runtime ordering and removal by key (the queue's activeQ and
//! backoffQ).

use std::collections::HashMap;
use std::sync::Arc;

use crate::cache::PodKey;

/// "Whether `a` comes before `b`".
pub(crate) type Less<T> = Arc<dyn Fn(&T, &T) -> bool + Send + Sync>;

/// A min-heap by `less` with O(log n) removal of any element by key.
pub(crate) struct KeyedHeap<T> {
    items: Vec<(PodKey, T)>,
    pos: HashMap<PodKey, usize>,
    less: Less<T>,
}

impl<T> KeyedHeap<T> {
    pub(crate) fn new(less: Less<T>) -> Self {
        KeyedHeap {
            items: Vec::new(),
            pos: HashMap::new(),
            less,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.pos.contains_key(key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&T> {
        self.pos.get(key).map(|&i| &self.items[i].1)
    }

    pub(crate) fn peek(&self) -> Option<&T> {
        self.items.first().map(|(_, t)| t)
    }

    /// Adds or replaces.
    pub(crate) fn push(&mut self, key: PodKey, item: T) {
        if let Some(&i) = self.pos.get(&key) {
            self.items[i].1 = item;
            self.fix(i);
            return;
        }
        let i = self.items.len();
        self.pos.insert(key.clone(), i);
        self.items.push((key, item));
        self.up(i);
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        self.remove_at(0)
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<T> {
        let i = *self.pos.get(key)?;
        self.remove_at(i)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, t)| t)
    }

    fn remove_at(&mut self, i: usize) -> Option<T> {
        let last = self.items.len().checked_sub(1)?;
        self.swap(i, last);
        let (key, item) = self.items.pop()?;
        self.pos.remove(&key);
        if i < self.items.len() {
            self.fix(i);
        }
        Some(item)
    }

    fn fix(&mut self, i: usize) {
        if !self.up(i) {
            self.down(i);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.items.swap(a, b);
        self.pos.insert(self.items[a].0.clone(), a);
        self.pos.insert(self.items[b].0.clone(), b);
    }

    fn up(&mut self, mut i: usize) -> bool {
        let start = i;
        while i > 0 {
            let parent = (i - 1) / 2;
            if (self.less)(&self.items[i].1, &self.items[parent].1) {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
        i != start
    }

    fn down(&mut self, mut i: usize) {
        let n = self.items.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let mut best = l;
            if r < n && (self.less)(&self.items[r].1, &self.items[l].1) {
                best = r;
            }
            if (self.less)(&self.items[best].1, &self.items[i].1) {
                self.swap(i, best);
                i = best;
            } else {
                break;
            }
        }
    }
}
