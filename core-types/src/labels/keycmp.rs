//! Short-string comparison for label keys and values, inlined instead of calling `memcmp`.
//!
//! Label keys and values are short (a value is at most 63 bytes), and for such strings a
//! library `memcmp`/`bcmp` call costs more than the comparison itself. Comparing 8-byte words
//! (big-endian, so numeric order is lexicographic order) keeps selector matching in the
//! nanosecond range.

use std::cmp::Ordering;

#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_be_bytes(w)
}

/// The first 8 bytes of `s` as a big-endian integer, zero padded: the "head" that
/// [`super::LabelMap`] entries and [`super::Requirement`]s cache.
///
/// Heads order like the strings they start: `head(a) < head(b)` implies `a < b` (byte order),
/// so unequal heads decide a comparison; equal heads decide it only when both strings are at
/// most 8 bytes long (then the shorter one is a prefix of the other, padded with NULs).
#[inline]
pub(crate) fn head(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut w = [0u8; 8];
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(w)
}

/// Byte equality of two strings given their [`head`]s: the heads and lengths decide strings
/// of up to 8 bytes without reading them.
#[inline(always)]
pub(crate) fn eq_headed(a_head: u64, a: &str, b_head: u64, b: &str) -> bool {
    a_head == b_head && a.len() == b.len() && (a.len() <= 8 || eq(a, b))
}

/// Byte order of two strings given their [`head`]s (the order of `str::cmp`); the strings are
/// read only when the heads tie and one of them is longer than 8 bytes.
#[inline(always)]
pub(crate) fn cmp_headed(a_head: u64, a: &str, b_head: u64, b: &str) -> Ordering {
    match a_head.cmp(&b_head) {
        Ordering::Equal if a.len() <= 8 && b.len() <= 8 => a.len().cmp(&b.len()),
        Ordering::Equal => cmp(a, b),
        unequal => unequal,
    }
}

/// Whether two strings are byte-equal.
#[inline(always)]
pub(crate) fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i + 8 <= a.len() {
        if word(&a[i..]) != word(&b[i..]) {
            return false;
        }
        i += 8;
    }
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Lexicographic byte order of two strings (the order of `str::cmp`).
#[inline(always)]
pub(crate) fn cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Most label keys differ in their first byte: decide that case without entering the loop.
    if let (Some(x), Some(y)) = (a.first(), b.first())
        && x != y
    {
        return x.cmp(y);
    }
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let (x, y) = (word(&a[i..]), word(&b[i..]));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    while i < n {
        if a[i] != b[i] {
            return a[i].cmp(&b[i]);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Agrees with the standard library on every pair from a mix of lengths and contents.
    #[test]
    fn agrees_with_std() {
        let samples = [
            "",
            "a",
            "b",
            "ab",
            "app",
            "app.kubernetes.io/name",
            "app.kubernetes.io/nbme",
            "app.kubernetes.io/na",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "zzzzzzzzzzzzzzzzz",
            "\u{e9}t\u{e9}",
            "a\0",
            "a\0\0\0\0\0\0\0",
            "a\0\0\0\0\0\0\0\0",
            "a\0\0\0\0\0\0\0b",
            "app.kub",
            "app.kube",
            "app.kuber",
        ];
        for a in samples {
            for b in samples {
                assert_eq!(cmp(a, b), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(eq(a, b), a == b, "{a:?} == {b:?}");
                let (ha, hb) = (head(a), head(b));
                assert_eq!(
                    cmp_headed(ha, a, hb, b),
                    a.cmp(b),
                    "{a:?} vs {b:?} (headed)"
                );
                assert_eq!(eq_headed(ha, a, hb, b), a == b, "{a:?} == {b:?} (headed)");
            }
        }
    }
}
