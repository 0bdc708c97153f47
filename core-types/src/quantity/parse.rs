//! The quantity parser: upstream's scanner (`parseQuantityString`) and `ParseQuantity`
//! semantics — fast exact path for common inputs, exact rounding (away from zero, to nano
//! precision) and the BinarySI cap otherwise. Allocates only to report an error.

use super::wide::U256;
use super::{Format, Quantity, QuantityError};

/// Where the parts of a scanned quantity lie in the input.
struct Scan {
    negative: bool,
    /// Significant integer digits (leading zeros stripped): `bytes[num.0..num.1]`.
    num: (usize, usize),
    /// Fraction digits: `bytes[denom.0..denom.1]`.
    denom: (usize, usize),
    /// Whether the number part holds any digit at all.
    any_digit: bool,
    /// The suffix: `bytes[suffix..]`.
    suffix: usize,
}

fn format_err(s: &str) -> QuantityError {
    QuantityError::Format {
        input: s.to_owned(),
    }
}

fn out_of_range(s: &str) -> QuantityError {
    QuantityError::OutOfRange {
        input: s.to_owned(),
    }
}

/// Upstream's scanner: sign, digits, optional `.digits`, then `[eEinumkKMGTP]*[+-]?[0-9]*`.
fn scan(s: &str) -> Result<Scan, QuantityError> {
    let b = s.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut negative = false;
    match b.first() {
        Some(b'-') => {
            negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    let mut any_digit = false;
    while pos < end && b[pos] == b'0' {
        pos += 1;
        any_digit = true;
    }
    let num_start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = (num_start, pos);
    any_digit |= pos > num_start;
    let mut denom = (pos, pos);
    if pos < end && b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = (start, pos);
        any_digit |= pos > start;
    }
    let suffix = pos;
    while pos < end
        && matches!(
            b[pos],
            b'e' | b'E' | b'i' | b'n' | b'u' | b'm' | b'k' | b'K' | b'M' | b'G' | b'T' | b'P'
        )
    {
        pos += 1;
    }
    if pos < end && matches!(b[pos], b'+' | b'-') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos != end {
        return Err(format_err(s));
    }
    Ok(Scan {
        negative,
        num,
        denom,
        any_digit,
        suffix,
    })
}

/// Upstream's suffix table, then `e`/`E` exponents (parsed as int64, truncated to int32).
fn interpret(suffix: &[u8]) -> Option<(u32, i32, Format)> {
    let dec = |e| Some((10, e, Format::DecimalSI));
    let bin = |e| Some((2, e, Format::BinarySI));
    match suffix {
        b"" => dec(0),
        b"n" => dec(-9),
        b"u" => dec(-6),
        b"m" => dec(-3),
        b"k" => dec(3),
        b"M" => dec(6),
        b"G" => dec(9),
        b"T" => dec(12),
        b"P" => dec(15),
        b"E" => dec(18),
        b"Ki" => bin(10),
        b"Mi" => bin(20),
        b"Gi" => bin(30),
        b"Ti" => bin(40),
        b"Pi" => bin(50),
        b"Ei" => bin(60),
        [b'e' | b'E', rest @ ..] if !rest.is_empty() => {
            let text = std::str::from_utf8(rest).ok()?;
            let e: i64 = text.parse().ok()?;
            // Upstream truncates the int64 exponent to int32.
            Some((10, e as i32, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// Parses `s` as upstream `ParseQuantity`.
pub(super) fn parse(s: &str) -> Result<Quantity, QuantityError> {
    if s.is_empty() {
        return Err(format_err(s));
    }
    let sc = scan(s)?;
    let b = s.as_bytes();
    let Some((base, exp, format)) = interpret(&b[sc.suffix..]) else {
        return Err(QuantityError::Suffix {
            input: s.to_owned(),
            suffix: s[sc.suffix..].to_owned(),
        });
    };
    let len_num = sc.num.1 - sc.num.0;
    let len_denom = sc.denom.1 - sc.denom.0;
    // Upstream counts an empty (all-zero) integer part as the one digit "0".
    let digits = len_num.max(1) + len_denom;

    // Fast path, under exactly upstream's conditions (so the stored mantissa/exponent match).
    if base == 10 {
        let scale = i64::from(exp) - len_denom as i64;
        if digits <= 18 && scale >= -9 {
            let mut acc: i64 = 0;
            for &d in b[sc.num.0..sc.num.1]
                .iter()
                .chain(&b[sc.denom.0..sc.denom.1])
            {
                acc = acc * 10 + i64::from(d - b'0');
            }
            return Ok(Quantity {
                mantissa: i128::from(if sc.negative { -acc } else { acc }),
                exponent: scale as i32,
                format,
            });
        }
    } else if len_denom == 0 {
        let precision = 15 - len_num.max(1) as i64 - (i64::from(exp) * 3 / 10) - 1;
        if precision >= 0 {
            let mut acc: i64 = 0;
            for &d in &b[sc.num.0..sc.num.1] {
                acc = acc * 10 + i64::from(d - b'0');
            }
            if let Some(v) = acc.checked_mul(1i64 << exp) {
                return Ok(Quantity {
                    mantissa: i128::from(if sc.negative { -v } else { v }),
                    exponent: 0,
                    format,
                });
            }
        }
    }

    if !sc.any_digit {
        return Err(QuantityError::Numeric {
            input: s.to_owned(),
        });
    }
    let digit_iter = || {
        b[sc.num.0..sc.num.1]
            .iter()
            .chain(&b[sc.denom.0..sc.denom.1])
            .map(|d| d - b'0')
    };
    let (magnitude, exponent, format) = if base == 10 {
        let (m, e) = slow_decimal(
            digit_iter,
            len_num + len_denom,
            i64::from(exp) - len_denom as i64,
        )
        .ok_or_else(|| out_of_range(s))?;
        (m, e, format)
    } else {
        let (m, f) = slow_binary(digit_iter, len_num, len_denom, exp as u32);
        (m, -9, f)
    };
    let mantissa = i128::try_from(magnitude).map_err(|_| out_of_range(s))?;
    Ok(Quantity {
        mantissa: if sc.negative { -mantissa } else { mantissa },
        exponent,
        format,
    })
}

/// Exact decimal value `digits × 10^scale`, rounded away from zero to nano precision.
/// Returns the magnitude and exponent (nano units when they fit, else normalized).
fn slow_decimal<I: Iterator<Item = u8>>(
    digits: impl Fn() -> I,
    count: usize,
    scale: i64,
) -> Option<(u128, i32)> {
    // Digits below 10^-9 are dropped and only remembered as "something was there".
    let drop = if scale < -9 { (-9 - scale) as u128 } else { 0 };
    let keep = (count as u128).saturating_sub(drop) as usize;
    let mut acc: u128 = 0;
    let mut zeros: i64 = 0;
    let mut sticky = false;
    for (i, d) in digits().enumerate() {
        if i >= keep {
            sticky |= d != 0;
        } else if d == 0 {
            if acc != 0 {
                zeros += 1;
            }
        } else {
            let p = super::pow10(zeros + 1)?;
            acc = acc.checked_mul(p as u128)?.checked_add(u128::from(d))?;
            zeros = 0;
        }
    }
    let mut exponent = scale.max(-9) + zeros;
    if acc == 0 && !sticky {
        return Some((0, 0));
    }
    if sticky {
        acc = acc
            .checked_mul(super::pow10(zeros)? as u128)?
            .checked_add(1)?;
        exponent = -9;
    }
    // Prefer upstream's nano-scaled representation when it fits.
    if exponent > -9
        && let Some(n) = super::pow10(exponent + 9).and_then(|p| acc.checked_mul(p as u128))
        && n <= i128::MAX as u128
    {
        return Some((n, -9));
    }
    Some((acc, i32::try_from(exponent).ok()?))
}

/// Nano units of `digits × 10^-len_denom × 2^exp`, rounded away from zero, capped at
/// (2^63-1)×10^9, with upstream's switch to DecimalSI for values strictly between 0 and 1.
fn slow_binary<I: Iterator<Item = u8>>(
    digits: impl Fn() -> I,
    len_num: usize,
    len_denom: usize,
    exp: u32,
) -> (u128, Format) {
    const CAP: u128 = (i64::MAX as u128) * 1_000_000_000;
    if len_num > 19 {
        return (CAP, Format::BinarySI);
    }
    let pow2 = 1u64 << exp;
    let mut n = U256::default();
    let mut sticky = false;
    let k = 9 - len_denom as i64;
    let fits = if k >= 0 {
        let mut ok = true;
        for d in digits() {
            ok &= n.mul_add(10, u64::from(d));
        }
        for _ in 0..k {
            ok &= n.mul_add(10, 0);
        }
        ok && n.mul_add(pow2, 0)
    } else {
        // Divide by 10^m; digits further right than 10^-(m-19) cannot reach a nano unit
        // once multiplied by 2^exp < 10^19, so they only count as "nonzero remainder".
        let m = -k;
        let t = (m - 19).max(0) as usize;
        let keep = len_num + len_denom - t;
        let mut ok = true;
        for (i, d) in digits().enumerate() {
            if i < keep {
                ok &= n.mul_add(10, u64::from(d));
            } else {
                sticky |= d != 0;
            }
        }
        ok &= n.mul_add(pow2, 0);
        let p = super::POW10[(m as usize) - t] as u64;
        let rem = n.div_rem(p);
        if ok && (rem != 0 || sticky) {
            ok &= n.mul_add(1, 1);
        }
        ok
    };
    match n.to_u128() {
        _ if !fits => (CAP, Format::BinarySI),
        Some(v) if v > CAP => (CAP, Format::BinarySI),
        Some(v) if v > 0 && v < 1_000_000_000 => (v, Format::DecimalSI),
        Some(v) => (v, Format::BinarySI),
        None => (CAP, Format::BinarySI),
    }
}
