//! VADER sentiment scores, identical to the Python package vaderSentiment 3.3.2.
//! The lexicons and LICENSE (MIT, C.J. Hutto) are the files of its 3.3.2 wheel on PyPI.
//!
//! Every step follows the reference in the same order of float operations, so the unrounded
//! scores are the same doubles as Python's, and they are rounded as Python's `round` does.
//! Results differ slightly between Python versions; [`PythonVersion`] says which to match.

mod pystr;
mod python;
mod rules;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

pub use python::PythonVersion;
use python::Summation;
use rules::{Entry, Num, Word};

const LEXICON: &str = include_str!("vader_lexicon.txt");
const EMOJI_LEXICON: &str = include_str!("emoji_utf8_lexicon.txt");

/// `polarity_scores` of vaderSentiment: shares of negative, neutral and positive words, and
/// the normalised sum in [-1, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
    pub compound: f64,
}

/// The analyser: the lexicons parsed once, then shared by every call.
pub struct Vader {
    /// Lexicon valences and the booster and negation lists, by lower-cased word.
    words: HashMap<&'static str, Entry, BuildHasherDefault<WordHasher>>,
    /// Emoji descriptions by character; the reference replaces character by character, so
    /// its multi-character entries (skin tones, flags, variation selectors) never match.
    emoji_ascii: [Option<&'static str>; 128],
    emoji: HashMap<char, &'static str, BuildHasherDefault<WordHasher>>,
    ascii_emoji: bool,
    sum: Summation,
    unicode: u8,
}

/// The analyser built once for the process (matching Python 3.11).
pub fn shared() -> &'static Vader {
    static VADER: OnceLock<Vader> = OnceLock::new();
    VADER.get_or_init(Vader::new)
}

impl Default for Vader {
    fn default() -> Self {
        Vader::new()
    }
}

impl Vader {
    /// Parse the embedded lexicons as the reference does: the last entry of a repeated word
    /// wins; a line it could not parse either is skipped.
    pub fn new() -> Vader {
        let mut words: HashMap<&'static str, Entry, _> = HashMap::with_capacity_and_hasher(8192, BuildHasherDefault::default());
        for line in LEXICON.trim_end_matches('\n').split('\n').filter(|l| !l.is_empty()) {
            let mut f = pystr::strip(line).split('\t');
            if let (Some(word), Some(measure)) = (f.next(), f.next()) {
                if let Ok(v) = pystr::strip(measure).parse::<f64>() {
                    words.entry(word).or_default().lex = Some(v);
                }
            }
        }
        for (list, b) in [(rules::BOOST_INCR, rules::B_INCR), (rules::BOOST_DECR, rules::B_DECR)] {
            for &w in list {
                words.entry(w).or_default().boost = Some(b);
            }
        }
        for &w in rules::NEGATE {
            words.entry(w).or_default().negation = true;
        }
        let mut emoji_ascii = [None; 128];
        let mut emoji = HashMap::with_capacity_and_hasher(2048, BuildHasherDefault::default());
        for line in EMOJI_LEXICON.trim_end_matches('\n').split('\n') {
            let mut f = pystr::strip(line).split('\t');
            if let (Some(key), Some(description)) = (f.next(), f.next()) {
                let mut chars = key.chars();
                if let (Some(c), None) = (chars.next(), chars.next()) {
                    if c.is_ascii() {
                        emoji_ascii[c as usize] = Some(description);
                    } else {
                        emoji.insert(c, description);
                    }
                }
            }
        }
        let ascii_emoji = emoji_ascii.iter().any(Option::is_some);
        let python = PythonVersion::default();
        Vader { words, emoji_ascii, emoji, ascii_emoji, sum: python.summation(), unicode: python.unicode() }
    }

    /// The same analyser reproducing the results of the reference run by another Python.
    pub fn for_python(mut self, version: PythonVersion) -> Vader {
        self.sum = version.summation();
        self.unicode = version.unicode();
        self
    }

    fn emoji_of(&self, c: char) -> Option<&'static str> {
        if c.is_ascii() {
            self.emoji_ascii[c as usize]
        } else {
            self.emoji.get(&c).copied()
        }
    }

    /// Emoji replaced by their descriptions, exactly as the reference does: a space before a
    /// description unless one precedes it, none after it.
    fn replace_emoji<'t>(&self, text: &'t str) -> Cow<'t, str> {
        // Without ASCII emoji keys (the shipped lexicon has none), ASCII runs are skipped fast.
        let start = if self.ascii_emoji { 0 } else { text.bytes().position(|b| !b.is_ascii()).unwrap_or(text.len()) };
        let rest = text.get(start..).unwrap_or("");
        let Some(first) = rest.char_indices().find(|&(_, c)| self.emoji_of(c).is_some()).map(|(i, _)| start + i) else {
            return Cow::Borrowed(text);
        };
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str(&text[..first]);
        let mut prev_space = first == 0 || text[..first].ends_with(' ');
        for c in text[first..].chars() {
            if let Some(description) = self.emoji_of(c) {
                if !prev_space {
                    out.push(' ');
                }
                out.push_str(description);
                prev_space = false;
            } else {
                out.push(c);
                prev_space = c == ' ';
            }
        }
        Cow::Owned(out)
    }

    /// The scores of `text`, as vaderSentiment's `polarity_scores` gives them.
    pub fn polarity_scores(&self, text: &str) -> Scores {
        let replaced = self.replace_emoji(text);
        let text = pystr::strip(&replaced);
        // One lower-cased copy serves every ASCII token; only others are lower-cased alone.
        let lowered = pystr::ascii_lower(text);
        let mut words: Vec<Word> = Vec::with_capacity(text.len() / 2 + 1);
        for (at, token) in pystr::split(text) {
            let (offset, token) = pystr::strip_punc_if_word(token);
            let start = at + offset;
            let lower = match lowered.get(start..start + token.len()) {
                Some(l) if token.is_ascii() => Cow::Borrowed(l),
                _ => pystr::lower(token, self.unicode),
            };
            let e = self.words.get(&*lower).copied().unwrap_or_default();
            let negated = e.negation || lower.as_bytes().windows(3).any(|w| w == b"n't");
            words.push(Word { upper: pystr::is_upper(token, self.unicode), lower, lex: e.lex, boost: e.boost, negated });
        }
        let n_upper = words.iter().filter(|w| w.upper).count();
        let is_cap_diff = n_upper > 0 && n_upper < words.len();
        let mut sentiments = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            // Boosters and "kind" of "kind of" only modify their neighbours.
            let modifier = w.boost.is_some() || (w.lower == "kind" && words.get(i + 1).is_some_and(|n| n.lower == "of"));
            sentiments.push(match w.lex {
                Some(lex) if !modifier => rules::valence_of(&words, i, lex, is_cap_diff),
                _ => Num::int(0.0),
            });
        }
        rules::but_check(&words, &mut sentiments);
        self.score_valence(&sentiments, text)
    }

    /// `score_valence`: from the word scores and the text's punctuation to the four scores.
    fn score_valence(&self, sentiments: &[Num], text: &str) -> Scores {
        if sentiments.is_empty() {
            return Scores { neg: 0.0, neu: 0.0, pos: 0.0, compound: 0.0 };
        }
        let sum_s = self.sum.sum(sentiments);
        scores(sum_s, sentiments, text)
    }
}

fn scores(mut sum_s: f64, sentiments: &[Num], text: &str) -> Scores {
    let punct = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct;
    } else if sum_s < 0.0 {
        sum_s -= punct;
    }
    let compound = normalize(sum_s);
    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0usize);
    for s in sentiments.iter().map(|n| n.v) {
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    Scores {
        neg: pystr::round((neg_sum / total).abs(), 3),
        neu: pystr::round((neu_count as f64 / total).abs(), 3),
        pos: pystr::round((pos_sum / total).abs(), 3),
        compound: pystr::round(compound, 4),
    }
}

/// Up to four '!' add 0.292 each; two or three '?' add 0.18 each, more add 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut ep, mut qm) = (0usize, 0usize);
    for b in text.bytes() {
        ep += usize::from(b == b'!');
        qm += usize::from(b == b'?');
    }
    let ep_amplifier = ep.min(4) as f64 * 0.292;
    let qm_amplifier = match qm {
        0 | 1 => 0.0,
        2 | 3 => qm as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

/// `score / sqrt(score² + 15)`, clamped to [-1, 1].
fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// FxHash-style hashing of short keys: the lexicon is fixed, so no DoS-resistant hashing.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(neg: f64, neu: f64, pos: f64, compound: f64) -> Scores {
        Scores { neg, neu, pos, compound }
    }

    // Expected values are the outputs of vaderSentiment 3.3.2 itself (Python 3.11).
    #[test]
    fn the_packages_own_examples() {
        let v = shared();
        let cases = [
            ("VADER is smart, handsome, and funny.", s(0.0, 0.254, 0.746, 0.8316)),
            ("VADER is smart, handsome, and funny!", s(0.0, 0.248, 0.752, 0.8439)),
            ("VADER is very smart, handsome, and funny.", s(0.0, 0.299, 0.701, 0.8545)),
            ("VADER is VERY SMART, handsome, and FUNNY.", s(0.0, 0.246, 0.754, 0.9227)),
            ("VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!", s(0.0, 0.294, 0.706, 0.9469)),
            ("VADER is not smart, handsome, nor funny.", s(0.646, 0.354, 0.0, -0.7424)),
            ("At least it isn't a horrible book.", s(0.0, 0.678, 0.322, 0.431)),
            ("The book was only kind of good.", s(0.0, 0.697, 0.303, 0.3832)),
            ("The plot was good, but the characters are uncompelling and the dialog is not great.", s(0.327, 0.579, 0.094, -0.7042)),
            ("Today only kinda sux! But I'll get by, lol", s(0.127, 0.556, 0.317, 0.5249)),
            ("Make sure you :) or :D today!", s(0.0, 0.294, 0.706, 0.8633)),
            ("Catch utf-8 emoji such as 💘 and 💋 and 😁", s(0.0, 0.583, 0.417, 0.875)),
            ("Not bad at all", s(0.0, 0.513, 0.487, 0.431)),
            ("Sentiment analysis has never been this good!", s(0.0, 0.621, 0.379, 0.5672)),
            ("With VADER, sentiment analysis is the shit!", s(0.0, 0.583, 0.417, 0.6476)),
            ("Roger Dodger is one of the least compelling variations on this theme.", s(0.132, 0.868, 0.0, -0.1695)),
        ];
        for (text, want) in cases {
            assert_eq!(v.polarity_scores(text), want, "{text}");
        }
    }

    #[test]
    fn quirks_of_the_reference_are_kept() {
        let v = shared();
        // "but" scales the first copy of a repeated score again and again.
        assert_eq!(v.polarity_scores("good good great but bad bad"), s(0.56, 0.059, 0.381, -0.7227));
        // "the bomb" counts only with three words before "bomb".
        assert_eq!(v.polarity_scores("The food was the bomb"), s(0.0, 0.5, 0.5, 0.6124));
        assert_eq!(v.polarity_scores("the bomb"), s(0.762, 0.238, 0.0, -0.4939));
    }

    #[test]
    fn python_versions_differ_where_scores_cancel() {
        let text = "happy nice bad awful!";
        assert_eq!(shared().polarity_scores(text), s(0.5, 0.0, 0.5, 0.0));
        for version in ["3.12", "3.13.1"] {
            let v = Vader::new().for_python(PythonVersion::parse(version).unwrap_or_default());
            assert_eq!(v.polarity_scores(text), s(0.5, 0.0, 0.5, 0.0752), "{version}");
        }
    }

    #[test]
    fn empty_and_blank_texts_score_zero() {
        let v = Vader::new();
        for text in ["", "   ", "\n\t ", "\u{3000}\u{1c}"] {
            assert_eq!(v.polarity_scores(text), s(0.0, 0.0, 0.0, 0.0));
        }
    }
}
