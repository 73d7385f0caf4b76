"""vaderSentiment 3.3.2, the reference for ecomwh's VADER port (jobs/ml/vader).

usage: vader_reference.py corpus OUT.jsonl [--n 4000] [--seed 7]
       vader_reference.py score IN.jsonl OUT.jsonl

corpus: the package's own example sentences, then generated product reviews up to N texts in
all (seeded, so the same N and seed give the same file). Rows are {"id", "text"}, or
{"id", "title", "body"} for reviews with a title.
score: one row {"id", "neg", "neu", "pos", "compound"} per input row, as vaderSentiment scores
the text (title and body joined by a newline; the body alone when the title is empty).
Floats are written with repr, so nothing is lost.
"""
import argparse
import json
import random

# The examples of vaderSentiment.py's __main__ (the README shows the same ones).
EXAMPLES = [
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "It was one of the worst movies I've seen, despite good reviews. Unbelievably bad acting!! "
    "Poor direction. VERY poor production. The movie was bad. Very bad movie. VERY BAD movie!",
    "It was one of the worst movies I've seen, despite good reviews.",
    "Unbelievably bad acting!!",
    "Poor direction.",
    "VERY poor production.",
    "The movie was bad.",
    "Very bad movie.",
    "VERY BAD movie!",
    "balloons", "cake", "candles", "happy birthday", "friends", "laughing", "smiling", "party",
    "riot", "fire", "fight", "blood", "mob", "war", "police", "tear gas",
    "I'm surprised to see just how amazingly helpful VADER is!",
    "Je suis surpris de voir comment VADER est incroyablement utile !",
    "Ich bin überrascht zu sehen, nur wie erstaunlich nützlich VADER!",
    "Me sorprende ver sólo cómo increíblemente útil VADER!",
    "Sono sorpreso di vedere solo come incredibilmente utile VADER è!",
    "Я удивлен увидеть, как раз как удивительно полезно ВЕЙДЕРА!",
    "私はちょうどどのように驚くほど役に立つベイダーを見て驚いています!",
    "أنا مندهش لرؤية فقط كيف مثير للدهشة فيدر فائدة!",
    "我很惊讶地看到VADER是如此有用!",
    "我很驚訝地看到VADER是如此有用!",
]

PRODUCTS = ["phone", "blender", "headphones", "jacket", "coffee maker", "sofa", "lamp", "book", "pair of shoes", "charger",
            "vacuum", "watch", "backpack", "tent", "mattress", "kettle", "café press", "jalapeño sauce", "crème brûlée kit"]
GOOD = ["good", "great", "excellent", "amazing", "nice", "perfect", "awesome", "fantastic", "lovely", "sturdy", "comfortable",
        "beautiful", "helpful", "friendly", "happy", "pleased", "satisfied", "fun", "brilliant", "reliable", "best", "cool",
        "super", "wonderful", "worth it", "compelling", "smart", "funny", "glad", "excited", "love", "like", "recommend"]
BAD = ["bad", "terrible", "awful", "horrible", "poor", "disappointing", "broken", "useless", "worst", "cheap", "flimsy",
       "noisy", "ugly", "rude", "sad", "angry", "annoying", "frustrating", "scam", "fail", "failed", "hate", "sux", "wtf",
       "meh", "boring", "dead", "stupid", "damn", "crap", "uncompelling", "hell", "bitch", "shit", "sucks"]
NEUTRAL = ["ok", "okay", "fine", "decent", "average", "normal", "arrived", "box", "color", "size", "today", "price", "it",
           "the", "a", "was", "is", "are", "and", "of", "to", "for", "in", "on", "at", "with", "this", "that", "my", "we",
           "order", "delivery", "seller", "refund", "returned", "works", "used", "after", "week", "2", "$19.99", "#1",
           "@store", "https://shop.example/p/1", "10/10", "5*", "x2", "café", "naïve", "über", "très", "fiancée", "Ça",
           "ÉNORME", "Straße", "ΟΔΟΣ", "İstanbul", "\u212a", "\u01c5ay", "résumé", "jalapeño"]
NEGATIONS = ["not", "isn't", "never", "without", "don't", "wasn't", "no", "nor", "cannot", "didn't", "aint", "nothing",
             "won't", "couldn't", "hardly", "least", "at least", "very least", "rarely", "despite", "uh-uh", "neither",
             "isnt", "dont", "nope"]
INTENSIFIERS = ["very", "extremely", "kind of", "barely", "so", "really", "totally", "somewhat", "sort of", "kinda",
                "slightly", "absolutely", "just enough", "most", "more", "less", "little", "uber", "friggin", "quite",
                "incredibly", "hardly", "almost", "only", "such", "this"]
IDIOMS = ["the bomb", "cut the mustard", "kiss of death", "yeah right", "the shit", "bad ass", "badass", "to die for",
          "beating heart", "bus stop", "hand to mouth", "under the weather", "without a doubt", "without doubt",
          "never so good", "never this good", "no good or bad", "upper hand", "break a leg", "in the red", "on the ball",
          "blowing smoke", "back handed", "cooking with gas", "in the black", "can't stand", "fed up", "screwed up"]
EMOJI = ["😀", "😡", "👍", "💔", "❤️", "❤", "😂", "😭", "🙂", "☹️", "☹", "🔥", "💯", "👎", "😍", "🤮", "✨", "😐", "🎉", "🙄",
         "🥰", "😤", "👍🏽", "🇺🇸", "👩‍💻", "💘", "💋", "😁", "🤬", "🙏", "☺️", "😊", "⭐", "⭐⭐⭐⭐⭐", "🛑", "🔛", "🆙"]
EMOTICONS = [":)", ":(", ":D", ":-P", "<3", ":/", ";)", "XD", ":-(", "=)", ":'(", "(:", "^_^", "o_O", ":Þ", "</3"]
PUNCT = ["!", "!!!", "??", "???", "?!", "!!!!!", "?", "...", ".", ",", ";", " !", " ?!?", "!?", "????"]
CONTRACTIONS = ["it's", "I'm", "can't", "won't", "didn't", "wouldn't", "y'all", "aren't", "I'll", "you're", "shouldn't"]
TITLES = ["Great buy", "Terrible", "Meh", "NOT WORTH IT", "Love it!!!", "Do not buy", "", "Five stars ⭐⭐⭐⭐⭐",
          "Could be better", "Yeah right", "The bomb", "Honest review", "WOW", "kiss of death for my kitchen"]
BLANKS = ["", " ", "\n", "\t \n", "\u00a0", "\u3000", "\x1c", "  \r\n  "]
SEPARATORS = [" ", " ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\x1f"]


def caps(r, w):
    x = r.random()
    if x < 0.12:
        return w.upper()
    if x < 0.17:
        return w.capitalize()
    if x < 0.19:
        return "".join(c.upper() if r.random() < 0.5 else c for c in w)
    return w


def decorate(r, w):
    """Punctuation and emoji stuck to a word, as people type them."""
    x = r.random()
    if x < 0.08:
        return w + r.choice(PUNCT).strip()
    if x < 0.11:
        return r.choice(["(", "'", '"', "*", "-", "..."]) + w + r.choice([")", "'", '"', "*", "-", ",", "...", ":"])
    if x < 0.14:
        return w + r.choice(EMOJI)
    if x < 0.16:
        return r.choice(EMOJI) + w
    return w


def sentence(r):
    p, good, bad = r.choice(PRODUCTS), r.choice(GOOD), r.choice(BAD)
    adj = r.choice([good, bad])
    neg = r.choice(NEGATIONS) if r.random() < 0.45 else ""
    inten = r.choice(INTENSIFIERS) if r.random() < 0.5 else ""
    shape = r.randrange(12)
    if shape == 0:
        s = f"The {p} is {neg} {inten} {adj}"
    elif shape == 1:
        s = f"I {neg} {r.choice(['love', 'hate', 'like', 'recommend'])} this {p}"
    elif shape == 2:
        s = f"{r.choice(CONTRACTIONS)} {inten} {adj}, but {neg} {r.choice([good, bad])}"
    elif shape == 3:
        s = f"This {p} is {r.choice(IDIOMS)}"
    elif shape == 4:
        s = f"{adj} {r.choice(EMOJI)} {r.choice(EMOTICONS)}"
    elif shape == 5:
        s = f"{neg} {inten} {adj} {p} {r.choice(['but', 'BUT', 'But'])} {r.choice(INTENSIFIERS)} {r.choice([good, bad])}"
    elif shape == 6:
        s = f"{r.choice(['No', 'no', 'NO'])} {r.choice([good, bad, 'problems', 'way', 'doubt'])} {r.choice(['or', 'nor', 'and'])} {r.choice([good, bad])}"
    elif shape == 7:
        s = f"{r.choice(['at least', 'the least', 'very least', 'least'])} {adj}"
    elif shape == 8:
        s = f"{r.choice(['Kind of', 'kind of', 'sort of', 'it was kind', 'kind people,'])} {adj}"
    elif shape == 9:
        s = " ".join([adj] * r.randint(2, 4) + ["but"] + [r.choice([good, bad])] * r.randint(1, 3))
    elif shape == 10:
        s = f"{r.choice(IDIOMS)} {neg} {r.choice(IDIOMS)} {adj}"
    else:
        s = f"{r.choice(NEUTRAL)} {neg} {r.choice(NEUTRAL)} {inten} {adj} {r.choice(NEUTRAL)}"
    words = [decorate(r, caps(r, w)) for w in s.split()]
    return r.choice(SEPARATORS).join(words) + (r.choice(PUNCT) if r.random() < 0.5 else r.choice(["", "."]))


def soup(r):
    """Words from every list in random order: the rules' windows meet in every combination."""
    pools = [GOOD, BAD, NEUTRAL, NEGATIONS, INTENSIFIERS, IDIOMS, EMOJI, EMOTICONS, CONTRACTIONS,
             ["but", "BUT", "no", "or", "nor", "least", "at", "very", "so", "this", "never", "without", "doubt", "kind", "of"]]
    n = r.randint(1, 25)
    words = [decorate(r, caps(r, r.choice(r.choice(pools)))) for _ in range(n)]
    out = ""
    for w in words:
        out += (r.choice(SEPARATORS) if out else "") + w
    if r.random() < 0.3:
        out += r.choice(PUNCT)
    return out


def review(r):
    x = r.random()
    if x < 0.02:
        return {"text": r.choice(BLANKS)}
    if x < 0.35:
        text = soup(r)
    else:
        text = " ".join(sentence(r) for _ in range(r.randint(1, 4)))
    if r.random() < 0.05:
        text = text.upper()
    if r.random() < 0.18:
        return {"title": caps(r, r.choice(TITLES)), "body": text}
    return {"text": text}


def corpus(n, seed):
    r = random.Random(seed)
    rows = [{"text": t} for t in EXAMPLES] + [{"text": t} for t in BLANKS]
    while len(rows) < n:
        rows.append(review(r))
    return [dict(id=i, **row) for i, row in enumerate(rows[:n])]


def text_of(row):
    """The text scored for a row: its text, else title and body joined by a newline, or the
    body alone when the title is empty."""
    if row.get("text") is not None:
        return row["text"]
    title, body = row.get("title") or "", row.get("body") or ""
    return f"{title}\n{body}" if title else body


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("corpus")
    c.add_argument("out")
    c.add_argument("--n", type=int, default=4000)
    c.add_argument("--seed", type=int, default=7)
    s = sub.add_parser("score")
    s.add_argument("input")
    s.add_argument("out")
    a = ap.parse_args()
    if a.mode == "corpus":
        with open(a.out, "w", encoding="utf-8") as f:
            for row in corpus(a.n, a.seed):
                f.write(json.dumps(row) + "\n")
        return
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    with open(a.input, encoding="utf-8") as f, open(a.out, "w", encoding="utf-8") as out:
        for line in f:
            if not line.strip():
                continue
            row = json.loads(line)
            vs = analyzer.polarity_scores(text_of(row))
            out.write(json.dumps({"id": row["id"], "neg": vs["neg"], "neu": vs["neu"], "pos": vs["pos"], "compound": vs["compound"]}) + "\n")


if __name__ == "__main__":
    main()
