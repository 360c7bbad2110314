"""`make airflow` as a person uses it: the UI comes up healthy, the DAG is there, a run triggered
through the REST API (with the printed login) succeeds, the runbook's `make backfill` runs an
earlier night on its scheduler; everything it started is stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.warehouse_helpers import REPO, WORLD_END

pytestmark = pytest.mark.e2e
DAG_ID = "closed_loop_nightly"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, check, timeout: float, log: Path, stack: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stack.poll() is None:
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(2)
    ended = "" if stack.poll() is None else f" (make airflow exited with {stack.returncode})"
    pytest.fail(f"no: {what}{ended}; the stack's log ends:\n{log.read_text()[-4000:]}")


def test_make_airflow_serves_the_ui_and_runs_a_night_triggered_through_the_api(tmp_path):
    local, api_port = tmp_path / "stack", _free_port()
    log = tmp_path / "make-airflow.log"
    env = {
        **os.environ,
        "AIRFLOW__API__PORT": str(api_port),
        # Task processes report to the API server's execution API: same port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "CLOSEDLOOP_SIMULATOR_PORT": str(_free_port()),
        "CLOSEDLOOP_WAREHOUSE_PORT": str(_free_port()),
        "CLOSEDLOOP_SIMULATOR_ARGS": f"--end-date {WORLD_END}",
    }
    env.pop("AIRFLOW_HOME", None)  # the stack keeps its own, under LOCAL
    stack = subprocess.Popen(
        ["make", "--no-print-directory", "airflow", f"LOCAL={local}"],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{api_port}"
    try:
        health = _wait(
            "the API server and scheduler report healthy",
            lambda: (
                (r := requests.get(f"{api}/api/v2/monitor/health", timeout=5)).ok
                and r.json()["scheduler"]["status"] == "healthy"
                and r.json()
            ),
            300,
            log,
            stack,
        )
        assert health["metadatabase"]["status"] == "healthy"
        assert f"http://localhost:{api_port}" in log.read_text()

        passwords = local / "airflow" / "simple_auth_manager_passwords.json.generated"
        (user, password), *_ = json.loads(passwords.read_text()).items()
        token = requests.post(
            f"{api}/auth/token", json={"username": user, "password": password}, timeout=10
        ).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"

        _wait(
            f"{DAG_ID} is parsed",
            lambda: session.get(f"{api}/api/v2/dags/{DAG_ID}", timeout=5).ok,
            180,
            log,
            stack,
        )
        assert session.patch(
            f"{api}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, timeout=10
        ).ok
        run = session.post(
            f"{api}/api/v2/dags/{DAG_ID}/dagRuns",
            json={"logical_date": f"{WORLD_END}T00:00:00Z"},
            timeout=10,
        )
        assert run.ok, run.text
        run_id = run.json()["dag_run_id"]
        state = _wait(
            "the triggered run finishes",
            lambda: (
                session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=5)
                .json()
                .get("state")
                in ("success", "failed")
                and session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", timeout=5).json()[
                    "state"
                ]
            ),
            900,
            log,
            stack,
        )
        assert state == "success", log.read_text()[-4000:]

        # The runbook's backfill, of one night to keep CI short (the order of several nights
        # is tested in tests/warehouse/test_incremental_extract.py).
        first = last = WORLD_END - timedelta(days=2)
        backfill = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "backfill",
                f"LOCAL={local}",
                f"FROM={first}",
                f"TO={last}",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert backfill.returncode == 0, backfill.stdout + backfill.stderr

        def backfilled_states():
            runs = session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns", timeout=5).json()
            states = {
                run["logical_date"][:10]: run["state"]
                for run in runs["dag_runs"]
                if run["run_type"] == "backfill"
            }
            return states and all(s in ("success", "failed") for s in states.values()) and states

        states = _wait("the backfilled night finishes", backfilled_states, 900, log, stack)
        assert states == {str(first): "success"}, log.read_text()[-4000:]
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
        subprocess.run(
            ["make", "--no-print-directory", "down", f"LOCAL={local}"],
            cwd=REPO,
            env=env,
            capture_output=True,
        )
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api}/api/v2/monitor/health", timeout=5)
