"""Compare ecomwh's clv job with lifetimes on the same rfm_segments columns.

usage: clv_compare.py WAREHOUSE_DIR DATE
Fits lifetimes' BetaGeoFitter on (repeat_purchase_days, days_first_to_last_purchase,
days_since_first_purchase) and its GammaGammaFitter on the customers with repeat purchases,
then compares the parameters with ecomwh's (marts.model_metrics) and, per customer, the
expected purchases over 365 days and the expected average value with marts.clv.
Prints the largest relative differences as JSON; exits 1 when one is 1% or more.
"""
import json
import sys

import numpy as np
from delta_readers import connect
from lifetimes import BetaGeoFitter, GammaGammaFitter

TOL = 0.01


def main():
    wh, date = sys.argv[1], sys.argv[2]
    con = connect()
    d = con.execute(
        f"""SELECT r.customer_id, r.repeat_purchase_days AS f, r.days_first_to_last_purchase AS rec,
                   r.days_since_first_purchase AS t, r.avg_repeat_purchase_value AS m,
                   c.expected_purchases_365 AS ours_p, c.expected_avg_value AS ours_v
            FROM (SELECT * FROM delta_scan('{wh}/marts/rfm_segments') WHERE dt = DATE '{date}') r
            JOIN (SELECT * FROM delta_scan('{wh}/marts/clv') WHERE dt = DATE '{date}') c USING (customer_id)"""
    ).df()
    metrics = con.execute(
        f"SELECT model, metric, value FROM delta_scan('{wh}/marts/model_metrics') WHERE dt = DATE '{date}'"
    ).df()
    ours = {(r.model, r.metric): r.value for r in metrics.itertuples()}

    bg = BetaGeoFitter(penalizer_coef=0.0)
    bg.fit(d["f"], d["rec"], d["t"])
    rep = d[(d["f"] > 0) & (d["m"] > 0)]
    gg = GammaGammaFitter(penalizer_coef=0.0)
    gg.fit(rep["f"], rep["m"])

    out = {"customers": len(d), "repeat_customers": len(rep), "params": {}}
    worst = 0.0
    for model, fitter in [("bg_nbd", bg), ("gamma_gamma", gg)]:
        for name, theirs in fitter.params_.items():
            mine = ours[(model, name)]
            rel = abs(mine / theirs - 1)
            out["params"][f"{model}.{name}"] = {"ecomwh": mine, "lifetimes": float(theirs), "rel": rel}
            worst = max(worst, rel)
    theirs_p = bg.conditional_expected_number_of_purchases_up_to_time(365, d["f"], d["rec"], d["t"])
    rel_p = np.abs(d["ours_p"] / theirs_p - 1)
    theirs_v = gg.conditional_expected_average_profit(d["f"], d["m"])
    rel_v = np.abs(d["ours_v"] / theirs_v - 1)
    out["expected_purchases_max_rel"] = float(rel_p.max())
    out["expected_value_max_rel"] = float(rel_v.max())
    print(json.dumps(out, indent=1))
    if worst >= TOL or rel_p.max() >= TOL or rel_v.max() >= TOL:
        sys.exit(1)


if __name__ == "__main__":
    main()
