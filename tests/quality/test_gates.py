"""Bad data injected into a healthy warehouse: each kind stops its gate with a message that names
the table, the expectation and sample bad rows, and every result is recorded in ops."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from closedloop.quality import GateFailed, validate_marts, validate_raw
from closedloop.warehouse import connect
from tests.warehouse_helpers import WORLD_END, built_warehouse

NIGHT_DAY = WORLD_END - timedelta(days=1)


@pytest.fixture(scope="module")
def warehouse(server_uri, connections, tmp_path_factory):
    with built_warehouse(server_uri, connections, tmp_path_factory.mktemp("dbt")) as uri:
        yield uri


@contextmanager
def tampered(uri: str, table: str, *statements: str) -> Iterator[None]:
    """Run ``statements`` against ``table``, then put the table back as it was."""
    with connect(uri) as conn:
        conn.execute(f"create table ops.pristine as select * from {table}")
        for statement in statements:
            conn.execute(statement)
    try:
        yield
    finally:
        with connect(uri) as conn, conn.transaction():
            conn.execute(f"delete from {table}")
            conn.execute(f"insert into {table} select * from ops.pristine")
            conn.execute("drop table ops.pristine")


def recorded_failures(uri: str, run_id: str) -> list[tuple[str, str, str]]:
    with connect(uri) as conn:
        return conn.execute(
            "select table_name, check_kind, severity from ops.validation_results "
            "where run_id = %s and not success order by 1, 2",
            (run_id,),
        ).fetchall()


def test_clean_data_passes_and_every_result_is_recorded(warehouse):
    summary = validate_raw(warehouse, NIGHT_DAY, "clean")
    assert summary["failed"] == 0
    with connect(warehouse) as conn:
        recorded = conn.execute(
            "select count(*) from ops.validation_results where run_id = 'clean'"
        ).fetchone()[0]
    assert recorded == summary["expectations"] > 50


def test_a_null_key_stops_the_raw_gate(warehouse):
    with tampered(
        warehouse,
        "raw.matomo_visits",
        "update raw.matomo_visits set payload = payload - 'visitorId' "
        "where record_id = (select min(record_id) from raw.matomo_visits)",
    ):
        with pytest.raises(GateFailed) as failure:
            validate_raw(warehouse, NIGHT_DAY, "null-key")
        bad_id = (
            connect(warehouse).execute("select min(record_id) from raw.matomo_visits").fetchone()[0]
        )
    message = str(failure.value)
    assert (
        "raw.matomo_visits: [not_null] the record's keys (idVisit, visitorId) are present"
        in message
    )
    assert f'"record_id": "{bad_id}"' in message  # a sample of the bad row
    assert ("raw.matomo_visits", "not_null", "fail") in recorded_failures(warehouse, "null-key")


def test_a_duplicate_record_stops_the_raw_gate(warehouse):
    with (
        tampered(
            warehouse,
            "raw.hubspot_contacts",
            "insert into raw.hubspot_contacts select * from raw.hubspot_contacts limit 1",
        ),
        pytest.raises(GateFailed, match=r"raw.hubspot_contacts: \[unique\] record_id is unique"),
    ):
        validate_raw(warehouse, NIGHT_DAY, "duplicate")


def test_a_night_with_a_tenth_of_the_usual_volume_stops_the_raw_gate(warehouse):
    with tampered(
        warehouse,
        "raw.matomo_visits",
        f"""delete from raw.matomo_visits where partition_date = '{NIGHT_DAY}'
                      and record_id not in (select record_id from raw.matomo_visits
                                            where partition_date = '{NIGHT_DAY}' limit 1)""",
    ):
        with connect(warehouse) as conn:
            night, average = conn.execute(
                f"""select count(*) filter (where partition_date = '{NIGHT_DAY}'),
                           count(*) filter (where partition_date < '{NIGHT_DAY}') / 7.0
                    from raw.matomo_visits where partition_date >= date '{NIGHT_DAY}' - 7"""
            ).fetchone()
        assert night <= 0.1 * float(average) + 1  # the injection: about a tenth of the usual
        with pytest.raises(GateFailed, match=r"raw.matomo_visits: \[volume\]"):
            validate_raw(warehouse, NIGHT_DAY, "low-volume")


def test_stale_data_stops_the_raw_gate(warehouse):
    with (
        tampered(
            warehouse,
            "raw.linkedin_ads_campaign_analytics",
            "delete from raw.linkedin_ads_campaign_analytics "
            f"where partition_date > date '{NIGHT_DAY}' - 5",
        ),
        pytest.raises(GateFailed) as failure,
    ):
        validate_raw(warehouse, NIGHT_DAY, "stale")
    assert "raw.linkedin_ads_campaign_analytics: [freshness]" in str(failure.value)
    assert ("raw.linkedin_ads_campaign_analytics", "freshness", "fail") in recorded_failures(
        warehouse, "stale"
    )


def test_spend_that_does_not_reconcile_stops_the_marts_gate(warehouse):
    with (
        tampered(
            warehouse,
            "raw.meta_ads_campaign_insights",
            "update raw.meta_ads_campaign_insights "
            "set payload = jsonb_set(payload, '{spend}', '\"99999.00\"') "
            f"where partition_date = '{NIGHT_DAY}'",
        ),
        pytest.raises(GateFailed) as failure,
    ):
        validate_marts(warehouse, WORLD_END - timedelta(days=7), WORLD_END, "spend")
    message = str(failure.value)
    assert "marts.campaign_performance: [reconciliation] ad spend per platform" in message
    assert '"platform": "meta_ads"' in message


def test_revenue_that_does_not_reconcile_stops_the_marts_gate(warehouse):
    with (
        tampered(
            warehouse,
            "raw.hubspot_deals",
            "update raw.hubspot_deals set payload = jsonb_set(payload, "
            "'{properties,amount}', '\"1.00\"') "
            "where payload->'properties'->>'dealstage' = 'closedwon' "
            "and record_id = (select min(record_id) from raw.hubspot_deals "
            "where payload->'properties'->>'dealstage' = 'closedwon')",
        ),
        pytest.raises(GateFailed, match=r"closed-won revenue in the mart equals the CRM's"),
    ):
        validate_marts(warehouse, WORLD_END - timedelta(days=7), WORLD_END, "revenue")


def test_a_warning_is_recorded_without_stopping_the_run(warehouse):
    with tampered(
        warehouse,
        "raw.matomo_visits",
        "update raw.matomo_visits set payload = jsonb_set(payload, '{referrerType}', "
        "'\"carrier-pigeon\"') where record_id = "
        "(select min(record_id) from raw.matomo_visits)",
    ):
        summary = validate_raw(warehouse, NIGHT_DAY, "warn")
    assert summary == {**summary, "failed": 0, "warned": 1}
    assert recorded_failures(warehouse, "warn") == [
        ("raw.matomo_visits", "accepted_values", "warn")
    ]
