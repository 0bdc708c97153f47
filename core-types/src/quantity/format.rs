//! Canonical formatting (upstream `Quantity.String()` / `CanonicalizeBytes`): the largest
//! suffix that keeps the mantissa an integer, without allocating.

use std::fmt::{self, Write};

use super::{CANONICAL_MAX_LEN, Format, Quantity, normalize, scale_down_away, scale_up};

/// A fixed-size text buffer that implements [`fmt::Write`].
pub(super) struct StackBuf {
    buf: [u8; CANONICAL_MAX_LEN],
    len: usize,
}

impl StackBuf {
    pub(super) fn new() -> Self {
        StackBuf {
            buf: [0; CANONICAL_MAX_LEN],
            len: 0,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        // Only whole `str`s are ever copied in, so this cannot fail.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn write_int<W: Write>(w: &mut W, v: i128) -> fmt::Result {
    // Hand-rolled decimal conversion: cheaper than the `fmt` machinery for this hot path.
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    let mut mag = v.unsigned_abs();
    if let Ok(mut small) = u64::try_from(mag) {
        loop {
            i -= 1;
            digits[i] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                break;
            }
        }
    } else {
        while mag > 0 {
            i -= 1;
            digits[i] = b'0' + (mag % 10) as u8;
            mag /= 10;
        }
    }
    if v < 0 {
        w.write_char('-')?;
    }
    w.write_str(std::str::from_utf8(&digits[i..]).map_err(|_| fmt::Error)?)
}

fn decimal_si_suffix(e: i64) -> Option<&'static str> {
    Some(match e {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// Writes the BinarySI form if the value is an integer of magnitude ≥ 1024 whose power of
/// 1024 has a suffix; returns false (writing nothing) otherwise.
fn write_binary<W: Write>(q: &Quantity, w: &mut W) -> Result<bool, fmt::Error> {
    let e = i64::from(q.exponent);
    let mut n = if e >= 0 {
        match scale_up(q.mantissa, e) {
            Some(n) => n,
            None => return Ok(false),
        }
    } else {
        match scale_down_away(q.mantissa, -e) {
            (n, true) => n,
            (_, false) => return Ok(false),
        }
    };
    if n > -1024 && n < 1024 {
        // |value| < 1024 (an exact integer here): upstream prints it as DecimalSI.
        return Ok(false);
    }
    let mut k = 0;
    while n % 1024 == 0 {
        n /= 1024;
        k += 1;
    }
    let Some(suffix) = BINARY_SUFFIXES.get(k) else {
        return Ok(false);
    };
    write_int(w, n)?;
    w.write_str(suffix)?;
    Ok(true)
}

/// Writes `q` in canonical form.
pub(super) fn write_canonical<W: Write>(q: &Quantity, w: &mut W) -> fmt::Result {
    if q.mantissa == 0 {
        return w.write_str("0");
    }
    let mut format = q.format;
    if format == Format::BinarySI {
        if write_binary(q, w)? {
            return Ok(());
        }
        format = Format::DecimalSI;
    }
    let (m, mut e) = normalize(q.mantissa, i64::from(q.exponent));
    let r = e.rem_euclid(3);
    e -= r;
    let suffix = match format {
        Format::DecimalSI => decimal_si_suffix(e),
        _ => None,
    };
    write_int(w, m)?;
    for _ in 0..r {
        w.write_char('0')?;
    }
    match suffix {
        Some(s) => w.write_str(s),
        None if e == 0 => Ok(()),
        None => write!(w, "e{e}"),
    }
}

/// Writes the canonical form into `buf` and returns it.
pub(super) fn canonical<'b>(q: &Quantity, buf: &'b mut [u8; CANONICAL_MAX_LEN]) -> &'b str {
    let mut sb = StackBuf::new();
    // The canonical form of any quantity fits CANONICAL_MAX_LEN bytes.
    let _ = write_canonical(q, &mut sb);
    let len = sb.len;
    buf[..len].copy_from_slice(&sb.buf[..len]);
    std::str::from_utf8(&buf[..len]).unwrap_or("")
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sb = StackBuf::new();
        write_canonical(self, &mut sb)?;
        f.pad(sb.as_str())
    }
}
