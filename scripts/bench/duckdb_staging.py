"""The staging job written for DuckDB, as a peer to compare with: read the raw files of a
date, validate against the same contracts (schemas/raw/*.toml), quarantine what fails,
keep the latest version per key, write Parquet. Malformed JSON lines are skipped by
DuckDB's reader (ignore_errors) instead of quarantined: slightly less work than ecomwh.

usage: duckdb_staging.py WAREHOUSE_DIR DATE OUT_DIR
"""
import glob
import os
import sys
import tomllib

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORDER = ["customers", "products", "orders", "order_items", "events", "suppressions", "identifies"]


def reader(files, cols):
    ext = files[0]
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in cols)
    lst = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    if ext.endswith(".csv"):
        return f"read_csv({lst}, header = true, all_varchar = true, ignore_errors = true, union_by_name = true)"
    if ext.endswith(".parquet"):
        return f"read_parquet({lst}, union_by_name = true)"
    return f"read_json({lst}, format = 'newline_delimited', columns = {{{spec}}}, ignore_errors = true)"


def cast(c):
    name, kind = c["name"], c["type"]
    if kind == "timestamp":
        return f"TRY_CAST({name} AS TIMESTAMPTZ)"
    if kind == "money":
        return f"TRY_CAST({name} AS DECIMAL(18, 2))"
    if kind == "int":
        return f"TRY_CAST({name} AS BIGINT)"
    if kind == "bool":
        return f"COALESCE(TRY_CAST(lower(trim({name})) AS BOOLEAN), false)"
    if name == "email":
        return f"nullif(lower(trim({name})), '')"
    return f"nullif(trim({name}), '')"


def stage_table(con, t, raw, dt, out):
    """Check, quarantine and keep the latest version per key of the relation `raw` (the raw
    table's columns as text, in delivery order) like the staging job; write Parquet. Returns
    the rows read."""
    contract = tomllib.load(open(os.path.join(ROOT, "schemas/raw", f"{t}.toml"), "rb"))
    cols = contract["columns"]
    names = [c["name"] for c in cols]
    typed = ", ".join(f"{cast(c)} AS {c['name']}" for c in cols)
    texts = ", ".join(f"CAST({c['name']} AS VARCHAR) AS _t_{c['name']}" for c in cols)
    checks = []
    joins = []
    for c in cols:
        n = c["name"]
        if c.get("required"):
            checks.append(f"WHEN _t_{n} IS NULL OR trim(_t_{n}) = '' THEN 'missing {n}'")
        if c["type"] in ("timestamp", "money", "int"):
            checks.append(f"WHEN _t_{n} IS NOT NULL AND {n} IS NULL THEN 'unparseable {n}'")
        if c["type"] == "money":
            checks.append(f"WHEN {n} < 0 THEN 'negative {n}'")
        if n == "quantity":
            checks.append("WHEN quantity <= 0 THEN 'non-positive quantity'")
        if c.get("values"):
            vals = ", ".join(f"'{v}'" for v in c["values"])
            checks.append(f"WHEN lower({n}) NOT IN ({vals}) THEN 'unknown {n}'")
        ref = c.get("references")
        # A currency needs a rate only with base_currency, which the benchmarks' shops do not set.
        if ref and ref != "fx_rates":
            key = {"customers": "customer_id", "products": "product_id", "orders": "order_id"}[ref]
            joins.append(f"LEFT JOIN (SELECT DISTINCT {key} AS _k_{n} FROM staged_{ref}) ON {n} = _k_{n}")
            checks.append(f"WHEN {n} IS NOT NULL AND _k_{n} IS NULL THEN 'unknown {n}'")
    reason = "CASE " + " ".join(checks) + " END" if checks else "NULL"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE c_{t} AS
        SELECT * , {reason} AS _reason FROM (SELECT {typed}, {texts}, row_number() OVER () AS _line FROM {raw}) {' '.join(joins)}""")
    total = con.execute(f"SELECT count(*) FROM c_{t}").fetchone()[0]
    qdir = f"{out}/quarantine/{t}/dt={dt}"
    sdir = f"{out}/staging/{t}/dt={dt}"
    os.makedirs(qdir, exist_ok=True)
    os.makedirs(sdir, exist_ok=True)
    con.execute(f"COPY (SELECT _line, _reason FROM c_{t} WHERE _reason IS NOT NULL) TO '{qdir}/data.parquet' (FORMAT parquet)")
    key = ", ".join(contract["key"])
    order = f"{contract['version']} DESC NULLS LAST, _line DESC" if contract.get("version") else "_line DESC"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE staged_{t} AS
        SELECT {', '.join(names)} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {order}) AS _rn
        FROM c_{t} WHERE _reason IS NULL) WHERE _rn = 1 ORDER BY {key}""")
    con.execute(f"COPY staged_{t} TO '{sdir}/data.parquet' (FORMAT parquet)")
    return total


def main():
    wh, dt, out = sys.argv[1], sys.argv[2], sys.argv[3]
    con = duckdb.connect()
    total = 0
    for t in ORDER:
        contract = tomllib.load(open(os.path.join(ROOT, "schemas/raw", f"{t}.toml"), "rb"))
        names = [c["name"] for c in contract["columns"]]
        files = sorted(glob.glob(f"{wh}/raw/{t}/dt={dt}/*"))
        files = [f for f in files if not os.path.basename(f).startswith(("_", "."))]
        if not files:
            continue
        total += stage_table(con, t, reader(files, names), dt, out)
    print(total)


if __name__ == "__main__":
    main()
