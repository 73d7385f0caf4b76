//! The few Python `str` and `float` operations VADER relies on, with CPython's semantics, so
//! that tokens, case tests and rounding come out exactly as in the reference.

use std::borrow::Cow;

use super::python;

/// `str.isspace()` of one character: Rust's White_Space plus the four ASCII separators
/// U+001C..U+001F that CPython also counts as space.
#[inline]
pub fn is_space(c: char) -> bool {
    if c.is_ascii() {
        matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f')
    } else {
        c.is_whitespace()
    }
}

/// `str.strip()` without arguments.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `str.split()` without arguments (runs of space separate, no empty pieces), with each
/// piece's byte offset in `s`.
pub fn split(s: &str) -> Split<'_> {
    Split { s, pos: 0 }
}

pub struct Split<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for Split<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = self.s.get(self.pos..)?;
        let start = self.pos + rest.find(|c| !is_space(c))?;
        let piece = self.s.get(start..)?;
        let piece = piece.split(is_space).next()?;
        self.pos = start + piece.len();
        Some((start, piece))
    }
}

/// `SentiText._strip_punc_if_word`: strip `string.punctuation` from both ends unless that
/// leaves two characters or fewer (likely an emoticon such as ":)"). Also gives the offset
/// of the result in `token`.
pub fn strip_punc_if_word(token: &str) -> (usize, &str) {
    // ASCII punctuation bytes never occur inside a multi-byte character.
    let b = token.as_bytes();
    let start = b.iter().position(|c| !c.is_ascii_punctuation()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_punctuation()).map_or(start, |i| i + 1);
    match token.get(start..end) {
        Some(stripped) if stripped.chars().nth(2).is_some() => (start, stripped),
        _ => (0, token),
    }
}

/// ASCII letters lower-cased, every other byte kept: for an ASCII token, `str.lower()` is its
/// range of this.
pub fn ascii_lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// `str.lower()` of a Python whose Unicode tables are version `unicode`: full lower-casing,
/// final sigma included.
pub fn lower(s: &str, unicode: u8) -> Cow<'_, str> {
    if s.is_ascii() {
        return ascii_lower(s);
    }
    let l = if s.chars().any(|c| python::uncased(c, unicode)) {
        let mut l = String::with_capacity(s.len());
        for c in s.chars() {
            if python::uncased(c, unicode) {
                l.push(c);
            } else {
                l.extend(c.to_lowercase());
            }
        }
        l
    } else {
        s.to_lowercase()
    };
    if l == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(l)
    }
}

/// `str.isupper()`: no lower- or title-case letter and at least one upper-case one.
pub fn is_upper(s: &str, unicode: u8) -> bool {
    let mut cased = false;
    if s.is_ascii() {
        for b in s.bytes() {
            if b.is_ascii_lowercase() {
                return false;
            }
            cased |= b.is_ascii_uppercase();
        }
        return cased;
    }
    for c in s.chars() {
        if python::uncased(c, unicode) {
            continue;
        }
        if c.is_lowercase() || is_titlecase(c) || python::lowercase_before(c, unicode) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// General category Lt, which Rust has no test for.
fn is_titlecase(c: char) -> bool {
    matches!(c, '\u{01C5}' | '\u{01C8}' | '\u{01CB}' | '\u{01F2}' | '\u{1F88}'..='\u{1F8F}' | '\u{1F98}'..='\u{1F9F}' | '\u{1FA8}'..='\u{1FAF}' | '\u{1FBC}' | '\u{1FCC}' | '\u{1FFC}')
}

/// Python's `round(x, ndigits)` for floats (`ndigits` 0 to 17): the exact binary value
/// rounded half-to-even to `ndigits` decimals, read back correctly rounded.
pub fn round(x: f64, ndigits: i32) -> f64 {
    let p = 10f64.powi(ndigits);
    let y = x * p;
    // Away from a tie the product's error cannot change the nearest integer k, and k / p
    // (both exact) is correctly rounded, just as reading the decimal back is.
    if (0..=17).contains(&ndigits) && y.abs() < 1e9 && ((y - y.trunc()).abs() - 0.5).abs() > 1e-6 {
        return y.round() / p;
    }
    round_exact(x, ndigits)
}

/// Rust's fixed-precision formatting is exact with ties to even, as Python's dtoa is.
fn round_exact(x: f64, ndigits: i32) -> f64 {
    if !x.is_finite() || !(0..=17).contains(&ndigits) {
        return x;
    }
    let digits = ndigits as usize;
    let mut buf = String::with_capacity(32);
    let _ = std::fmt::Write::write_fmt(&mut buf, format_args!("{x:.digits$}"));
    buf.parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_string_semantics() {
        assert_eq!(split(" a\u{1f}bé\u{a0} c ").collect::<Vec<_>>(), [(1, "a"), (3, "bé"), (9, "c")]);
        assert_eq!(split(" \t ").next(), None);
        assert_eq!(strip_punc_if_word(":)"), (0, ":)"));
        assert_eq!(strip_punc_if_word("(good!!!"), (1, "good"));
        assert_eq!(strip_punc_if_word("'ok'"), (0, "'ok'"));
        assert_eq!(lower("ÉTÉ", 14), "été");
        assert_eq!(lower("ΟΔΟΣ", 14), "οδος");
        assert!(is_upper(":D", 14) && is_upper("SUX!", 14) && !is_upper(":)", 14) && !is_upper("Ǆa", 14));
        assert!(!is_upper("\u{01C5}X", 14));
        // U+1C89 has a lower case since Unicode 16 only.
        assert_eq!(lower("\u{1C89}", 14), "\u{1C89}");
        assert_eq!(lower("\u{1C89}", 16), "\u{1C8A}");
        assert!(!is_upper("\u{0295}A", 15) && is_upper("\u{0295}A", 17));
    }

    #[test]
    fn rounding_is_python_round() {
        assert_eq!(round(0.0625, 3), 0.062);
        assert_eq!(round(0.1875, 3), 0.188);
        assert_eq!(round(0.03125, 4), 0.0312);
        assert_eq!(round(2.675, 2), 2.67);
        assert_eq!(round(-0.00004, 4).to_bits(), (-0.0f64).to_bits());
        assert_eq!(round(0.1234567, 3), 0.123);
        assert_eq!(round(-0.98765, 4), -0.9877);
    }
}
