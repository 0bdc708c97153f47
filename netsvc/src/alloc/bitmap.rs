//! A bitmap allocator over `0..size` with a reserved lower band, as upstream's
//! `registry/core/service/allocator` (`AllocationBitmap` with `randomScanStrategyWithOffset`).

/// Where [`Bitmap::allocate_next`] looks for a free slot.
///
/// Dynamic allocation starts at a random slot of the upper band `offset..size` and scans it
/// (wrapping); only when the upper band is full does it scan the lower (static) band
/// `0..offset` from a random start. Explicit requests may take any slot.
#[derive(Clone, Debug)]
pub struct Bitmap {
    words: Vec<u64>,
    size: usize,
    offset: usize,
    count: usize,
}

impl Bitmap {
    /// A bitmap of `size` free slots whose first `offset` slots are the static band.
    pub fn new(size: usize, offset: usize) -> Self {
        Self {
            words: vec![0; size.div_ceil(64)],
            size,
            offset: offset.min(size),
            count: 0,
        }
    }

    /// Number of slots.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Size of the lower band reserved for static (explicitly requested) allocation.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Number of allocated slots.
    pub fn used(&self) -> usize {
        self.count
    }

    /// Number of free slots.
    pub fn free(&self) -> usize {
        self.size - self.count
    }

    /// Whether slot `i` is allocated (out-of-range slots are not).
    pub fn has(&self, i: usize) -> bool {
        i < self.size && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Marks slot `i` allocated; `false` if it was already allocated or is out of range.
    pub fn allocate(&mut self, i: usize) -> bool {
        if i >= self.size || self.has(i) {
            return false;
        }
        self.words[i / 64] |= 1 << (i % 64);
        self.count += 1;
        true
    }

    /// Frees slot `i`; `false` if it was not allocated.
    pub fn release(&mut self, i: usize) -> bool {
        if !self.has(i) {
            return false;
        }
        self.words[i / 64] &= !(1 << (i % 64));
        self.count -= 1;
        true
    }

    /// Allocates a free slot (upper band first, from a random start), `None` when full.
    pub fn allocate_next(&mut self) -> Option<usize> {
        if self.count >= self.size {
            return None;
        }
        let upper = self.size - self.offset;
        let found = self
            .scan(self.offset, upper)
            .or_else(|| self.scan(0, self.offset))?;
        self.allocate(found);
        Some(found)
    }

    /// First free slot in `base..base+len` scanning from a random position, wrapping.
    fn scan(&self, base: usize, len: usize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let start = fastrand::usize(..len);
        // Word-at-a-time scan: two passes (start..len, then 0..start).
        self.first_free(base + start, base + len)
            .or_else(|| self.first_free(base, base + start))
    }

    /// First free slot in `from..to`.
    fn first_free(&self, from: usize, to: usize) -> Option<usize> {
        let mut i = from;
        while i < to {
            let word = self.words[i / 64] | ((1u64 << (i % 64)) - 1);
            if word != u64::MAX {
                let bit = (!word).trailing_zeros() as usize;
                let at = (i / 64) * 64 + bit;
                return (at < to).then_some(at);
            }
            i = (i / 64 + 1) * 64;
        }
        None
    }

    /// Every allocated slot, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.size).filter(|&i| self.has(i))
    }
}
