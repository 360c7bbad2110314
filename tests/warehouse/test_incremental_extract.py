"""Nights as a scheduler runs them: reruns change nothing, a backfill equals the nights run one
by one, a missed night is caught up by the next, and deletions in the CRM reach raw."""

from __future__ import annotations

from datetime import timedelta

from closedloop.warehouse import connect
from tests.warehouse_helpers import WORLD_END, load_night, raw_fingerprints, utc_midnight

NIGHT_END = utc_midnight(WORLD_END)
WEEK = [NIGHT_END - timedelta(days=n) for n in range(6, -1, -1)]  # oldest first


def test_three_reruns_of_a_night_leave_raw_unchanged(fresh_database, connections):
    uri = fresh_database("reruns")
    load_night(uri, connections, NIGHT_END)
    once = raw_fingerprints(uri)
    for _ in range(3):
        load_night(uri, connections, NIGHT_END)
        assert raw_fingerprints(uri) == once
    assert once["matomo_visits"][0] > 0


def test_a_week_backfilled_newest_first_equals_the_seven_nights_run_in_order(
    fresh_database, connections
):
    nightly, backfilled = fresh_database("nightly"), fresh_database("backfill")
    for night_end in WEEK:
        load_night(nightly, connections, night_end)
    for night_end in reversed(WEEK):  # `airflow backfill create --run-backwards`
        load_night(backfilled, connections, night_end)
    assert raw_fingerprints(backfilled) == raw_fingerprints(nightly)


def test_a_missed_night_is_caught_up_by_the_next(fresh_database, connections):
    nightly, missed = fresh_database("every"), fresh_database("missed")
    for night_end in WEEK:
        load_night(nightly, connections, night_end)
        if night_end != WEEK[3]:  # the fourth night failed and was never rerun
            load_night(missed, connections, night_end)
    assert raw_fingerprints(missed) == raw_fingerprints(nightly)


def test_deleted_crm_records_reach_raw_marked_archived(fresh_database, connections, world):
    uri = fresh_database("deleted")
    load_night(uri, connections, NIGHT_END)
    with connect(uri) as conn:
        archived = {
            (table, record_id)
            for table in ("hubspot_contacts", "hubspot_deals")
            for (record_id,) in conn.execute(
                f"select record_id from raw.{table} where (payload->>'archived')::boolean "
                "and payload ? 'archivedAt'"
            )
        }
    expected = {("hubspot_contacts", c.contact_id) for c in world.archived_contacts} | {
        ("hubspot_deals", d.deal_id) for d in world.archived_deals
    }
    assert expected and archived == expected
