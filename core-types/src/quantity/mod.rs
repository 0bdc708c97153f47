//! `Quantity`: Kubernetes resource quantities (`500m`, `1Gi`, `1e3`) with exact arithmetic.
//!
//! Mirrors `k8s.io/apimachinery/pkg/api/resource.Quantity` (v1.33): the same grammar, the same
//! rounding (away from zero, to nano precision, at parse time), the same caps (`BinarySI` at
//! 2^63-1), the same canonical `String()` and the same arithmetic. The value is stored inline as
//! an `i128` mantissa and a base-10 exponent (no heap, no float), so parsing allocates nothing.
//!
//! Known, deliberate differences from upstream, all on inputs no manifest uses:
//! - upstream `String()` returns the parsed text verbatim when it already *looks* canonical
//!   (so `+1` or `1.500` print as typed); here `Display` always prints the canonical form.
//! - values needing more than 38 significant decimal digits are rejected with
//!   [`QuantityError::OutOfRange`] instead of being held in an unbounded big decimal.
//! - DecimalSI values beyond the `E`/`n` suffixes print in exponent form (`1e21`) and BinarySI
//!   values beyond `Ei` print as DecimalSI, where upstream v1.33 drops the magnitude (a bug fixed
//!   upstream later).
//! - `value()`/`scaled_value()` round away from zero and saturate at the `i64` bounds.

mod format;
mod json;
mod parse;
mod wide;

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use std::str::FromStr;

/// How a quantity is written out, as upstream's `resource.Format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Powers of ten with SI suffixes: `500m`, `1k`, `2G` (the default).
    #[default]
    DecimalSI,
    /// Powers of two with IEC suffixes: `1Ki`, `512Mi`, `3Gi`.
    BinarySI,
    /// Powers of ten written as an exponent: `1e3`, `5e-3`.
    DecimalExponent,
}

impl Format {
    /// The upstream name (`"DecimalSI"`, `"BinarySI"`, `"DecimalExponent"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::DecimalSI => "DecimalSI",
            Format::BinarySI => "BinarySI",
            Format::DecimalExponent => "DecimalExponent",
        }
    }

    /// The format named `name`; any other name yields `DecimalExponent`, which is how upstream
    /// renders a quantity whose `Format` string is unknown.
    pub fn from_name(name: &str) -> Format {
        match name {
            "DecimalSI" => Format::DecimalSI,
            "BinarySI" => Format::BinarySI,
            _ => Format::DecimalExponent,
        }
    }
}

/// Upstream's grammar, quoted in the format error as upstream does.
pub const QUANTITY_REGEX: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not have the shape `<signed number><suffix>` (upstream `ErrFormatWrong`).
    #[error(
        "invalid quantity {input:?}: quantities must match the regular expression '{QUANTITY_REGEX}'"
    )]
    Format {
        /// The rejected input.
        input: String,
    },
    /// The suffix is not one of the known ones (upstream `ErrSuffix`).
    #[error(
        "invalid quantity {input:?}: unable to parse quantity's suffix {suffix:?} (expected one of n, u, m, \"\", k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, or e/E followed by an integer exponent)"
    )]
    Suffix {
        /// The rejected input.
        input: String,
        /// The suffix that was not understood.
        suffix: String,
    },
    /// The numeric part has no digits where upstream needs some (upstream `ErrNumeric`).
    #[error(
        "invalid quantity {input:?}: unable to parse numeric part of quantity (expected digits)"
    )]
    Numeric {
        /// The rejected input.
        input: String,
    },
    /// The value needs more than 38 significant digits or an exponent beyond `i32`.
    #[error(
        "invalid quantity {input:?}: value out of range (at most 38 significant decimal digits and an exponent within i32 are supported)"
    )]
    OutOfRange {
        /// The rejected input.
        input: String,
    },
}

/// A fixed-point Kubernetes resource quantity: `mantissa × 10^exponent`, plus the [`Format`]
/// it is written in.
///
/// Equality, ordering and hashing are by value: `1000m == 1` and `1Ki == 1024`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quantity {
    mantissa: i128,
    exponent: i32,
    format: Format,
}

/// Powers of ten that fit an `i128` (10^0 ..= 10^38).
pub(crate) const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^n` as an `i128`, or `None` when it does not fit.
fn pow10(n: i64) -> Option<i128> {
    usize::try_from(n).ok().and_then(|i| POW10.get(i).copied())
}

/// `m × 10^n` (n ≥ 0) or `None` on overflow.
fn scale_up(m: i128, n: i64) -> Option<i128> {
    if m == 0 {
        return Some(0);
    }
    pow10(n).and_then(|p| m.checked_mul(p))
}

/// `m / 10^n` (n ≥ 0) rounded away from zero, and whether it was exact.
fn scale_down_away(m: i128, n: i64) -> (i128, bool) {
    if n <= 0 {
        return (m, true);
    }
    let (q, r) = match (pow10(n), i64::try_from(m)) {
        (Some(p), Ok(small)) if n <= 18 => {
            let p = p as i64;
            (i128::from(small / p), i128::from(small % p))
        }
        (Some(p), _) => (m / p, m % p),
        (None, _) => (0, m),
    };
    if r == 0 {
        (q, true)
    } else if m > 0 {
        (q + 1, false)
    } else {
        (q - 1, false)
    }
}

/// `m` with its factors of ten moved into the exponent; zero becomes `(0, 0)`.
fn normalize(m: i128, mut e: i64) -> (i128, i64) {
    if m == 0 {
        return (0, 0);
    }
    // 64-bit division is several times cheaper than 128-bit: use it whenever possible.
    if let Ok(mut small) = i64::try_from(m) {
        while small % 10 == 0 {
            small /= 10;
            e += 1;
        }
        return (i128::from(small), e);
    }
    let mut m = m;
    while m % 10 == 0 {
        m /= 10;
        e += 1;
        if let Ok(small) = i64::try_from(m) {
            let (m, e) = normalize(i128::from(small), e);
            return (m, e);
        }
    }
    (m, e)
}

impl Quantity {
    /// Parses a quantity as upstream's `ParseQuantity`.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        parse::parse(s)
    }

    /// `value` in `format` (upstream `NewQuantity`).
    pub const fn new(value: i64, format: Format) -> Quantity {
        Quantity {
            mantissa: value as i128,
            exponent: 0,
            format,
        }
    }

    /// `value / 1000` in `format` (upstream `NewMilliQuantity`).
    pub const fn new_milli(value: i64, format: Format) -> Quantity {
        Quantity {
            mantissa: value as i128,
            exponent: -3,
            format,
        }
    }

    /// `value × 10^scale` in DecimalSI (upstream `NewScaledQuantity`).
    pub const fn new_scaled(value: i64, scale: i32) -> Quantity {
        Quantity {
            mantissa: value as i128,
            exponent: scale,
            format: Format::DecimalSI,
        }
    }

    /// `mantissa × 10^exponent` in `format`, kept as given: no rounding to nano precision
    /// (upstream `NewDecimalQuantity`).
    pub const fn from_parts(mantissa: i128, exponent: i32, format: Format) -> Quantity {
        Quantity {
            mantissa,
            exponent,
            format,
        }
    }

    /// The zero quantity (DecimalSI).
    pub const fn zero() -> Quantity {
        Quantity::new(0, Format::DecimalSI)
    }

    /// The stored mantissa (the value is `mantissa() × 10^exponent()`).
    pub const fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// The stored base-10 exponent.
    pub const fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The format used when printing.
    pub const fn format(&self) -> Format {
        self.format
    }

    /// Changes the format used when printing (the value is unchanged).
    pub fn set_format(&mut self, format: Format) {
        self.format = format;
    }

    /// Whether the value is zero.
    pub const fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// -1, 0 or 1 by the sign of the value.
    pub const fn sign(&self) -> i32 {
        if self.mantissa > 0 {
            1
        } else if self.mantissa < 0 {
            -1
        } else {
            0
        }
    }

    /// `ceil(q / 10^scale)` rounded away from zero, saturating at the `i64` bounds
    /// (upstream `ScaledValue`).
    pub fn scaled_value(&self, scale: i32) -> i64 {
        if self.mantissa == 0 {
            return 0;
        }
        let delta = i64::from(self.exponent) - i64::from(scale);
        let v = if delta < 0 {
            Some(scale_down_away(self.mantissa, -delta).0)
        } else {
            scale_up(self.mantissa, delta)
        };
        match v {
            Some(v) => i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN }),
            None if self.mantissa > 0 => i64::MAX,
            None => i64::MIN,
        }
    }

    /// The value rounded away from zero to an integer (upstream `Value`).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded away from zero (upstream `MilliValue`).
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(-3)
    }

    /// The value as an `i64` if it is an integer that fits (upstream `AsInt64`, without its
    /// representation-dependent refusals).
    pub fn as_i64(&self) -> Option<i64> {
        let (m, e) = normalize(self.mantissa, i64::from(self.exponent));
        if e < 0 {
            return None;
        }
        scale_up(m, e).and_then(|v| i64::try_from(v).ok())
    }

    /// Rounds the value away from zero so its exponent is at least `scale`; returns whether
    /// no precision was lost (upstream `RoundUp`).
    pub fn round_up(&mut self, scale: i32) -> bool {
        if self.exponent >= scale {
            return true;
        }
        let (m, exact) =
            scale_down_away(self.mantissa, i64::from(scale) - i64::from(self.exponent));
        self.mantissa = m;
        self.exponent = scale;
        exact
    }

    /// Negates the value in place (upstream `Neg`).
    pub fn negate(&mut self) {
        self.mantissa = self.mantissa.saturating_neg();
    }

    /// Multiplies the value by `y` in place (upstream `Mul`); returns whether the resulting
    /// unscaled mantissa still fits an `i64`, as upstream does. The value itself stays exact
    /// (it saturates only beyond `i128`).
    pub fn mul_i64(&mut self, y: i64) -> bool {
        if self.mantissa == 0 {
            return true;
        }
        if y == 0 {
            self.mantissa = 0;
            self.exponent = 0;
            return true;
        }
        match self.mantissa.checked_mul(i128::from(y)) {
            Some(m) => {
                self.mantissa = m;
                i64::try_from(m).is_ok()
            }
            None => {
                let (m, e) = normalize(self.mantissa, i64::from(self.exponent));
                match (m.checked_mul(i128::from(y)), i32::try_from(e)) {
                    (Some(m), Ok(e)) => {
                        self.mantissa = m;
                        self.exponent = e;
                    }
                    _ => {
                        let positive = (self.mantissa > 0) == (y > 0);
                        self.mantissa = if positive { i128::MAX } else { -i128::MAX };
                    }
                }
                false
            }
        }
    }

    /// `self + y`, or `None` if the exact result does not fit 38 significant digits.
    /// The result takes `y`'s format when `self` is zero, as upstream.
    pub fn checked_add(&self, y: &Quantity) -> Option<Quantity> {
        let format = if self.mantissa == 0 {
            y.format
        } else {
            self.format
        };
        if y.mantissa == 0 {
            return Some(Quantity { format, ..*self });
        }
        if self.mantissa == 0 {
            return Some(Quantity { format, ..*y });
        }
        let sum = |a: (i128, i64), b: (i128, i64)| -> Option<(i128, i64)> {
            let e = a.1.min(b.1);
            let am = scale_up(a.0, a.1 - e)?;
            let bm = scale_up(b.0, b.1 - e)?;
            Some((am.checked_add(bm)?, e))
        };
        let a = (self.mantissa, i64::from(self.exponent));
        let b = (y.mantissa, i64::from(y.exponent));
        let (m, e) = match sum(a, b) {
            Some(r) => r,
            None => sum(normalize(a.0, a.1), normalize(b.0, b.1))?,
        };
        Some(Quantity {
            mantissa: m,
            exponent: i32::try_from(e).ok()?,
            format,
        })
    }

    /// `self - y`, or `None` if the exact result does not fit 38 significant digits.
    pub fn checked_sub(&self, y: &Quantity) -> Option<Quantity> {
        let neg = Quantity {
            mantissa: y.mantissa.checked_neg()?,
            ..*y
        };
        self.checked_add(&neg)
    }

    fn saturating_add(&self, y: &Quantity) -> Quantity {
        self.checked_add(y).unwrap_or_else(|| {
            let positive = self.cmp_value(&y.neg_value()) != Ordering::Less;
            Quantity {
                mantissa: if positive { i128::MAX } else { -i128::MAX },
                exponent: self.exponent.min(y.exponent),
                format: self.format,
            }
        })
    }

    fn neg_value(&self) -> Quantity {
        Quantity {
            mantissa: self.mantissa.saturating_neg(),
            ..*self
        }
    }

    /// Compares by value (upstream `Cmp`).
    pub fn cmp_value(&self, y: &Quantity) -> Ordering {
        if self.exponent == y.exponent {
            return self.mantissa.cmp(&y.mantissa);
        }
        let (sa, sb) = (self.mantissa.signum(), y.mantissa.signum());
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let (ae, be) = (i64::from(self.exponent), i64::from(y.exponent));
        // Align the operand with the larger exponent directly when that fits.
        let direct = if ae > be {
            scale_up(self.mantissa, ae - be).map(|a| a.cmp(&y.mantissa))
        } else {
            scale_up(y.mantissa, be - ae).map(|b| self.mantissa.cmp(&b))
        };
        if let Some(o) = direct {
            return o;
        }
        let (am, ae) = normalize(self.mantissa, ae);
        let (bm, be) = normalize(y.mantissa, be);
        if ae == be {
            return am.cmp(&bm);
        }
        // Overflow while aligning means the operand with the larger exponent is larger in
        // magnitude.
        if ae > be {
            match scale_up(am, ae - be) {
                Some(a) => a.cmp(&bm),
                None => sa.cmp(&0),
            }
        } else {
            match scale_up(bm, be - ae) {
                Some(b) => am.cmp(&b),
                None => 0.cmp(&sa),
            }
        }
    }

    /// Compares with an integer (upstream `CmpInt64`).
    pub fn cmp_i64(&self, y: i64) -> Ordering {
        self.cmp_value(&Quantity::new(y, Format::DecimalSI))
    }

    /// A fast `f64` approximation computed as upstream's `AsApproximateFloat64`:
    /// `mantissa as f64 × 10^exponent` (±Inf beyond the `f64` range).
    pub fn as_approximate_f64(&self) -> f64 {
        let base = self.mantissa as f64;
        if self.exponent == 0 {
            return base;
        }
        base * go_pow10(self.exponent)
    }

    /// The value as the nearest `f64` (upstream `AsFloat64Slow`; ±Inf beyond the `f64` range).
    pub fn as_f64(&self) -> f64 {
        let mut buf = format::StackBuf::new();
        // Writing a mantissa and an exponent always fits the buffer.
        let _ = std::fmt::Write::write_fmt(
            &mut buf,
            format_args!("{}e{}", self.mantissa, self.exponent),
        );
        buf.as_str().parse::<f64>().unwrap_or(f64::NAN)
    }

    /// Writes the canonical form into `buf` and returns it, without allocating
    /// (the same text as `Display`).
    pub fn canonical<'b>(&self, buf: &'b mut [u8; CANONICAL_MAX_LEN]) -> &'b str {
        format::canonical(self, buf)
    }
}

/// The longest canonical form [`Quantity::canonical`] can produce.
pub const CANONICAL_MAX_LEN: usize = 64;

/// Go's `math.Pow10` (table products, so results match upstream bit for bit).
fn go_pow10(n: i32) -> f64 {
    const TAB: [f64; 32] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31,
    ];
    const POS32: [f64; 10] = [
        1e0, 1e32, 1e64, 1e96, 1e128, 1e160, 1e192, 1e224, 1e256, 1e288,
    ];
    const NEG32: [f64; 11] = [
        1e-0, 1e-32, 1e-64, 1e-96, 1e-128, 1e-160, 1e-192, 1e-224, 1e-256, 1e-288, 1e-320,
    ];
    if (0..=308).contains(&n) {
        let n = n.unsigned_abs() as usize;
        return POS32[n / 32] * TAB[n % 32];
    }
    if (-323..=0).contains(&n) {
        let n = n.unsigned_abs() as usize;
        return NEG32[n / 32] / TAB[n % 32];
    }
    if n > 0 { f64::INFINITY } else { 0.0 }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_value(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_value(other)
    }
}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (m, e) = normalize(self.mantissa, i64::from(self.exponent));
        m.hash(state);
        e.hash(state);
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse::parse(s)
    }
}

impl TryFrom<&str> for Quantity {
    type Error = QuantityError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        parse::parse(s)
    }
}

impl TryFrom<String> for Quantity {
    type Error = QuantityError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse::parse(&s)
    }
}

impl From<i64> for Quantity {
    fn from(v: i64) -> Self {
        Quantity::new(v, Format::DecimalSI)
    }
}

impl From<i32> for Quantity {
    fn from(v: i32) -> Self {
        Quantity::new(i64::from(v), Format::DecimalSI)
    }
}

impl AddAssign<&Quantity> for Quantity {
    /// Adds in place (upstream `Add`); saturates only beyond 38 significant digits
    /// (use [`Quantity::checked_add`] to detect that).
    fn add_assign(&mut self, rhs: &Quantity) {
        *self = self.saturating_add(rhs);
    }
}

impl AddAssign for Quantity {
    fn add_assign(&mut self, rhs: Quantity) {
        *self += &rhs;
    }
}

impl SubAssign<&Quantity> for Quantity {
    /// Subtracts in place (upstream `Sub`); saturates only beyond 38 significant digits
    /// (use [`Quantity::checked_sub`] to detect that).
    fn sub_assign(&mut self, rhs: &Quantity) {
        *self = self.saturating_add(&rhs.neg_value());
    }
}

impl SubAssign for Quantity {
    fn sub_assign(&mut self, rhs: Quantity) {
        *self -= &rhs;
    }
}

impl Add for Quantity {
    type Output = Quantity;
    fn add(mut self, rhs: Quantity) -> Quantity {
        self += &rhs;
        self
    }
}

impl Add<&Quantity> for &Quantity {
    type Output = Quantity;
    fn add(self, rhs: &Quantity) -> Quantity {
        self.saturating_add(rhs)
    }
}

impl Sub for Quantity {
    type Output = Quantity;
    fn sub(mut self, rhs: Quantity) -> Quantity {
        self -= &rhs;
        self
    }
}

impl Sub<&Quantity> for &Quantity {
    type Output = Quantity;
    fn sub(self, rhs: &Quantity) -> Quantity {
        self.saturating_add(&rhs.neg_value())
    }
}

impl Neg for Quantity {
    type Output = Quantity;
    fn neg(self) -> Quantity {
        self.neg_value()
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::zero(), |acc, q| acc + q)
    }
}
