"""Extraction against a simulator that hurts: failing calls change nothing, broken records are
kept in raw.rejects with their reason, fields nobody announced are kept, and for every source
fetched = loaded + rejected + duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from closedloop.extract import SOURCES, Night, extract_source
from closedloop.http_client import SourceError
from closedloop.warehouse import connect
from include.simulator.apis import Settings
from include.simulator.faults import DRIFT_FIELD, DRIFT_PROPERTY, Faults
from include.simulator.server import Simulator
from tests.conftest import source_connections
from tests.dbt.test_incremental import MARTS
from tests.warehouse_helpers import (
    WORLD_END,
    dbt,
    load_night,
    raw_fingerprints,
    table_fingerprints,
    utc_midnight,
)

NIGHT_END = utc_midnight(WORLD_END)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setenv("CLOSEDLOOP_HTTP_BACKOFF_SECONDS", "0.05")


@contextmanager
def hurting(world, token, faults: Faults) -> Iterator[dict]:
    """Connections to a simulator of the same company that throws ``faults``."""
    simulator = Simulator(
        world,
        Settings(token=token, google_page_size=250, hubspot_rate_window_seconds=1, faults=faults),
    ).start()
    try:
        yield source_connections(simulator, token)
    finally:
        simulator.stop()


def _runs(uri: str) -> list[tuple]:
    with connect(uri) as conn:
        return conn.execute(
            "select source, fetched, loaded, rejected, duplicates from ops.extract_runs"
        ).fetchall()


def test_a_night_with_a_tenth_of_calls_failing_builds_identical_marts(
    fresh_database, connections, world, token, tmp_path
):
    faults = Faults.mixed(
        0.10,
        seed=3,
        latency=0.05,
        duplicates=0.5,  # of the pages after the first
        latency_seconds=0.2,
        retry_after_seconds=0.2,
    )
    calm, hurt = fresh_database("calm"), fresh_database("hurt")
    load_night(calm, connections, NIGHT_END)
    with hurting(world, token, faults) as faulty_connections:
        load_night(hurt, faulty_connections, NIGHT_END)
    for kind in ("server_error", "rate_limited", "dropped", "latency", "duplicates"):
        assert faults.injected[kind] > 0, kind

    assert raw_fingerprints(hurt) == raw_fingerprints(calm)
    for source, fetched, loaded, rejected, duplicates in _runs(hurt):
        assert fetched == loaded + rejected + duplicates, source
        assert rejected == 0, source
    assert sum(run[4] for run in _runs(hurt)) == faults.injected["duplicates"]

    marts = [f"marts.{m}" for m in MARTS]
    for uri, target in ((calm, "calm"), (hurt, "hurt")):
        result = dbt(uri, "build", "--exclude", "resource_type:test", target_path=tmp_path / target)
        assert result.returncode == 0, result.stdout[-3000:]
    assert table_fingerprints(hurt, marts) == table_fingerprints(calm, marts)


def test_broken_records_are_rejected_with_their_reason_and_nothing_disappears(
    fresh_database, world, token
):
    faults = Faults(malformed=0.02, seed=5)
    uri = fresh_database("malformed")
    with hurting(world, token, faults) as faulty_connections:
        load_night(uri, faulty_connections, NIGHT_END)
    assert faults.injected["malformed"] > 10
    runs = _runs(uri)
    assert {run[0] for run in runs} == set(SOURCES)
    for source, fetched, loaded, rejected, duplicates in runs:
        assert fetched == loaded + rejected + duplicates, source
    with connect(uri) as conn:
        rejects = conn.execute("select source, reason, payload from raw.rejects").fetchall()
        loaded_rejects = conn.execute(
            "select count(*) from raw.rejects r join raw.hubspot_contacts c "
            "on c.payload = r.payload"
        ).fetchone()[0]
    assert len(rejects) == sum(run[3] for run in runs) == faults.injected["malformed"]
    reasons = " ".join(reason for _, reason, _ in rejects)
    for expected in ("missing id", "not a date", "negative", "not an email address"):
        assert expected in reasons
    assert loaded_rejects == 0


def test_too_many_rejects_fail_the_source_but_keep_what_was_rejected(fresh_database, world, token):
    uri = fresh_database("mostly_broken")
    night = Night(NIGHT_END.replace(day=29), NIGHT_END, "broken")
    with (
        hurting(world, token, Faults(malformed=0.3, seed=2)) as faulty_connections,
        pytest.raises(SourceError, match="CLOSEDLOOP_MAX_REJECT_SHARE") as failure,
    ):
        extract_source("meta_ads", night, uri, faulty_connections["meta_ads"])
    assert "raw.rejects where source = 'meta_ads'" in str(failure.value)
    with connect(uri) as conn:
        kept = conn.execute("select count(*) from raw.rejects where source = 'meta_ads'")
        assert kept.fetchone()[0] > 0


def test_fields_and_crm_properties_nobody_announced_reach_raw(fresh_database, world, token):
    uri = fresh_database("drift")
    night = Night(NIGHT_END.replace(day=29), NIGHT_END, "drift")
    with hurting(world, token, Faults(schema_drift=1.0)) as faulty_connections:
        for source in ("matomo", "hubspot"):
            extract_source(source, night, uri, faulty_connections[source])
    with connect(uri) as conn:
        visit_fields = conn.execute(
            f"select count(*) filter (where payload ? '{DRIFT_FIELD}'), count(*) "
            "from raw.matomo_visits"
        ).fetchone()
        contact = conn.execute(
            f"select record_id, payload->'properties'->>'{DRIFT_PROPERTY}' "
            "from raw.hubspot_contacts where not (payload->>'archived')::boolean limit 1"
        ).fetchone()
    assert visit_fields[0] == visit_fields[1] > 0
    assert contact[1] == ("teal", "amber", "plum")[int(contact[0]) % 3]
