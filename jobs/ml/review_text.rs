//! Review texts as numbers: hashed character n-grams and word pairs (any language, no
//! dictionary), a sparse logistic regression on them that learns "rating <= 2" from the
//! shop's own reviews, and the phrases that set negative reviews apart from positive ones
//! (log-odds with an informative Dirichlet prior, Monroe, Colaresi & Quinn 2008).
//! The regression is a plain sparse one: linfa's solvers take dense matrices, and a dense
//! matrix of 2^18 hashed features per review does not fit.

use std::collections::HashMap;

/// Hashed feature space: 2^18 buckets.
pub const BUCKETS: u32 = 1 << 18;

/// The text scored for a review: title and body joined by a newline, or the body alone when
/// the title is empty (either may be missing).
pub fn review_text(title: Option<&str>, body: Option<&str>) -> String {
    match (title.map(str::trim).filter(|t| !t.is_empty()), body) {
        (Some(t), Some(b)) => format!("{t}\n{b}"),
        (Some(t), None) => t.to_string(),
        (None, b) => b.unwrap_or_default().to_string(),
    }
}

fn fnv(parts: &[&[u8]]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
    }
    (h % BUCKETS as u64) as u32
}

/// Lower-case words (letters and digits; an apostrophe inside a word stays).
pub fn words(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner_apostrophe = (c == '\'' || c == '’') && !cur.is_empty() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || inner_apostrophe {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Sparse features of a text: character 2- to 4-grams of the lower-cased words (with word
/// boundaries), words and word pairs, each count log1p'd, the vector scaled to length 1.
/// Sorted by bucket.
pub fn features(text: &str) -> Vec<(u32, f32)> {
    let mut counts: HashMap<u32, f32> = HashMap::new();
    let ws = words(text);
    for (i, w) in ws.iter().enumerate() {
        *counts.entry(fnv(&[b"w", w.as_bytes()])).or_default() += 1.0;
        if let Some(next) = ws.get(i + 1) {
            *counts.entry(fnv(&[b"b", w.as_bytes(), next.as_bytes()])).or_default() += 1.0;
        }
        let padded: Vec<char> = std::iter::once(' ').chain(w.chars()).chain(std::iter::once(' ')).collect();
        for n in 2..=4 {
            for g in padded.windows(n) {
                let s: String = g.iter().collect();
                *counts.entry(fnv(&[b"c", s.as_bytes()])).or_default() += 1.0;
            }
        }
    }
    let mut v: Vec<(u32, f32)> = counts.into_iter().map(|(k, c)| (k, c.ln_1p())).collect();
    v.sort_unstable_by_key(|x| x.0);
    let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| x.1 /= norm);
    }
    v
}

/// A logistic regression over hashed features: P(label) = 1 / (1 + exp(-(bias + w.x))).
#[derive(Debug, Clone, PartialEq)]
pub struct TextModel {
    pub bias: f64,
    /// Non-zero weights by bucket.
    pub weights: HashMap<u32, f64>,
}

impl TextModel {
    pub fn predict(&self, x: &[(u32, f32)]) -> f64 {
        let z = self.bias + x.iter().map(|(k, v)| self.weights.get(k).copied().unwrap_or(0.0) * *v as f64).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

/// Fit by AdaGrad over the rows in their given order (deterministic), `epochs` passes, an L2
/// penalty `l2` per row. Classes are weighted to balance them, as negative reviews are few; the
/// intercept is then moved back by the weights' log ratio, so predictions are probabilities at
/// the data's own class balance.
pub fn fit(rows: &[&[(u32, f32)]], labels: &[bool], epochs: usize, l2: f64) -> TextModel {
    let pos = labels.iter().filter(|l| **l).count().max(1) as f64;
    let neg = (labels.len() as f64 - pos).max(1.0);
    let (w_pos, w_neg) = (labels.len() as f64 / (2.0 * pos), labels.len() as f64 / (2.0 * neg));
    let mut w = vec![0.0f64; BUCKETS as usize];
    let mut g2 = vec![1e-8f64; BUCKETS as usize];
    let (mut bias, mut b2) = (0.0f64, 1e-8f64);
    let rate = 0.5;
    for _ in 0..epochs {
        for (x, &y) in rows.iter().zip(labels) {
            let z = bias + x.iter().map(|(k, v)| w[*k as usize] * *v as f64).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            let err = (p - if y { 1.0 } else { 0.0 }) * if y { w_pos } else { w_neg };
            b2 += err * err;
            bias -= rate * err / b2.sqrt();
            for (k, v) in x.iter() {
                let k = *k as usize;
                let g = err * *v as f64 + l2 * w[k];
                g2[k] += g * g;
                w[k] -= rate * g / g2[k].sqrt();
            }
        }
    }
    TextModel { bias: bias - (w_pos / w_neg).ln(), weights: w.into_iter().enumerate().filter(|(_, v)| *v != 0.0).map(|(k, v)| (k as u32, v)).collect() }
}

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has", "have", "i", "in", "is", "it", "it's", "its", "my", "of", "on", "one",
    "or", "so", "that", "the", "this", "to", "was", "we", "were", "with", "you", "very", "after", "me", "our", "der", "die", "das", "und", "ist", "nicht",
    "zu", "nach", "einer",
];

/// The distinct phrases (1 to 3 words, within a sentence, neither starting nor ending with a
/// stopword) of a text.
pub fn phrases(text: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for sentence in text.split(['.', '!', '?', '\n', ';', ',', ':']) {
        let ws = words(sentence);
        for n in 1..=3 {
            for g in ws.windows(n) {
                let stop = |w: &String| STOPWORDS.contains(&w.as_str());
                if stop(&g[0]) || stop(&g[n - 1]) || g.iter().all(|w| w.chars().all(|c| c.is_ascii_digit())) {
                    continue;
                }
                out.push(g.join(" "));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A phrase that sets one group of reviews apart: its z-score (positive: the negative
/// reviews' phrase) and in how many negative and positive reviews it appears.
#[derive(Debug, Clone, PartialEq)]
pub struct Distinct {
    pub phrase: String,
    pub z: f64,
    pub negative: u64,
    pub positive: u64,
}

/// Phrase counts of a group of reviews: reviews containing each phrase, and phrases counted.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub by_phrase: HashMap<String, u64>,
    pub total: u64,
}

impl Counts {
    pub fn add(&mut self, phrases: &[String]) {
        for p in phrases {
            *self.by_phrase.entry(p.clone()).or_default() += 1;
        }
        self.total += phrases.len() as u64;
    }
}

/// Log-odds of each phrase in `neg` against `pos`, shrunk towards `prior` (all reviews' counts,
/// scaled to `prior_weight` phrases): z = delta / sd. Phrases seen in fewer than `min_count`
/// reviews of the group they describe, or with |z| below `min_z`, are left out. Returns
/// (negative phrases by z descending, positive phrases by z ascending), `top` of each.
pub fn distinct_phrases(
    neg: &Counts,
    pos: &Counts,
    prior: &Counts,
    prior_weight: f64,
    min_count: u64,
    min_z: f64,
    top: usize,
) -> (Vec<Distinct>, Vec<Distinct>) {
    let a0 = prior_weight;
    let prior_total = prior.total.max(1) as f64;
    let mut all: Vec<Distinct> = vec![];
    let mut names: Vec<&String> = neg.by_phrase.keys().chain(pos.by_phrase.keys()).collect();
    names.sort_unstable();
    names.dedup();
    for p in names {
        let yn = neg.by_phrase.get(p).copied().unwrap_or(0);
        let yp = pos.by_phrase.get(p).copied().unwrap_or(0);
        let aw = a0 * (prior.by_phrase.get(p).copied().unwrap_or(0) as f64).max(0.5) / prior_total;
        let (nn, np) = (neg.total as f64, pos.total as f64);
        let ln = ((yn as f64 + aw) / (nn + a0 - yn as f64 - aw).max(1e-9)).ln();
        let lp = ((yp as f64 + aw) / (np + a0 - yp as f64 - aw).max(1e-9)).ln();
        let sd = (1.0 / (yn as f64 + aw) + 1.0 / (yp as f64 + aw)).sqrt();
        all.push(Distinct { phrase: p.clone(), z: (ln - lp) / sd, negative: yn, positive: yp });
    }
    let by = |neg_side: bool| {
        let mut v: Vec<Distinct> =
            all.iter().filter(|d| if neg_side { d.z > min_z && d.negative >= min_count } else { d.z < -min_z && d.positive >= min_count }).cloned().collect();
        v.sort_by(|a, b| {
            let (x, y) = if neg_side { (b.z, a.z) } else { (a.z, b.z) };
            x.total_cmp(&y).then_with(|| a.phrase.cmp(&b.phrase))
        });
        v.truncate(top);
        v
    };
    (by(true), by(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_title_newline_body_or_body_alone() {
        assert_eq!(review_text(Some("Great"), Some("Works well")), "Great\nWorks well");
        assert_eq!(review_text(Some("  "), Some("Works well")), "Works well");
        assert_eq!(review_text(None, None), "");
    }

    #[test]
    fn phrases_stay_within_sentences_and_skip_stopword_edges() {
        let p = phrases("The parcel arrived late. Love it");
        assert!(p.contains(&"parcel arrived late".to_string()));
        assert!(p.contains(&"arrived late".to_string()));
        assert!(!p.iter().any(|x| x.starts_with("the ") || x.contains("late love")));
        assert_eq!(words("Don't BUY, it’s bad"), ["don't", "buy", "it’s", "bad"]);
    }

    #[test]
    fn the_model_learns_a_word_it_was_not_told_about() {
        let texts = ["runs small", "arrived late", "love it", "great value", "too small sadly", "very late parcel", "works great", "love the colour"];
        let labels = [true, true, false, false, true, true, false, false];
        let owned: Vec<_> = texts.iter().map(|t| features(t)).collect();
        let rows: Vec<&[(u32, f32)]> = owned.iter().map(Vec::as_slice).collect();
        let m = fit(&rows, &labels, 30, 1e-6);
        assert!(m.predict(&features("small")) > 0.5 && m.predict(&features("great")) < 0.5);
        assert_eq!(m, fit(&rows, &labels, 30, 1e-6), "deterministic");
    }

    #[test]
    fn distinct_phrases_rank_the_negative_groups_words_first() {
        let (mut neg, mut pos, mut all) = (Counts::default(), Counts::default(), Counts::default());
        for t in ["arrived late", "arrived late again", "late parcel", "good product"] {
            neg.add(&phrases(t));
            all.add(&phrases(t));
        }
        for t in ["good product", "great product", "good value"] {
            pos.add(&phrases(t));
            all.add(&phrases(t));
        }
        let (n, p) = distinct_phrases(&neg, &pos, &all, 100.0, 2, 0.0, 3);
        assert_eq!(n[0].phrase, "late");
        assert_eq!(n[0].negative, 3);
        assert!(p.iter().any(|d| d.phrase == "good"), "{p:?}");
    }
}
