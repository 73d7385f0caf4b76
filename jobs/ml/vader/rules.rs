//! VADER's word-level rules: boosters, negation, idioms, "least" and "but", as vaderSentiment
//! 3.3.2 applies them, quirks included (each quirk is marked where it is kept).

use std::borrow::Cow;

pub const B_INCR: f64 = 0.293;
pub const B_DECR: f64 = -0.293;
pub const C_INCR: f64 = 0.733;
pub const N_SCALAR: f64 = -0.74;

/// One token of a text with what the rules ask of it, computed once.
pub struct Word<'a> {
    /// `str.lower()` of the token.
    pub lower: Cow<'a, str>,
    /// `str.isupper()` of the token.
    pub upper: bool,
    /// Valence in the lexicon (looked up lower-cased).
    pub lex: Option<f64>,
    /// Booster or dampener increment (looked up lower-cased).
    pub boost: Option<f64>,
    /// `negated([word])`: in NEGATE, or containing "n't".
    pub negated: bool,
}

/// A word's score, and whether the reference holds it as a Python int rather than a float.
#[derive(Debug, Clone, Copy)]
pub struct Num {
    pub v: f64,
    pub int: bool,
}

impl Num {
    pub fn int(v: f64) -> Num {
        Num { v, int: true }
    }

    pub fn float(v: f64) -> Num {
        Num { v, int: false }
    }
}

impl Word<'_> {
    fn is(&self, s: &str) -> bool {
        self.lower == s
    }
}

/// BOOSTER_DICT's one-word entries that raise the next word's intensity; its two-word ones
/// only ever match in `special_idioms_check`.
pub const BOOST_INCR: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

/// BOOSTER_DICT's one-word dampeners.
pub const BOOST_DECR: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sorta",
    "sortof",
    "sort-of",
];

/// NEGATE; any word containing "n't" negates too.
pub const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// What the lexicon and the word lists say of one lower-cased word.
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry {
    pub lex: Option<f64>,
    pub boost: Option<f64>,
    pub negation: bool,
}

fn booster2(a: &str, b: &str) -> Option<f64> {
    matches!((a, b), ("just", "enough") | ("kind", "of") | ("sort", "of")).then_some(B_DECR)
}

/// SPECIAL_CASES; whether the reference's value is a Python int matters to `sum` (3.12+).
fn special2(a: &str, b: &str) -> Option<Num> {
    Some(match (a, b) {
        ("the", "shit") | ("the", "bomb") => Num::int(3.0),
        ("bad", "ass") => Num::float(1.5),
        ("bus", "stop") => Num::float(0.0),
        ("yeah", "right") => Num::int(-2.0),
        ("beating", "heart") => Num::float(3.5),
        _ => return None,
    })
}

fn special3(a: &str, b: &str, c: &str) -> Option<Num> {
    Some(match (a, b, c) {
        ("kiss", "of", "death") => Num::float(-1.5),
        ("to", "die", "for") => Num::int(3.0),
        _ => return None,
    })
}

/// `scalar_inc_dec`: what a preceding booster adds to `valence`.
fn scalar_inc_dec(w: &Word, valence: f64, is_cap_diff: bool) -> f64 {
    let mut scalar = 0.0;
    if let Some(b) = w.boost {
        scalar = b;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if w.upper && is_cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
    }
    scalar
}

/// `sentiment_valence` for a word of the lexicon at `i`.
pub fn valence_of(words: &[Word], i: usize, lex: f64, is_cap_diff: bool) -> Num {
    let w = &words[i];
    let n = words.len();
    let mut valence = lex;
    if w.is("no") && i != n - 1 && words[i + 1].lex.is_some() {
        valence = 0.0;
    }
    if (i > 0 && words[i - 1].is("no"))
        || (i > 1 && words[i - 2].is("no"))
        || (i > 2 && words[i - 3].is("no") && (words[i - 1].is("or") || words[i - 1].is("nor")))
    {
        valence = lex * N_SCALAR;
    }
    if w.upper && is_cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    let mut int = false;
    for start_i in 0..3 {
        if i > start_i && words[i - (start_i + 1)].lex.is_none() {
            let mut s = scalar_inc_dec(&words[i - (start_i + 1)], valence, is_cap_diff);
            if start_i == 1 && s != 0.0 {
                s *= 0.95;
            }
            if start_i == 2 && s != 0.0 {
                s *= 0.9;
            }
            valence += s;
            valence = negation_check(valence, words, start_i, i);
            if start_i == 2 {
                Num { v: valence, int } = special_idioms_check(valence, words, i);
            }
        }
    }
    match least_check(valence, words, i) {
        Some(v) => Num::float(v),
        None => Num { v: valence, int },
    }
}

fn negation_check(valence: f64, w: &[Word], start_i: usize, i: usize) -> f64 {
    let so_this = |k: usize| w[k].is("so") || w[k].is("this");
    match start_i {
        0 if w[i - 1].negated => valence * N_SCALAR,
        1 => {
            if w[i - 2].is("never") && so_this(i - 1) {
                valence * 1.25
            } else if w[i - 2].is("without") && w[i - 1].is("doubt") {
                valence
            } else if w[i - 2].negated {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            // Quirk kept: `never and (so or this) or (so or this)` binds as `(A and B) or C`,
            // so "so"/"this" just before the word boosts it even without "never".
            if (w[i - 3].is("never") && so_this(i - 2)) || so_this(i - 1) {
                valence * 1.25
            } else if w[i - 3].is("without") && (w[i - 2].is("doubt") || w[i - 1].is("doubt")) {
                valence
            } else if w[i - 3].negated {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// Runs only when three words precede `i` and the third one back is not in the lexicon.
fn special_idioms_check(valence: f64, w: &[Word], i: usize) -> Num {
    let mut valence = Num::float(valence);
    let l = |k: usize| -> &str { &w[k].lower };
    let before = special2(l(i - 1), l(i))
        .or_else(|| special3(l(i - 2), l(i - 1), l(i)))
        .or_else(|| special2(l(i - 2), l(i - 1)))
        .or_else(|| special3(l(i - 3), l(i - 2), l(i - 1)))
        .or_else(|| special2(l(i - 3), l(i - 2)));
    if let Some(v) = before {
        valence = v;
    }
    if w.len() - 1 > i {
        if let Some(v) = special2(l(i), l(i + 1)) {
            valence = v;
        }
    }
    if w.len() - 1 > i + 1 {
        if let Some(v) = special3(l(i), l(i + 1), l(i + 2)) {
            valence = v;
        }
    }
    // Quirk kept: "kind of" and "sort of" add B_DECR whatever the valence's sign (so they
    // make a negative word more negative), and the three-word n-gram can never match.
    for (a, b) in [(i - 3, i - 2), (i - 2, i - 1)] {
        if let Some(d) = booster2(l(a), l(b)) {
            valence = Num::float(valence.v + d);
        }
    }
    valence
}

/// The negated valence when "least" (not "at least", "very least") precedes the word.
fn least_check(valence: f64, w: &[Word], i: usize) -> Option<f64> {
    if i > 1 && w[i - 1].lex.is_none() && w[i - 1].is("least") {
        if !w[i - 2].is("at") && !w[i - 2].is("very") {
            return Some(valence * N_SCALAR);
        }
    } else if i > 0 && w[i - 1].lex.is_none() && w[i - 1].is("least") {
        return Some(valence * N_SCALAR);
    }
    None
}

/// `_but_check`, with its use of `list.index(value)`: each score is scaled at the first
/// position holding an equal value, so repeated values scale the first copy again and again.
pub fn but_check(words: &[Word], sentiments: &mut [Num]) {
    let Some(bi) = words.iter().position(|w| w.is("but")) else {
        return;
    };
    for k in 0..sentiments.len() {
        let s = sentiments[k].v;
        let si = sentiments.iter().position(|x| x.v == s).unwrap_or(k);
        if si < bi {
            sentiments[si] = Num::float(s * 0.5);
        } else if si > bi {
            sentiments[si] = Num::float(s * 1.5);
        }
    }
}
