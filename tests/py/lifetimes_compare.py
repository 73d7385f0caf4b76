"""Compare rfm_segments' BG/NBD columns with lifetimes' summary_data_from_transaction_data.

usage: lifetimes_compare.py WAREHOUSE_DIR DATE TIMEZONE
Transactions are rebuilt independently of ecomwh's marts, from staging.orders: the latest
version of each order staged up to DATE, kept when paid or shipped, dated by order_ts in the
shop's time zone, valued at total_amount - shipping_amount - refunded_amount (partial refunds).
Exits 1 on any difference.
"""
import sys

import pandas as pd
from delta_readers import connect
from lifetimes.utils import summary_data_from_transaction_data

REL_TOL = 1e-9  # the value column: sums of floats (lifetimes) vs exact decimals (ecomwh)


def main():
    wh, date, tz = sys.argv[1], sys.argv[2], sys.argv[3]
    con = connect()
    orders = con.execute(
        f"""
        SELECT customer_id, epoch_us(order_ts) AS us, CAST(total_amount - shipping_amount - coalesce(refunded_amount, 0) AS DOUBLE) AS value
        FROM (
          SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC, dt DESC) AS rn
          FROM delta_scan('{wh}/staging/orders')
          WHERE dt <= DATE '{date}'
        ) WHERE rn = 1 AND status IN ('paid', 'shipped')
        """
    ).df()
    local = pd.to_datetime(orders["us"], unit="us", utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    tx = pd.DataFrame({"customer_id": orders["customer_id"], "date": local.dt.normalize(), "value": orders["value"]})
    theirs = summary_data_from_transaction_data(
        tx, "customer_id", "date", monetary_value_col="value", observation_period_end=date, freq="D"
    )
    ours = con.execute(
        f"""SELECT customer_id, repeat_purchase_days, days_first_to_last_purchase, days_since_first_purchase,
                   avg_repeat_purchase_value
            FROM delta_scan('{wh}/marts/rfm_segments') WHERE dt = DATE '{date}'"""
    ).df().set_index("customer_id")

    problems = []
    missing, extra = set(theirs.index) - set(ours.index), set(ours.index) - set(theirs.index)
    if missing or extra:
        problems.append(f"customers only in lifetimes: {sorted(missing)[:5]} ({len(missing)}); "
                        f"only in ecomwh: {sorted(extra)[:5]} ({len(extra)})")
    pairs = [("frequency", "repeat_purchase_days"), ("recency", "days_first_to_last_purchase"),
             ("T", "days_since_first_purchase")]
    worst = 0.0
    for c in sorted(set(theirs.index) & set(ours.index)):
        t, o = theirs.loc[c], ours.loc[c]
        for lt, ec in pairs:
            if float(t[lt]) != float(o[ec]):
                problems.append(f"{c}: {lt} {t[lt]} vs {ec} {o[ec]}")
        a, b = float(t["monetary_value"]), float(o["avg_repeat_purchase_value"])
        rel = abs(a - b) / max(abs(a), 1e-12) if a != b else 0.0
        worst = max(worst, rel)
        if rel > REL_TOL:
            problems.append(f"{c}: monetary_value {a} vs avg_repeat_purchase_value {b}")
    print(f"customers: {len(theirs)} (lifetimes) {len(ours)} (ecomwh); repeat buyers: "
          f"{int((theirs['frequency'] > 0).sum())}; largest relative difference of the value column: {worst:.3g}")
    for p in problems[:20]:
        print("DIFF", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
