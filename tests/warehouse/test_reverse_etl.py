"""Pushing scores to the CRM simulator: only changes are sent, refused records are logged and
retried next night while the rest of their batch lands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closedloop.connections import ApiConnection
from closedloop.reverse_etl import push_scores
from closedloop.sources.hubspot import HubSpotClient
from closedloop.warehouse import connect, ensure_tables
from include.simulator.apis import Settings
from include.simulator.server import Simulator
from include.simulator.world import World

SCORED_AT = datetime(2026, 6, 30, tzinfo=UTC)


@pytest.fixture
def crm(token):
    simulator = Simulator(World(seed=11, end_date=SCORED_AT.date()), Settings(token=token)).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def conn(fresh_database):
    with connect(fresh_database("push")) as conn:
        ensure_tables(conn)
        yield conn


def set_scores(conn, scores: dict[str, int]) -> None:
    conn.execute("delete from ops.lead_scores")
    for contact_id, score in scores.items():
        conn.execute(
            "insert into ops.lead_scores (contact_id, score, tier, reasons, scored_at, run_id) "
            "values (%s, %s, %s, 'reasons', %s, 'run')",
            (contact_id, score, "A" if score >= 50 else "C", SCORED_AT),
        )


def client(crm, token) -> HubSpotClient:
    return HubSpotClient(ApiConnection("crm_hubspot", f"{crm.base_url}/hubspot", token))


def test_only_changed_scores_are_sent_and_a_quiet_night_sends_nothing(crm, token, conn):
    ids = [c.contact_id for c in crm.world.contacts[:250]]
    set_scores(conn, dict.fromkeys(ids, 40))
    first = push_scores(conn, client(crm, token), "night-1")
    assert (first.sent, first.succeeded, first.batches) == (250, 250, 3)
    assert crm.apis.crm.contact_values[ids[0]]["closedloop_lead_score"] == "40"

    set_scores(conn, {**dict.fromkeys(ids, 40), ids[5]: 75, ids[9]: 12})
    second = push_scores(conn, client(crm, token), "night-2")
    assert (second.sent, second.batches) == (2, 1)
    assert crm.apis.crm.contact_values[ids[5]]["closedloop_lead_score"] == "75"

    calls = crm.apis.crm.batch_update_calls
    quiet = push_scores(conn, client(crm, token), "night-3")
    assert quiet.sent == 0
    assert crm.apis.crm.batch_update_calls == calls


def test_refused_records_are_logged_and_retried_while_the_rest_lands(crm, token, conn):
    good = [c.contact_id for c in crm.world.contacts[:5]]
    set_scores(conn, {**dict.fromkeys(good, 55), "999999999": 80})
    stats = push_scores(conn, client(crm, token), "night-1")
    assert (stats.sent, stats.succeeded, stats.failed) == (6, 5, 1)
    assert all(crm.apis.crm.contact_values[cid]["closedloop_lead_score"] == "55" for cid in good)
    status, error = conn.execute(
        "select status, error from ops.crm_sync_log where contact_id = '999999999'"
    ).fetchone()
    assert status == "failed" and error.startswith("OBJECT_NOT_FOUND")
    retried = push_scores(conn, client(crm, token), "night-2")
    assert (retried.sent, retried.failed) == (1, 1)  # only the refused one is tried again


def first_value(conn, sql: str):
    return conn.execute(sql).fetchone()[0]


def test_a_dry_run_logs_the_diff_and_writes_nothing(crm, token, conn):
    ids = [c.contact_id for c in crm.world.contacts[:30]]
    set_scores(conn, dict.fromkeys(ids, 70))
    stats = push_scores(conn, None, "dry", dry_run=True)
    assert (stats.changed, stats.sent, stats.dry_run) == (30, 0, True)
    assert crm.apis.crm.batch_update_calls == 0 and crm.apis.crm.custom_properties == {}
    assert first_value(conn, "select count(*) from ops.crm_sync_log where status = 'dry_run'") == 30
    assert first_value(conn, "select count(*) from ops.crm_sync_state") == 0
    assert first_value(conn, "select changed from ops.crm_sync_runs where dry_run") == 30
    real = push_scores(conn, client(crm, token), "real")  # the dry run consumed nothing
    assert real.succeeded == 30


def test_tier_and_reasons_reach_the_crm_with_the_score(crm, token, conn):
    ids = [c.contact_id for c in crm.world.contacts[:3]]
    set_scores(conn, dict.fromkeys(ids, 64))
    push_scores(conn, client(crm, token), "night-1")
    written = crm.apis.crm.contact_values[ids[0]]
    assert (
        written["closedloop_lead_score"],
        written["closedloop_lead_tier"],
        written["closedloop_score_reasons"],
    ) == ("64", "A", "reasons")
    assert set(crm.apis.crm.custom_properties) == {
        "closedloop_lead_score",
        "closedloop_lead_tier",
        "closedloop_score_reasons",
        "closedloop_scored_at",
    }


def test_the_push_keeps_within_the_crm_rate_limit_without_being_refused(token, conn):
    from include.simulator.apis import Settings as SimulatorSettings

    limited = Simulator(
        World(seed=11, end_date=SCORED_AT.date()),
        SimulatorSettings(token=token, hubspot_rate_limit=5, hubspot_rate_window_seconds=1.0),
    ).start()
    try:
        ids = [c.contact_id for c in limited.world.contacts[:12]]
        set_scores(conn, dict.fromkeys(ids, 42))
        crm_client = HubSpotClient(
            ApiConnection(
                "crm_hubspot",
                f"{limited.base_url}/hubspot",
                token,
                {"requests_per_10_seconds": 5, "rate_window_seconds": 1.0},
            )
        )
        stats = push_scores(conn, crm_client, "night-1", batch_size=1)
    finally:
        limited.stop()
    assert stats.succeeded == 12
    assert limited.apis.crm.rate_limited == 0  # the client waited instead of being refused
    # 4 property checks + 4 creations + 12 batches = 20 calls at 5 a second: at least 3 s.
    assert crm_client.http.calls == 20
