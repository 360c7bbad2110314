"""An incremental night builds the same rows as a full refresh."""

from __future__ import annotations

import pytest

from closedloop.warehouse import connect
from tests.warehouse_helpers import (
    WORLD_END,
    dbt,
    load_night,
    table_fingerprints,
    utc_midnight,
)

MARTS = (
    "closed_loop_attribution",
    "fct_attribution",
    "campaign_performance",
    "funnel_monthly",
    "lead_quality_feedback",
    "lead_features",
)
CUTOFF = "2026-06-10"  # the "previous night" saw nothing from this day on


def _fingerprints(uri: str) -> dict[str, tuple[int, str]]:
    return table_fingerprints(
        uri,
        [f"marts.{m}" for m in MARTS]
        + ["intermediate.int_visits_channeled", "intermediate.int_visits_intent_counted"],
    )


def test_an_incremental_night_equals_a_full_refresh(fresh_database, connections, tmp_path):
    uri = fresh_database("incr")
    load_night(uri, connections, utc_midnight(WORLD_END))
    with connect(uri) as conn:
        # Rewind raw to an earlier night: park what happened since CUTOFF.
        conn.execute(
            "create table raw.parked_visits as select * from raw.matomo_visits "
            f"where partition_date >= '{CUTOFF}'"
        )
        conn.execute(f"delete from raw.matomo_visits where partition_date >= '{CUTOFF}'")
        conn.execute(
            "create table raw.parked_deals as select * from raw.hubspot_deals "
            f"where (payload->'properties'->>'closedate')::timestamptz >= '{CUTOFF}'"
        )
        conn.execute(
            "delete from raw.hubspot_deals where record_id in "
            "(select record_id from raw.parked_deals)"
        )
        parked = conn.execute("select count(*) from raw.parked_deals").fetchone()[0]
    assert parked > 0
    first = dbt(uri, "build", target_path=tmp_path / "a")
    assert first.returncode == 0, first.stdout[-3000:]
    before = _fingerprints(uri)

    with connect(uri) as conn:  # the next night's data arrives
        conn.execute("insert into raw.matomo_visits select * from raw.parked_visits")
        conn.execute("insert into raw.hubspot_deals select * from raw.parked_deals")
        conn.execute("drop table raw.parked_visits, raw.parked_deals")
    incremental = dbt(uri, "build", target_path=tmp_path / "b")
    assert incremental.returncode == 0, incremental.stdout[-3000:]
    after_incremental = _fingerprints(uri)
    assert after_incremental != before

    full = dbt(uri, "build", "--full-refresh", target_path=tmp_path / "c")
    assert full.returncode == 0, full.stdout[-3000:]
    assert _fingerprints(uri) == after_incremental


@pytest.mark.parametrize("model", ["fct_attribution", "int_visits_channeled"])
def test_large_facts_are_incremental(model):
    from pathlib import Path

    sql = next(Path(__file__).resolve().parents[2].glob(f"dbt_project/models/**/{model}.sql"))
    assert "materialized='incremental'" in sql.read_text()
