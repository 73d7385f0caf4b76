//! What the reference's results owe to the CPython version running it: `sum()` and the
//! Unicode tables behind `str.lower()` and `str.isupper()`.

use super::rules::Num;

/// The CPython version whose vaderSentiment results to reproduce (default 3.11). When word
/// scores cancel out, 3.11's plain `sum()` and 3.12's compensated one can disagree on the
/// sign of a near-zero total, and with it on whether punctuation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonVersion {
    pub major: u32,
    pub minor: u32,
}

impl Default for PythonVersion {
    fn default() -> Self {
        PythonVersion { major: 3, minor: 11 }
    }
}

impl PythonVersion {
    /// From "3.12" (anything after the minor number, as in "3.12.1", is ignored).
    pub fn parse(version: &str) -> Option<PythonVersion> {
        let mut parts = version.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(PythonVersion { major, minor })
    }

    pub(super) fn summation(self) -> Summation {
        match (self.major, self.minor) {
            (0..=2, _) | (3, 0..=11) => Summation::Plain,
            (3, 12..=13) => Summation::CompensatedFloats,
            _ => Summation::Compensated,
        }
    }

    /// The Unicode major version of its `unicodedata` (older than 3.11 counts as 3.11).
    pub(super) fn unicode(self) -> u8 {
        match (self.major, self.minor) {
            (0..=2, _) | (3, 0..=11) => 14,
            (3, 12..=13) => 15,
            _ => 16,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Summation {
    /// 3.11 and older: left to right.
    Plain,
    /// 3.12 and 3.13: Neumaier-compensated over floats; ints are added plainly.
    CompensatedFloats,
    /// 3.14 and newer: Neumaier-compensated over ints and floats.
    Compensated,
}

impl Summation {
    /// `float(sum(scores))` with CPython's fast paths: ints accumulate exactly until the
    /// first float, which is added plainly; then this version's float loop.
    pub(super) fn sum(self, scores: &[Num]) -> f64 {
        let mut it = scores.iter();
        let mut ints = 0i64;
        let mut f = loop {
            match it.next() {
                None => return ints as f64,
                Some(n) if n.int => ints += n.v as i64,
                Some(n) => break ints as f64 + n.v,
            }
        };
        let mut c = 0.0f64;
        for n in it {
            if self == Summation::Plain || (n.int && self == Summation::CompensatedFloats) {
                f += n.v;
                continue;
            }
            let t = f + n.v;
            if f.abs() >= n.v.abs() {
                c += (f - t) + n.v;
            } else {
                c += (n.v - t) + f;
            }
            f = t;
        }
        if c != 0.0 && c.is_finite() {
            f += c;
        }
        f
    }
}

/// Letters that Rust's Unicode tables give a case, with the Unicode version that gave them
/// one (or changed it): to a Python whose tables are older they are uncased.
const CASED_SINCE: &[(char, char, u8)] = &[
    ('\u{10FC}', '\u{10FC}', 15),
    ('\u{A7F2}', '\u{A7F4}', 15),
    ('\u{AB69}', '\u{AB69}', 15),
    ('\u{1DF25}', '\u{1DF2A}', 15),
    ('\u{1E030}', '\u{1E06D}', 15),
    ('\u{1C89}', '\u{1C8A}', 16),
    ('\u{A7CB}', '\u{A7CD}', 16),
    ('\u{A7DA}', '\u{A7DC}', 16),
    ('\u{10D50}', '\u{10D65}', 16),
    ('\u{10D70}', '\u{10D85}', 16),
    ('\u{A7CE}', '\u{A7CF}', 17),
    ('\u{A7D2}', '\u{A7D2}', 17),
    ('\u{A7D4}', '\u{A7D4}', 17),
    ('\u{A7F1}', '\u{A7F1}', 17),
    ('\u{16EA0}', '\u{16EB8}', 17),
    ('\u{16EBB}', '\u{16ED3}', 17),
];

/// Uncased for Python's Unicode `unicode`, though Rust gives it a case.
pub(super) fn uncased(c: char, unicode: u8) -> bool {
    c >= '\u{10FC}' && CASED_SINCE.iter().any(|&(lo, hi, since)| (lo..=hi).contains(&c) && unicode < since)
}

/// Lower-case for Python's Unicode `unicode` though not for Rust's: U+0295 before Unicode 17.
pub(super) fn lowercase_before(c: char, unicode: u8) -> bool {
    c == '\u{0295}' && unicode < 17
}
