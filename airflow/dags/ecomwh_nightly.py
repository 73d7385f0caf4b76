"""ecomwh nightly pipeline: waits for the day's raw inputs, then runs each ecomwh job for the
shop day that has just ended, in dependency order.

The tasks and their order come from `ecomwh jobs --json` (ECOMWH_BIN at parse time), so a new
job needs no edit here.

Settings (Airflow Variables, else environment variables, else defaults), read when a task runs:
    ecomwh_bin        / ECOMWH_BIN        path of the ecomwh binary            (default: ecomwh)
    ecomwh_config     / ECOMWH_CONFIG     path of ecomwh.toml                  (default: ecomwh.toml in the
                                                                           worker's folder, if any)
    ecomwh_warehouse  / ECOMWH_WAREHOUSE  warehouse URL, overriding the config (default: the config's)
    ecomwh_engine     / ECOMWH_ENGINE     where the SQL runs: local, ballista-standalone or
                                          ballista://HOST:PORT (default: the config's, else local)
Parse-time settings (environment of the scheduler and workers):
    ECOMWH_SCHEDULE        cron of the nightly run            (default: "0 2 * * *", 02:00)
    ECOMWH_TIMEZONE        time zone of that cron and of dt   (default: UTC)
    ECOMWH_START_DATE      first date to process, YYYY-MM-DD  (default: 2025-01-01)
    ECOMWH_SENSOR_TIMEOUT  seconds to wait for late inputs    (default: 6 hours)
    ECOMWH_SENSOR_POKE     seconds between input checks       (default: 10 minutes)
    ECOMWH_RETRY_DELAY     seconds before the first retry     (default: 5 minutes, doubling)
After the export, a vacuum task deletes the files no table snapshot of the last
`[tables] retain_hours` needs (`ecomwh vacuum`).
Run parameter (Trigger DAG w/ config): full_refresh (default false) recomputes the incremental
tables (customer_order_totals, user_profiles, rfm_segments) of that date from all history instead
of carrying yesterday's rows over (`ecomwh run --full-refresh`).
Secrets (S3/GCS/Azure credentials, API keys) come only from the workers' environment, which the
tasks inherit; nothing secret is written here.

Schedule: a CronDataIntervalTimetable, so the run that starts at 02:00 on Nov 22 has the data
interval Nov 21 02:00 .. Nov 22 02:00 and {{ ds }} = Nov 21: the day that has just ended.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.bash import BashSensor
from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, Param

def _jobs() -> list[dict]:
    """Each job's name, the jobs it needs and the tables it publishes, as `ecomwh jobs --json`
    says: the binary is the one place jobs are declared. Where the scheduler has no binary (the
    tasks run in a container), the same JSON saved beside this file as ecomwh_jobs.json."""
    binary = os.environ.get("ECOMWH_BIN", "ecomwh")
    try:
        # Well inside Airflow's DAG import timeout (30 s by default).
        out = subprocess.run([binary, "jobs", "--json"], capture_output=True, text=True, timeout=10, check=True)
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        saved = Path(__file__).with_name("ecomwh_jobs.json")
        if saved.exists():
            logging.getLogger(__name__).warning("`%s jobs --json` failed (%s): tasks from %s, which may be older than the binary", binary, e, saved)
            return json.loads(saved.read_text())
        raise RuntimeError(
            f"cannot list ecomwh's jobs: `{binary} jobs --json` failed ({e}); set ECOMWH_BIN for the "
            f"DAG processor, or save that command's output as {saved}"
        ) from e


JOBS = _jobs()


def asset(table: str) -> Asset:
    return Asset(name=f"ecomwh.{table.replace('/', '.')}", uri=f"ecomwh://warehouse/{table}")


def _env_seconds(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


TZ = os.environ.get("ECOMWH_TIMEZONE", "UTC")
SCHEDULE = os.environ.get("ECOMWH_SCHEDULE", "0 2 * * *")
START = pendulum.parse(os.environ.get("ECOMWH_START_DATE", "2025-01-01"), tz=TZ)

# Templates resolved when a task runs: Variables first, then the environment, then defaults.
ECOMWH = (
    "{{ var.value.get('ecomwh_bin', None) or '%s' }}"
    "{%% set cfg = var.value.get('ecomwh_config', None) or '%s' %%}"
    "{%% if cfg %%} --config {{ cfg }}{%% endif %%}"
    "{%% set wh = var.value.get('ecomwh_warehouse', None) or '%s' %%}"
    "{%% if wh %%} --warehouse {{ wh }}{%% endif %%}"
    "{%% set engine = var.value.get('ecomwh_engine', None) or '%s' %%}"
    "{%% if engine %%} --engine {{ engine }}{%% endif %%}"
) % (
    os.environ.get("ECOMWH_BIN", "ecomwh"),
    os.environ.get("ECOMWH_CONFIG", ""),
    os.environ.get("ECOMWH_WAREHOUSE", ""),
    os.environ.get("ECOMWH_ENGINE", ""),
)

FULL_REFRESH = "{{ ' --full-refresh' if params.full_refresh else '' }}"

# Exit code the sensor waits on: only "missing input" is worth waiting for; a bad config or
# an unreachable store fails at once instead of holding the run for hours.
WAIT = 99

default_args = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_delay": timedelta(seconds=_env_seconds("ECOMWH_RETRY_DELAY", 300)),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=1),
    "execution_timeout": timedelta(hours=3),
}

with DAG(
    dag_id="ecomwh_nightly",
    description="ecomwh: staging and marts for the shop day that has just ended",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TZ),
    start_date=START,
    catchup=True,
    max_active_runs=1,
    default_args=default_args,
    tags=["ecomwh", "marketing"],
    doc_md=__doc__,
    params={"full_refresh": Param(False, type="boolean", description="recompute incremental tables from all history")},
) as dag:
    # A late raw feed delays the run instead of failing it: `check-inputs` exits 0 once the
    # inputs are there; the sensor frees its worker slot between checks.
    check_inputs = BashSensor(
        task_id="check_inputs",
        bash_command=(
            f"out=$({ECOMWH} check-inputs --date {{{{ ds }}}} 2>&1); rc=$?; echo \"$out\"; "
            f"if [ $rc -eq 2 ] && echo \"$out\" | grep -q 'missing input'; then exit {WAIT}; fi; exit $rc"
        ),
        retry_exit_code=WAIT,
        mode="reschedule",
        poke_interval=_env_seconds("ECOMWH_SENSOR_POKE", 600),
        timeout=_env_seconds("ECOMWH_SENSOR_TIMEOUT", 6 * 3600),
        retries=0,
    )

    tasks = {}
    for job in JOBS:
        name = job["name"]
        tasks[name] = BashOperator(
            task_id=name,
            bash_command=f"{ECOMWH} run --date {{{{ ds }}}} --jobs {name}{FULL_REFRESH}",
            outlets=[asset(t.replace(".", "/")) for t in job["outputs"]],
            append_env=True,
        )
        # `ecomwh jobs` lists a job after the jobs it needs.
        for u in job["needs"]:
            tasks[u] >> tasks[name]
        if not job["needs"]:
            check_inputs >> tasks[name]

    # Audiences reach the email tools after the marts are built. A retry is safe: each sync
    # resumes from the batches the destination confirmed and sends only the rest.
    export = BashOperator(
        task_id="export",
        bash_command=f"{ECOMWH} export --date {{{{ ds }}}}",
        outlets=[asset("marts/export_runs"), asset("marts/export_failures")],
        append_env=True,
    )
    tasks["audiences"] >> export

    # Once the night has succeeded: delete the files no snapshot within `[tables] retain_hours`
    # needs (replaced partitions, a killed attempt's leftovers), so the folders that engines
    # glob hold only committed data. Files younger than the retention are never touched.
    vacuum = BashOperator(
        task_id="vacuum",
        bash_command=f"{ECOMWH} vacuum",
        append_env=True,
    )
    leaves = [t for t in [*tasks.values(), export] if not t.downstream_task_ids]
    leaves >> vacuum
