"""Compare ecomwh's frequent itemsets and rules with mlxtend's on the same baskets.

usage: mlxtend_compare.py BASKETS ECOMWH_OUT_DIR MIN_SUPPORT MIN_CONFIDENCE MAX_LEN
BASKETS has one basket per line, items separated by commas; ECOMWH_OUT_DIR holds the
itemsets.csv and rules.csv written by `ecomwh mine --out`. Exits 1 on any difference.
"""
import csv
import json
import sys

import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules
from mlxtend.preprocessing import TransactionEncoder

TOL = 1e-9


def main():
    path, out, min_support, min_conf, max_len = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    baskets = [line.rstrip("\n").split(",") if line.strip("\n") else [] for line in open(path)]
    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets), columns=te.columns_)
    fi = apriori(df, min_support=min_support, use_colnames=True, max_len=max_len)
    theirs_sets = {frozenset(s): sup for s, sup in zip(fi["itemsets"], fi["support"])}
    rules = association_rules(fi, num_itemsets=len(df), metric="confidence", min_threshold=min_conf)

    ours_sets = {}
    for r in csv.DictReader(open(f"{out}/itemsets.csv")):
        ours_sets[frozenset(json.loads(r["itemset"]))] = float(r["support"])
    problems = []
    if set(ours_sets) != set(theirs_sets):
        problems.append(f"itemsets differ: only ecomwh {len(set(ours_sets) - set(theirs_sets))}, only mlxtend {len(set(theirs_sets) - set(ours_sets))}")
    for s, sup in theirs_sets.items():
        if s in ours_sets and abs(ours_sets[s] - sup) > TOL:
            problems.append(f"support of {sorted(s)}: {ours_sets[s]} vs {sup}")

    metrics = ["antecedent support", "consequent support", "support", "confidence", "lift", "leverage", "conviction", "zhangs_metric"]
    ours_rules = {}
    for r in csv.DictReader(open(f"{out}/rules.csv")):
        key = (frozenset(json.loads(r["antecedent"])), frozenset(json.loads(r["consequent"])))
        ours_rules[key] = r
    theirs_rules = {}
    for _, r in rules.iterrows():
        theirs_rules[(frozenset(r["antecedents"]), frozenset(r["consequents"]))] = r
    if set(ours_rules) != set(theirs_rules):
        problems.append(f"rules differ: only ecomwh {len(set(ours_rules) - set(theirs_rules))}, only mlxtend {len(set(theirs_rules) - set(ours_rules))}")
    worst = 0.0
    for key, t in theirs_rules.items():
        o = ours_rules.get(key)
        if o is None:
            continue
        for m in metrics:
            col = m.replace(" ", "_")
            ov = o[col]
            tv = float(t[m])
            if ov == "":  # NULL: infinite conviction
                if tv != float("inf"):
                    problems.append(f"{m} of {key}: NULL vs {tv}")
                continue
            d = abs(float(ov) - tv)
            worst = max(worst, d)
            if d > TOL:
                problems.append(f"{m} of {sorted(key[0])}->{sorted(key[1])}: {ov} vs {tv}")
    print(json.dumps({"itemsets": len(theirs_sets), "rules": len(theirs_rules), "max_abs_diff": worst, "problems": problems[:20]}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
