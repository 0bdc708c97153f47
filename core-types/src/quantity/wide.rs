//! `U256`: a fixed 256-bit unsigned integer, just enough for exact BinarySI rounding at parse
//! time (digits × 2^60 × 10^9 exceed `u128`). Inline, no heap.

/// Little-endian 64-bit limbs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct U256([u64; 4]);

impl U256 {
    /// `self = self × m + a`; returns false (leaving garbage) on overflow.
    pub(super) fn mul_add(&mut self, m: u64, a: u64) -> bool {
        let mut carry = u128::from(a);
        for limb in &mut self.0 {
            let v = u128::from(*limb) * u128::from(m) + carry;
            *limb = v as u64;
            carry = v >> 64;
        }
        carry == 0
    }

    /// `self / d`, returning the remainder (`d` must not be zero).
    pub(super) fn div_rem(&mut self, d: u64) -> u64 {
        let mut rem: u128 = 0;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        rem as u64
    }

    /// The value if it fits a `u128`.
    pub(super) fn to_u128(self) -> Option<u128> {
        if self.0[2] == 0 && self.0[3] == 0 {
            Some(u128::from(self.0[0]) | (u128::from(self.0[1]) << 64))
        } else {
            None
        }
    }
}
