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
        ];
        for a in samples {
            for b in samples {
                assert_eq!(cmp(a, b), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(eq(a, b), a == b, "{a:?} == {b:?}");
            }
        }
    }
}
