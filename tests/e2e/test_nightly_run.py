"""The whole night through Airflow (`airflow dags test`) against the simulator and a real
PostgreSQL, checked against the simulator's ground truth; then the same night again."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from closedloop.warehouse import RAW_TABLES, connect
from include.devstack import airflow_env, api_connections, warehouse_connection
from tests.warehouse_helpers import WORLD_END

pytestmark = pytest.mark.e2e
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=900)


def _fingerprint(uri: str) -> dict[str, str]:
    """A checksum of every raw table and mart, and of what the CRM acknowledged."""
    queries = {
        f"raw.{t}": f"select md5(coalesce(string_agg(record_id || ':' || "
        f"coalesce(partition_date::text, '') || ':' || payload::text, ',' "
        f"order by record_id, partition_date), '')) from raw.{t}"
        for t in RAW_TABLES
    }
    for mart in ("closed_loop_attribution", "lead_features"):
        queries[f"marts.{mart}"] = (
            f"select md5(coalesce(string_agg(m::text, ',' order by m::text),"
            f" '')) from marts.{mart} m"
        )
    queries["ops.crm_sync_state"] = (
        "select md5(coalesce(string_agg(contact_id || ':' || score, "
        "',' order by contact_id), '')) from ops.crm_sync_state"
    )
    with connect(uri) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in queries.items()}


@pytest.fixture(scope="module")
def airflow_run(server_uri, simulator, token, tmp_path_factory, webhook):
    """Run the night ending WORLD_END once; yield what the tests need to look at it."""
    import uuid

    import psycopg

    database = f"e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    parts = urlsplit(server_uri)
    connections = api_connections(simulator.base_url, token)
    connections["warehouse_postgres"] = warehouse_connection(
        parts.hostname, parts.port, unquote(parts.password or ""), database
    )
    docs = tmp_path_factory.mktemp("data-docs")
    connections["alerts_webhook"] = {"conn_type": "http", "host": webhook[0]}
    env = {
        **os.environ,
        **airflow_env(tmp_path_factory.mktemp("airflow-home"), connections),
        "CLOSEDLOOP_DATA_DOCS_DIR": str(docs),
    }
    migrated = _airflow(env, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    uri = server_uri.rsplit("/", 1)[0] + f"/{database}"

    def run_night() -> subprocess.CompletedProcess:
        # A run at WORLD_END's midnight covers the night before it (data-interval timetable).
        return _airflow(env, "dags", "test", "closed_loop_nightly", WORLD_END.isoformat())

    first = run_night()
    assert first.returncode == 0, (first.stdout + first.stderr)[-6000:]
    yield {
        "uri": uri,
        "env": env,
        "run_night": run_night,
        "first": first,
        "docs": docs,
        "alerts": list(webhook[1]),
    }
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'drop database "{database}" with (force)')


def test_the_run_covers_the_night_before(airflow_run):
    with connect(airflow_run["uri"]) as conn:
        start, end = conn.execute("select night_start, night_end from ops.pipeline_runs").fetchone()
    assert (start.date().isoformat(), end.date().isoformat()) == ("2026-06-29", "2026-06-30")


def test_a_first_touch_channel_per_won_deal_as_in_ground_truth(airflow_run, world):
    with connect(airflow_run["uri"]) as conn:
        rows = conn.execute(
            "select deal_id, contact_id, first_touch_channel from marts.closed_loop_attribution"
        ).fetchall()
    assert {(d, c): ch for d, c, ch in rows} == {
        (deal.deal_id, cid): world.true_first_touch_channel(cid)
        for deal in world.won_deals()
        for cid in deal.contact_ids
    }


def test_b_mart_revenue_equals_closed_won_revenue_to_the_cent(airflow_run, world):
    with connect(airflow_run["uri"]) as conn:
        total = conn.execute("select sum(revenue) from marts.closed_loop_attribution").fetchone()[0]
    assert total == Decimal(str(world.closed_won_revenue()))


def test_c_the_crm_holds_a_score_for_every_open_lead(airflow_run, simulator, world):
    written = simulator.apis.crm.contact_values
    scored = {cid for cid, values in written.items() if "closedloop_lead_score" in values}
    assert scored == world.open_lead_ids()
    for cid in scored:
        assert 0 <= int(written[cid]["closedloop_lead_score"]) <= 100
        assert written[cid]["closedloop_scored_at"].startswith("2026-06-30T00:00:00")
        assert written[cid]["closedloop_lead_tier"] in {"A", "B", "C", "D"}
        assert written[cid]["closedloop_score_reasons"]
    assert {
        "closedloop_lead_score",
        "closedloop_lead_tier",
        "closedloop_score_reasons",
        "closedloop_scored_at",
    } <= set(simulator.apis.crm.custom_properties)
    assert simulator.apis.crm.batch_update_calls == -(-len(scored) // 100)


def test_d_a_second_run_of_the_same_night_changes_nothing_and_pushes_nothing(
    airflow_run, simulator
):
    before = _fingerprint(airflow_run["uri"])
    calls_before = simulator.apis.crm.batch_update_calls
    second = airflow_run["run_night"]()
    assert second.returncode == 0, (second.stdout + second.stderr)[-6000:]
    assert _fingerprint(airflow_run["uri"]) == before
    assert simulator.apis.crm.batch_update_calls == calls_before
    with connect(airflow_run["uri"]) as conn:
        summaries = [
            r[0]
            for r in conn.execute(
                "select summary from ops.pipeline_runs order by recorded_at"
            ).fetchall()
        ]
    assert len(summaries) == 2
    assert summaries[0]["scores_pushed"] == len(simulator.apis.crm.contact_values)
    assert summaries[1]["scores_pushed"] == 0


def test_both_gates_ran_and_their_results_are_recorded(airflow_run):
    with connect(airflow_run["uri"]) as conn:
        gates = dict(
            conn.execute(
                "select gate, bool_and(success or severity = 'warn') from ops.validation_results "
                "group by 1"
            ).fetchall()
        )
    assert gates == {"raw_gate": True, "marts_gate": True}


def test_data_docs_open_in_a_headless_browser(airflow_run, tmp_path):
    import shutil

    index = airflow_run["docs"] / "index.html"
    assert index.exists()
    for page in airflow_run["docs"].rglob("*.html"):  # nothing loads from outside the machine
        assert not re.search(r'(src|href)="https?://[^"]*\.(js|css)', page.read_text()), page
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: `make test` installs it (Debian package chromium)"

    def open_page(page: Path) -> str:
        opened = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=5000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert opened.returncode == 0, opened.stderr[-2000:]
        console = [line for line in opened.stderr.splitlines() if ":CONSOLE" in line]
        assert console == [], console  # no script errors, no blocked loads
        return opened.stdout

    front = open_page(index)
    assert "raw_gate/index.html" in front and "marts_gate/index.html" in front
    for gate, table in (
        ("raw_gate", "raw.matomo_visits"),
        ("marts_gate", "marts.campaign_performance"),
    ):
        assert f"{gate}.{table}" in open_page(airflow_run["docs"] / gate / "index.html")
        validation = next((airflow_run["docs"] / gate / "validations").rglob("*.html"))
        assert "Expectation Validation Result" in open_page(validation)


def test_a_late_run_raises_the_deadline_alert(airflow_run):
    """The night ending WORLD_END was due at 07:00 that morning: months ago, so the run is late."""
    (alert,) = [a for a in airflow_run["alerts"] if "deadline" in a["text"]]
    assert (
        "closed_loop_nightly: lead scores reached the CRM after the 07:00 deadline"
        in (alert["text"])
    )
    assert f"{WORLD_END}" in alert["text"]


def test_the_runbook_rotates_an_api_token_with_the_airflow_cli(airflow_run, simulator, token):
    """The runbook's token rotation, in the metastore rather than the environment: a revoked
    token fails the task at once naming the connection; the runbook's commands fix it."""
    import json

    env = {k: v for k, v in airflow_run["env"].items() if k != "AIRFLOW_CONN_CRM_HUBSPOT"}

    def conn_json(secret: str) -> str:
        return json.dumps(
            {"conn_type": "http", "host": f"{simulator.base_url}/hubspot", "password": secret}
        )

    def extract_hubspot() -> str:
        """The task's log; `airflow tasks test` exits 0 whatever the task's end state."""
        run = _airflow(
            env, "tasks", "test", "closed_loop_nightly", "extract_hubspot", WORLD_END.isoformat()
        )
        return run.stdout + run.stderr

    revoked = "revoked-" + token[:4]
    revoke = _airflow(env, "connections", "add", "crm_hubspot", "--conn-json", conn_json(revoked))
    assert revoke.returncode == 0, revoke.stderr[-2000:]
    refused = extract_hubspot()
    assert "new_state=failed" in refused  # failed at once: no retries of a refused token
    assert "refused the credentials" in refused and "crm_hubspot" in refused
    assert revoked not in refused  # the token never reaches the log

    # The runbook: `airflow connections delete crm_hubspot && airflow connections add ...`
    assert _airflow(env, "connections", "delete", "crm_hubspot").returncode == 0
    added = _airflow(env, "connections", "add", "crm_hubspot", "--conn-json", conn_json(token))
    assert added.returncode == 0, added.stderr[-2000:]
    rotated = extract_hubspot()
    assert "new_state=success" in rotated, rotated[-4000:]


def test_a_failed_gate_stops_the_night_and_leaves_the_crm_untouched(
    server_uri, world, token, tmp_path_factory, webhook
):
    """The sources serve stale data (nothing newer than ten days before the night)."""
    import uuid
    from datetime import timedelta

    import psycopg

    from include.simulator.apis import Settings
    from include.simulator.server import Simulator
    from include.simulator.world import World

    stale = Simulator(
        World(seed=world.seed, end_date=WORLD_END - timedelta(days=10)), Settings(token=token)
    ).start()
    database = f"stale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'create database "{database}"')
    try:
        parts = urlsplit(server_uri)
        connections = api_connections(stale.base_url, token)
        connections["warehouse_postgres"] = warehouse_connection(
            parts.hostname, parts.port, unquote(parts.password or ""), database
        )
        connections["alerts_webhook"] = {"conn_type": "http", "host": webhook[0]}
        webhook[1].clear()
        env = {
            **os.environ,
            **airflow_env(tmp_path_factory.mktemp("airflow-stale"), connections),
            "CLOSEDLOOP_DATA_DOCS_DIR": str(tmp_path_factory.mktemp("docs-stale")),
        }
        assert _airflow(env, "db", "migrate").returncode == 0
        run = _airflow(env, "dags", "test", "closed_loop_nightly", WORLD_END.isoformat())
        assert run.returncode != 0
        log = run.stdout + run.stderr
        assert "data quality gate raw_gate failed" in log
        assert "[freshness]" in log
        assert stale.apis.crm.batch_update_calls == 0
        assert stale.apis.crm.custom_properties == {}
        uri = server_uri.rsplit("/", 1)[0] + f"/{database}"
        with connect(uri) as conn:
            failed = conn.execute(
                "select count(*) from ops.validation_results where gate = 'raw_gate' "
                "and check_kind = 'freshness' and not success"
            ).fetchone()[0]
            marts = conn.execute(
                "select count(*) from information_schema.tables where table_schema = 'marts'"
            ).fetchone()[0]
        assert failed > 0
        assert marts == 0  # dbt never ran
        # The on-call engineer hears of it: DAG, task, night, error and where the log is.
        (alert,) = [a for a in webhook[1] if "validate_raw failed" in a["text"]]
        for expected in ("closed_loop_nightly", "validate_raw", "freshness", "log"):
            assert expected in alert["text"], expected
        assert str(WORLD_END - timedelta(days=1)) in alert["text"]  # the night's start
    finally:
        stale.stop()
        with psycopg.connect(server_uri, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')
