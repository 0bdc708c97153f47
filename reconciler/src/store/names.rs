//! Server-generated identity: object uids and `generateName` suffixes, as upstream makes them.

/// Upstream's alphabet for generated suffixes (`k8s.io/apimachinery/pkg/util/rand`): lower-case
/// consonants and digits without vowels or look-alikes, so no words and no `l`/`1` confusion.
pub const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Length of the random suffix `generateName` appends.
pub const SUFFIX_LEN: usize = 5;

/// Longest object name (a DNS-1123 label/subdomain prefix, upstream's `maxNameLength`).
pub const MAX_NAME_LEN: usize = 63;

/// `generateName` + 5 random characters, the prefix cut so the result fits in 63 characters
/// (upstream's `SimpleNameGenerator`).
pub fn generate_name(prefix: &str) -> String {
    let max_prefix = MAX_NAME_LEN - SUFFIX_LEN;
    let mut cut = prefix.len().min(max_prefix);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = String::with_capacity(cut + SUFFIX_LEN);
    name.push_str(&prefix[..cut]);
    for _ in 0..SUFFIX_LEN {
        let i = fastrand::usize(..SUFFIX_ALPHABET.len());
        name.push(char::from(SUFFIX_ALPHABET[i]));
    }
    name
}

/// A random (version 4) UUID in its canonical text form, as upstream's object uids.
pub fn new_uid() -> String {
    let hi = fastrand::u64(..);
    let lo = fastrand::u64(..);
    // Version 4, variant 10xx.
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    uuid_text(hi, lo)
}

/// The canonical text of the UUID whose bits are `hi` then `lo`: 32 lowercase hex digits in
/// groups of 8-4-4-4-12, written digit by digit (every create makes one).
fn uuid_text(hi: u64, lo: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits = (u128::from(hi) << 64) | u128::from(lo);
    let mut text = [b'-'; 36];
    let mut shift = 128;
    for (i, slot) in text.iter_mut().enumerate() {
        if !matches!(i, 8 | 13 | 18 | 23) {
            shift -= 4;
            *slot = HEX[((bits >> shift) & 0xf) as usize];
        }
    }
    std::str::from_utf8(&text)
        .map(str::to_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names() {
        let cases: &[(&str, usize, &str)] = &[
            ("web-", 9, "web-"),
            ("", 5, ""),
            (&"a".repeat(70), 63, &"a".repeat(58)),
        ];
        for (prefix, len, kept) in cases {
            let n = generate_name(prefix);
            assert_eq!(n.len(), *len, "{prefix:?} -> {n}");
            assert!(n.starts_with(kept), "{n}");
            assert!(
                n[kept.len()..]
                    .bytes()
                    .all(|b| SUFFIX_ALPHABET.contains(&b)),
                "{n}"
            );
        }
    }

    #[test]
    fn uuid_text_is_canonical() {
        let cases = [
            (0, 0),
            (u64::MAX, u64::MAX),
            (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
            (0x4000, 0x8000_0000_0000_0000),
        ];
        for (hi, lo) in cases
            .into_iter()
            .chain((0..256).map(|_| (fastrand::u64(..), fastrand::u64(..))))
        {
            let want = format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xffff,
                lo >> 48,
                lo & 0xffff_ffff_ffff
            );
            assert_eq!(uuid_text(hi, lo), want);
        }
        assert_eq!(
            uuid_text(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
            "01234567-89ab-cdef-fedc-ba9876543210"
        );
    }

    #[test]
    fn uids_are_v4() {
        let u = new_uid();
        assert_eq!(u.len(), 36, "{u}");
        assert_eq!(&u[14..15], "4", "{u}");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, new_uid());
    }
}
