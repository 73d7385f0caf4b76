"""Airflow test setup: a private AIRFLOW_HOME and SQLite database, fast retries and sensors,
and the real ecomwh binary (ECOMWH_BIN, built by scripts/test.sh). The environment must be set
before Airflow is imported."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(tempfile.mkdtemp(prefix="ecomwh-airflow-"))
os.environ.update(
    AIRFLOW_HOME=str(HOME),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "airflow" / "dags"),
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{HOME}/airflow.db",
    AIRFLOW__CORE__UNIT_TEST_MODE="True",
    ECOMWH_RETRY_DELAY="0",
    ECOMWH_SENSOR_POKE="1",
    ECOMWH_START_DATE="2025-03-01",
    ECOMWH_LOG="warn",
)
# The DAG reads these at parse time; a developer's own would change what the tests expect.
for name in ("ECOMWH_ENGINE", "ECOMWH_CONFIG", "ECOMWH_WAREHOUSE"):
    os.environ.pop(name, None)
if "ECOMWH_BIN" not in os.environ:
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    os.environ["ECOMWH_BIN"] = str(Path(target) / "debug" / "ecomwh")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def ecomwh_bin() -> str:
    b = os.environ["ECOMWH_BIN"]
    assert Path(b).exists(), f"{b} is missing: scripts/test.sh builds it"
    return b


@pytest.fixture(scope="session")
def airflow_db():
    from airflow.utils.db import resetdb

    resetdb()
    yield
    shutil.rmtree(HOME, ignore_errors=True)


def run_ecomwh(*args: str) -> str:
    out = subprocess.run([os.environ["ECOMWH_BIN"], *args], capture_output=True, text=True, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
    out.check_returncode()
    return out.stdout
