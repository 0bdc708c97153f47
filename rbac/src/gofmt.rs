//! Go's `%q` and `%v` renderings of strings and string lists, so messages match upstream's
//! byte for byte (`["a" "b"]`, `[a b]`).

use std::fmt;

/// Writes `s` as Go's `strconv.Quote` does: double quotes, `\"` and `\\`, the usual escapes
/// for control characters, `\u`/`\U` for other non-printable characters.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\u{7}' => f.write_str("\\a")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{b}' => f.write_str("\\v")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    write!(f, "\\u{:04x}", c as u32)?;
                } else {
                    write!(f, "\\U{:08x}", c as u32)?;
                }
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// `s` as Go's `%q` renders it.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_quoted(&mut out, s);
    out
}

/// A list as Go's `%q` renders a `[]string`: `["a" "b"]`.
pub(crate) fn write_quoted_list(f: &mut impl fmt::Write, items: &[String]) -> fmt::Result {
    f.write_char('[')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(' ')?;
        }
        write_quoted(f, item)?;
    }
    f.write_char(']')
}

/// A list as Go's `%v` renders a `[]string`: `[a b]`.
pub(crate) fn plain_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_go() {
        let cases = [
            ("plain", "\"plain\""),
            ("a\"b", "\"a\\\"b\""),
            ("back\\slash", "\"back\\\\slash\""),
            ("line\nbreak", "\"line\\nbreak\""),
            ("\u{1}", "\"\\x01\""),
            ("é", "\"é\""),
        ];
        for (input, want) in cases {
            assert_eq!(quote(input), want, "{input:?}");
        }
        let mut s = String::new();
        write_quoted_list(&mut s, &["a".to_owned(), "b c".to_owned()]).unwrap();
        assert_eq!(s, "[\"a\" \"b c\"]");
        assert_eq!(plain_list(&[]), "[]");
        assert_eq!(
            plain_list(&["get".to_owned(), "list".to_owned()]),
            "[get list]"
        );
    }
}
