"""Read ecomwh tables back with DuckDB, the way an analyst would: delta_scan over the Delta
table, straight from S3 (or a local folder). Prints JSON:
{table: {"rows": n, "by_dt": {dt: n}, "dt_type": "..."}}.

usage: duckdb_readback.py WAREHOUSE_URL TABLE [TABLE ...]   (TABLE like staging/orders)
S3 settings come from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
"""
import json
import os
import sys

from delta_readers import connect


def main():
    base = sys.argv[1].rstrip("/")
    if base.startswith("file://"):
        base = base[len("file://"):]
    con = connect()
    out = {}
    for table in sys.argv[2:]:
        rel = f"delta_scan('{base}/{table}')"
        rows = con.execute(f"SELECT count(*) FROM {rel}").fetchone()[0]
        by_dt = dict(con.execute(f"SELECT CAST(dt AS VARCHAR), count(*) FROM {rel} GROUP BY 1 ORDER BY 1").fetchall())
        dt_type = con.execute(f"SELECT typeof(dt) FROM {rel} LIMIT 1").fetchone()
        out[table] = {"rows": rows, "by_dt": by_dt, "dt_type": dt_type[0] if dt_type else None}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
