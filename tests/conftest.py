"""Shared fixtures: a real PostgreSQL (embedded) and the simulator serving over real HTTP.

Set CLOSEDLOOP_TEST_WAREHOUSE_URI to run against another server instead of the embedded one.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from closedloop import embedded_warehouse
from closedloop.connections import ApiConnection
from include.devstack import source_connections as devstack_source_connections
from include.simulator.apis import Settings
from include.simulator.server import Simulator
from include.simulator.world import World
from tests.warehouse_helpers import WORLD_END

# Airflow reads its home at import: keep tests away from ~/airflow and any real deployment.
os.environ.setdefault(
    "AIRFLOW_HOME", str(Path(__file__).resolve().parents[1] / ".local" / "test-airflow")
)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("CLOSEDLOOP_DATA_DOCS_DIR", tempfile.mkdtemp(prefix="data-docs-"))
os.environ.update(
    {
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "DO_NOT_TRACK": "1",
    }
)


@pytest.fixture(scope="session")
def server_uri(tmp_path_factory) -> Iterator[str]:
    """A libpq URI to a PostgreSQL server's maintenance database (embedded unless overridden)."""
    external = os.environ.get("CLOSEDLOOP_TEST_WAREHOUSE_URI")
    if external:
        yield external
        return
    pgdata = tmp_path_factory.mktemp("warehouse") / "pgdata"
    warehouse = embedded_warehouse.start(pgdata, secrets.token_urlsafe(12))
    try:
        yield warehouse.uri("postgres")
    finally:
        embedded_warehouse.destroy(pgdata)


@pytest.fixture
def fresh_database(server_uri: str):
    """A factory of empty databases on the test server; each returns its URI."""
    created: list[str] = []

    def make(prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server_uri, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        created.append(name)
        return server_uri.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with psycopg.connect(server_uri, autocommit=True) as conn:
        for name in created:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="session")
def world() -> World:
    return World(seed=7, profile="small", end_date=WORLD_END)


@pytest.fixture(scope="session")
def token() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def simulator(world: World, token: str) -> Iterator[Simulator]:
    # Small pages so that every client's paging is exercised.
    simulator = Simulator(world, Settings(token=token, google_page_size=250)).start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="session")
def connections(simulator: Simulator, token: str) -> dict[str, ApiConnection]:
    """ApiConnection per source name, as Airflow would build them from AIRFLOW_CONN_*."""
    return source_connections(simulator, token)


def source_connections(simulator: Simulator, token: str) -> dict[str, ApiConnection]:
    return devstack_source_connections(simulator.base_url, token)


@pytest.fixture(scope="module")
def webhook():
    """A local Slack-compatible webhook receiver: yields (URL, the JSON bodies it received)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - stdlib name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/hook", received
    server.shutdown()
