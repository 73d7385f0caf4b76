"""Run one peer on a basket file and print JSON: seconds of mining (itemsets and rules),
itemsets, rules. usage: rules_peer.py TOOL BASKETS MIN_SUPPORT MIN_CONFIDENCE MAX_LEN"""
import json
import sys
import time

tool, path, s, c, k = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
baskets = [line.rstrip("\n").split(",") for line in open(path) if line.strip("\n")]
t0 = time.perf_counter()
if tool.startswith("pyfim"):
    import fim

    algo = fim.apriori if tool == "pyfim-apriori" else fim.fpgrowth
    # Rules in one call (it mines the itemsets itself); mode "o": rule support is that of
    # body and head together, as in mlxtend and ecomwh (pyfim's default is the body's).
    rules = algo(baskets, target="r", supp=s * 100, conf=c * 100, zmin=1, zmax=k, report="a", mode="o")
    elapsed = time.perf_counter() - t0
    n_sets = len(algo(baskets, target="s", supp=s * 100, zmin=1, zmax=k, report="a"))
    n_rules = len(rules)
    print(json.dumps({"seconds": elapsed, "itemsets": n_sets, "rules": n_rules}))
    sys.exit(0)
elif tool == "efficient-apriori":
    from efficient_apriori import apriori

    itemsets, rules = apriori([tuple(b) for b in baskets], min_support=s, min_confidence=c, max_length=k)
    n_sets, n_rules = sum(len(v) for v in itemsets.values()), len(rules)
elif tool == "mlxtend":
    import pandas as pd
    from mlxtend.frequent_patterns import apriori, association_rules
    from mlxtend.preprocessing import TransactionEncoder

    te = TransactionEncoder()
    df = pd.DataFrame(te.fit(baskets).transform(baskets, sparse=False), columns=te.columns_)
    t0 = time.perf_counter()  # the one-hot matrix is mlxtend's input format, not its mining
    fi = apriori(df, min_support=s, use_colnames=True, max_len=k, low_memory=len(baskets) > 50_000)
    r = association_rules(fi, num_itemsets=len(df), metric="confidence", min_threshold=c)
    n_sets, n_rules = len(fi), len(r)
else:
    sys.exit(f"unknown tool {tool}")
print(json.dumps({"seconds": time.perf_counter() - t0, "itemsets": n_sets, "rules": n_rules}))
