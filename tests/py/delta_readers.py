"""Read ecomwh's tables with other engines' Delta readers and compare them with `ecomwh sql`.

For each table: DuckDB's delta_scan (the duckdb-ext-delta wheel, loaded from its file: nothing
is downloaded), the `deltalake` package (pyarrow) and polars' read_delta, against the rows
ecomwh itself returns. Rows are compared sorted, each column in a form every engine renders
alike (numbers as doubles, NaN and infinities as null, timestamps as epoch microseconds, dates and string
lists as text). Prints JSON {table: {"rows": n, "readers": [...]}}; exits 1 on a difference.

usage: delta_readers.py ECOMWH_BIN WAREHOUSE_URL TABLE [TABLE ...]   (TABLE like marts/rfm_segments)
S3 settings come from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
"""
import json
import math
import os
import subprocess
import sys

import deltalake
import duckdb
import polars as pl


def ext(name):
    import duckdb_ext

    version = duckdb.__version__
    for base in duckdb_ext.__path__:
        path = os.path.join(base, f"extensions/v{version}/linux_amd64/{name}.duckdb_extension")
        if os.path.exists(path):
            return path
    raise SystemExit(f"the {name} extension wheel is not installed")


def connect():
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false"})
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        con.execute(f"LOAD '{ext('httpfs')}'")
        host = endpoint.split("://", 1)[1].rstrip("/")
        con.execute(
            f"""CREATE SECRET s3 (TYPE s3, KEY_ID '{os.environ['AWS_ACCESS_KEY_ID']}',
            SECRET '{os.environ['AWS_SECRET_ACCESS_KEY']}', REGION '{os.environ.get('AWS_REGION', 'us-east-1')}',
            ENDPOINT '{host}', URL_STYLE 'path', USE_SSL false)"""
        )
    con.execute(f"LOAD '{ext('delta')}'")
    return con


def storage_options():
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return None
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS_ALLOW_HTTP": "true",
    }


def projection(cols):
    """The same canonical columns in DuckDB's and DataFusion's dialects."""
    duck, df = [], []
    for name, typ in cols:
        q = f'"{name}"'
        t = typ.upper()
        if t.endswith("[]"):
            if t.startswith("VARCHAR"):
                d = f = f"array_to_string({q}, '|')"
            else:
                d, f = f"len({q})", f"cardinality({q})"
        elif t.startswith("TIMESTAMP"):
            d, f = f"epoch_us({q})", f"CAST({q} AS BIGINT)"
        elif t in ("DATE", "VARCHAR"):
            d = f = f"CAST({q} AS VARCHAR)"
        elif t == "BOOLEAN":
            d = f = f"CAST({q} AS INT)"
        elif t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
            d = f = f"CAST({q} AS BIGINT)"
        else:
            d = f = f"CAST({q} AS DOUBLE)"
        duck.append(f'{d} AS "{name}"')
        df.append(f'{f} AS "{name}"')
    return ", ".join(duck), ", ".join(df)


def norm(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        v = float(v)
        # ecomwh's JSON writes NaN and infinities as null.
        return v if math.isfinite(v) else None
    return v


def key(row):
    return [(x is None, str(type(x)), x if x is not None else 0) for x in row]


def rows_of(con, rel, proj):
    return sorted((tuple(norm(v) for v in r) for r in con.execute(f"SELECT {proj} FROM {rel}").fetchall()), key=key)


def same(a, b):
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if isinstance(x, float) and isinstance(y, float):
                if abs(x - y) > 1e-12 * max(1.0, abs(x)):
                    return False
            elif x != y:
                return False
    return True


def main():
    binary, wh = sys.argv[1], sys.argv[2].rstrip("/")
    base = wh[len("file://"):] if wh.startswith("file://") else wh
    con = connect()
    opts = storage_options()
    out, bad = {}, []
    for table in sys.argv[3:]:
        layer, name = table.split("/")
        uri = f"{base}/{table}"
        scan = f"delta_scan('{uri}')"
        cols = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        proj_duck, proj_df = projection(cols)
        readers = {"duckdb delta_scan": rows_of(con, scan, proj_duck)}
        dl = deltalake.DeltaTable(uri, storage_options=opts)
        arrow_table = dl.to_pyarrow_table()
        con.register("from_deltalake", arrow_table)
        readers["deltalake (pyarrow)"] = rows_of(con, "from_deltalake", proj_duck)
        frame = pl.read_delta(uri, storage_options=opts).to_arrow()
        con.register("from_polars", frame)
        readers["polars read_delta"] = rows_of(con, "from_polars", proj_duck)
        env = dict(os.environ)
        run = subprocess.run(
            [binary, "--warehouse", wh, "sql", f"SELECT {proj_df} FROM {layer}.{name}", "--format", "json"],
            capture_output=True, text=True, env=env,
        )
        if run.returncode != 0:
            raise SystemExit(f"ecomwh sql on {table} failed: {run.stderr}")
        text = run.stdout.strip()
        records = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
        names = [c[0] for c in cols]
        ours = sorted((tuple(norm(r.get(n)) for n in names) for r in records), key=key)
        for reader, rows in readers.items():
            if not same(rows, ours):
                diff = [r for r in rows if r not in ours][:3]
                bad.append(f"{table}: {reader} has {len(rows)} rows, ecomwh sql {len(ours)}; e.g. {diff}")
        out[table] = {"rows": len(ours), "version": dl.version(), "readers": sorted(readers)}
    print(json.dumps(out))
    if bad:
        print("\n".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
