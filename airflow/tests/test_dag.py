"""The nightly DAG, loaded and run by real Airflow."""
import json
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest

from conftest import ROOT, run_ecomwh

DAGS = ROOT / "airflow" / "dags"


def load_dag(**env):
    """Parse the DAG folder with Airflow's DagBag under the given environment."""
    from airflow.dag_processing.dagbag import DagBag

    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        bag = DagBag(dag_folder=str(DAGS))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags["ecomwh_nightly"]


def test_dag_loads_with_the_intended_shape(ecomwh_bin):
    dag = load_dag()
    jobs = run_ecomwh("jobs").split()
    # One task per job the CLI offers, named like the job, plus the input sensor and the
    # export of the audiences, and the vacuum once everything else has succeeded.
    assert sorted(dag.task_ids) == sorted(["check_inputs", *jobs, "export", "vacuum"])
    assert dag.get_task("export").upstream_task_ids == {"audiences"}
    assert dag.get_task("vacuum").upstream_task_ids >= {"export"}
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["vacuum"]
    assert dag.get_task("vacuum").trigger_rule == "all_success"
    assert dag.get_task(jobs[0]).upstream_task_ids == {"check_inputs"}
    # Every job runs after exactly the jobs it needs, as `ecomwh jobs --json` declares them.
    declared = json.loads(run_ecomwh("jobs", "--json"))
    assert [j["name"] for j in declared] == jobs
    for j in declared:
        assert dag.get_task(j["name"]).upstream_task_ids - {"check_inputs"} == set(j["needs"]), j["name"]
    assert dag.catchup is True
    assert dag.max_active_runs == 1
    for j in jobs:
        t = dag.get_task(j)
        assert t.retries == 3 and t.retry_exponential_backoff
        assert t.execution_timeout == timedelta(hours=3)
    sensor = dag.get_task("check_inputs")
    assert sensor.mode == "reschedule"
    assert sensor.timeout > 0
    outlets = {a.uri for a in dag.get_task("staging").outlets}
    assert "ecomwh://warehouse/staging/orders" in outlets
    assert "ecomwh://warehouse/quarantine/events" in outlets


def test_every_contracted_table_is_an_asset_of_the_task_that_builds_it(ecomwh_bin):
    """Downstream DAGs schedule on these Assets: a table missing here never triggers them."""
    import tomllib

    dag = load_dag()
    missing = []
    for contract in sorted((ROOT / "schemas" / "marts").glob("*.toml")):
        c = tomllib.loads(contract.read_text())
        uri = f"ecomwh://warehouse/marts/{c['table']}"
        # One job, or each of the jobs that publish a slice of the table.
        for job in [c["built_by"]] if isinstance(c["built_by"], str) else c["built_by"]:
            if uri not in {a.uri for a in dag.get_task(job).outlets}:
                missing.append(f"{c['table']} (built by {job})")
    assert missing == []
    # And every table a job says it publishes.
    for j in json.loads(run_ecomwh("jobs", "--json")):
        outlets = {a.uri for a in dag.get_task(j["name"]).outlets}
        assert {f"ecomwh://warehouse/{t.replace('.', '/')}" for t in j["outputs"]} <= outlets, j["name"]


def test_the_dag_reads_saved_jobs_where_the_scheduler_has_no_binary(ecomwh_bin, tmp_path):
    """A scheduler without the binary (tasks in containers) reads ecomwh_jobs.json beside the DAG;
    with neither, the import error says what to do."""
    import shutil

    from airflow.dag_processing.dagbag import DagBag

    shutil.copy(DAGS / "ecomwh_nightly.py", tmp_path)
    declared, names = run_ecomwh("jobs", "--json"), run_ecomwh("jobs").split()
    old = os.environ.get("ECOMWH_BIN")
    os.environ["ECOMWH_BIN"] = str(tmp_path / "no-such-binary")
    try:
        bag = DagBag(dag_folder=str(tmp_path))
        assert len(bag.import_errors) == 1
        assert "ecomwh_jobs.json" in next(iter(bag.import_errors.values()))
        (tmp_path / "ecomwh_jobs.json").write_text(declared)
        bag = DagBag(dag_folder=str(tmp_path))
        assert bag.import_errors == {}
        assert sorted(bag.dags["ecomwh_nightly"].task_ids) == sorted(["check_inputs", *names, "export", "vacuum"])
    finally:
        os.environ["ECOMWH_BIN"] = old


def test_schedule_processes_the_day_that_has_ended():
    from airflow.sdk import CronDataIntervalTimetable
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    dag = load_dag()
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    start = pendulum.datetime(2025, 11, 21, tz="UTC")
    # What the scheduler computes from the DAG's timetable.
    info = coerce_to_core_timetable(dag.timetable).next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=start, latest=None, catchup=True),
    )
    # The run starting at 02:00 on Nov 22 covers Nov 21: ds = 2025-11-21.
    assert info.run_after == pendulum.datetime(2025, 11, 22, 2, tz="UTC")
    assert info.logical_date.strftime("%Y-%m-%d") == "2025-11-21"


def test_every_templated_field_renders():
    dag = load_dag()

    class Vars:
        def __init__(self, values):
            self.values = values

        def get(self, key, default=None):
            return self.values.get(key, default)

    for values, expected_prefix, full_refresh in [
        ({}, f"{os.environ['ECOMWH_BIN']} check-inputs", False),
        (
            {"ecomwh_bin": "/opt/ecomwh", "ecomwh_config": "/etc/ecomwh.toml", "ecomwh_warehouse": "s3://b/wh",
             "ecomwh_engine": "ballista://scheduler:50050"},
            "/opt/ecomwh --config /etc/ecomwh.toml --warehouse s3://b/wh --engine ballista://scheduler:50050",
            True,
        ),
    ]:
        assert dag.params["full_refresh"] is False
        ctx = {"ds": "2025-11-21", "var": {"value": Vars(values)}, "params": {"full_refresh": full_refresh}}
        for task in dag.tasks:
            for field in task.template_fields:
                value = getattr(task, field)
                rendered = task.render_template(value, ctx, jinja_env=dag.get_template_env())
                assert "{{" not in str(rendered) and "{%" not in str(rendered), (task.task_id, field, rendered)
            cmd = task.render_template(task.bash_command, ctx, jinja_env=dag.get_template_env())
            cmd = cmd.removeprefix("out=$(")
            command = {"check_inputs": " check-inputs", "export": " export", "vacuum": " vacuum"}.get(task.task_id, " run")
            assert cmd.startswith(expected_prefix.replace(" check-inputs", command)), cmd
            # Every task but the vacuum (which spans all dates) works on the night's date.
            assert ("--date 2025-11-21" in cmd) == (task.task_id != "vacuum"), cmd
            # A full refresh is asked of the jobs only (run), never of the sensor or the export.
            assert ("--full-refresh" in cmd) == (full_refresh and command == " run"), cmd


@pytest.fixture(scope="module")
def warehouse(ecomwh_bin):
    d = Path(tempfile.mkdtemp(prefix="ecomwh-dag-wh-"))
    url = f"file://{d}"
    run_ecomwh("--warehouse", url, "generate", "--customers", "300", "--days", "2", "--start", "2025-03-01")
    # The first day as an earlier nightly run would have left it.
    run_ecomwh("--warehouse", url, "run", "--date", "2025-03-01")
    return url


def test_a_nightly_run_publishes_the_date(airflow_db, warehouse):
    # A killed attempt's leftovers in a partition folder: one older than the retention (168 h),
    # which the night's vacuum task deletes, and one of a run that may still be going, which it keeps.
    part = Path(warehouse.removeprefix("file://")) / "staging" / "orders" / "dt=2025-03-01"
    old, new = part / "part-killed-old.parquet", part / "part-killed-new.parquet"
    for f in (old, new):
        f.write_bytes(b"PAR1 leftover")
    month_ago = pendulum.now().subtract(days=30).timestamp()
    os.utime(old, (month_ago, month_ago))
    dag = load_dag(ECOMWH_WAREHOUSE=warehouse, ECOMWH_SENSOR_TIMEOUT="60")
    dr = dag.test(logical_date=pendulum.datetime(2025, 3, 2, 2, tz="UTC"))
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert dr.state == "success", states
    assert all(s == "success" for s in states.values()), states
    assert not old.exists() and new.exists()
    new.unlink()
    tables = run_ecomwh("--warehouse", warehouse, "tables", "--partitions")
    for t in ["staging.orders", "staging.events", "quarantine.orders"]:
        assert t in tables
    out = run_ecomwh("--warehouse", warehouse, "sql", "SELECT count(*) AS n FROM staging.orders WHERE dt = '2025-03-02'", "--format", "csv")
    assert int(out.splitlines()[1]) > 0


def test_a_bad_config_fails_at_once_instead_of_waiting(airflow_db, warehouse, tmp_path):
    bad = tmp_path / "ecomwh.toml"
    bad.write_text("warehose = 'typo'\n")
    dag = load_dag(ECOMWH_WAREHOUSE=warehouse, ECOMWH_CONFIG=str(bad), ECOMWH_SENSOR_TIMEOUT="600")
    t0 = pendulum.now()
    dr = dag.test(logical_date=pendulum.datetime(2025, 3, 2, 2, tz="UTC"))
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert dr.state == "failed" and states["check_inputs"] == "failed", states
    assert (pendulum.now() - t0).total_seconds() < 120


def test_missing_inputs_fail_the_run_and_stop_downstream(airflow_db, warehouse):
    dag = load_dag(ECOMWH_WAREHOUSE=warehouse, ECOMWH_SENSOR_TIMEOUT="3")
    # No raw data exists for March 5: the sensor times out and nothing downstream runs.
    dr = dag.test(logical_date=pendulum.datetime(2025, 3, 5, 2, tz="UTC"))
    states = {ti.task_id: ti.state for ti in dr.get_task_instances()}
    assert dr.state == "failed", states
    assert states["check_inputs"] == "failed", states
    for job in run_ecomwh("jobs").split():
        assert states[job] in ("upstream_failed", None), states
    assert "2025-03-05" not in run_ecomwh("--warehouse", warehouse, "tables", "--partitions")
