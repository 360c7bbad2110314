"""The local stack for `make run` and `make airflow`: embedded warehouse + simulator + Airflow env.

    python -m include.devstack up      start what is not running, write .local/env.sh
    python -m include.devstack down    stop what `up` started

Secrets (the warehouse password and the simulator's API token) are generated on first use into
.local/secrets.json (git-ignored, mode 600) and reach Airflow only as AIRFLOW_CONN_* variables.
If AIRFLOW_CONN_WAREHOUSE_POSTGRES is already set, that warehouse is used and none is started.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
# Where the stack keeps its state (a benchmark runs its own stack elsewhere).
LOCAL = Path(os.environ.get("CLOSEDLOOP_LOCAL_DIR", ROOT / ".local"))
SIMULATOR_PORT = int(os.environ.get("CLOSEDLOOP_SIMULATOR_PORT", "8765"))
WAREHOUSE_PORT = int(os.environ.get("CLOSEDLOOP_WAREHOUSE_PORT", "54329"))

TELEMETRY_OFF = {
    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "False",
    "SCARF_ANALYTICS": "false",
    "DO_NOT_TRACK": "1",
}


def api_connections(simulator_url: str, token: str) -> dict[str, dict]:
    """Airflow connections pointing every source at the simulator (ids fixed by the product)."""
    return {
        "web_matomo": {
            "conn_type": "http",
            "host": f"{simulator_url}/matomo",
            "password": token,
            "extra": {"id_site": 1},
        },
        "ads_google": {
            "conn_type": "http",
            "host": f"{simulator_url}/googleads",
            "password": token,
            "extra": {"customer_id": "1234567890", "developer_token": "dev-token"},
        },
        "ads_meta": {
            "conn_type": "http",
            "host": f"{simulator_url}/meta",
            "password": token,
            "extra": {"ad_account_id": "act_101"},
        },
        "ads_linkedin": {
            "conn_type": "http",
            "host": f"{simulator_url}/linkedin",
            "password": token,
            "extra": {"ad_account_id": "5070001"},
        },
        "crm_hubspot": {"conn_type": "http", "host": f"{simulator_url}/hubspot", "password": token},
    }


def source_connections(simulator_url: str, token: str) -> dict:
    """closedloop ApiConnections per source name, as Airflow builds them from api_connections."""
    from closedloop.connections import ApiConnection
    from closedloop.extract import SOURCES

    by_conn_id = api_connections(simulator_url, token)
    return {
        name: ApiConnection(
            spec.conn_id,
            by_conn_id[spec.conn_id]["host"],
            by_conn_id[spec.conn_id]["password"],
            by_conn_id[spec.conn_id].get("extra", {}),
        )
        for name, spec in SOURCES.items()
    }


def warehouse_connection(host: str, port: int, password: str, database: str) -> dict:
    return {
        "conn_type": "postgres",
        "host": host,
        "port": port,
        "login": "postgres",
        "password": password,
        "schema": database,
    }


def airflow_env(airflow_home: Path, connections: dict[str, dict]) -> dict[str, str]:
    """Environment for the airflow CLI: this project's dags/plugins, no examples, no telemetry."""
    env = {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        **TELEMETRY_OFF,
    }
    for conn_id, conn in connections.items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env


def _secrets() -> dict[str, str]:
    path = LOCAL / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "warehouse_password": secrets.token_urlsafe(18),
        "simulator_token": secrets.token_urlsafe(24),
    }
    LOCAL.mkdir(exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(values))
    return values


def _simulator_up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=1).ok
    except requests.RequestException:
        return False


def up() -> None:
    sys.path.insert(0, str(ROOT / "plugins"))
    from closedloop import embedded_warehouse

    values = _secrets()
    url = f"http://127.0.0.1:{SIMULATOR_PORT}"
    if not _simulator_up(url):
        log = (LOCAL / "simulator.log").open("a")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "include.simulator",
                "--port",
                str(SIMULATOR_PORT),
                *shlex.split(os.environ.get("CLOSEDLOOP_SIMULATOR_ARGS", "")),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env={**os.environ, "SIMULATOR_TOKEN": values["simulator_token"]},
        )
        (LOCAL / "simulator.pid").write_text(str(process.pid))
        for _ in range(100):
            if _simulator_up(url):
                break
            if process.poll() is not None:
                raise SystemExit(f"the simulator exited; see {LOCAL / 'simulator.log'}")
            time.sleep(0.2)
    connections = api_connections(url, values["simulator_token"])
    external = os.environ.get("AIRFLOW_CONN_WAREHOUSE_POSTGRES")
    if not external:
        warehouse = embedded_warehouse.start(
            LOCAL / "warehouse", values["warehouse_password"], port=WAREHOUSE_PORT
        )
        connections["warehouse_postgres"] = warehouse_connection(
            warehouse.host, warehouse.port, values["warehouse_password"], "closedloop"
        )
    env = airflow_env(LOCAL / "airflow", connections)
    if external:
        env["AIRFLOW_CONN_WAREHOUSE_POSTGRES"] = external
    lines = [f"export {name}={shlex.quote(value)}" for name, value in sorted(env.items())]
    env_file = LOCAL / "env.sh"
    env_file.touch(mode=0o600)
    env_file.write_text("\n".join(lines) + "\n")
    print(
        f"simulator on {url}; warehouse "
        f"{'from AIRFLOW_CONN_WAREHOUSE_POSTGRES' if external else 'embedded on 127.0.0.1'}; "
        f"environment in {env_file}"
    )


def down() -> None:
    sys.path.insert(0, str(ROOT / "plugins"))
    from closedloop import embedded_warehouse

    pid_file = LOCAL / "simulator.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.killpg(int(pid_file.read_text()), 15)
        pid_file.unlink()
    embedded_warehouse.stop(LOCAL / "warehouse")
    print("stopped the simulator and the embedded warehouse")


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
