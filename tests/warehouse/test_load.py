"""Landing records in raw: atomic, rerun-safe, and nothing lost (rejects keep their reason)."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from closedloop.load import load_records
from closedloop.sources import Record, Window
from closedloop.warehouse import connect, ensure_tables

WINDOW = Window(date(2026, 5, 1), date(2026, 5, 3))
STRATEGY = {"visits": "partitions"}


def visits(*specs: tuple[str | None, date, int]) -> list[Record]:
    return [Record("visits", rid, day, {"idVisit": rid, "n": n}) for rid, day, n in specs]


@pytest.fixture
def conn(fresh_database):
    with connect(fresh_database("load")) as conn:
        ensure_tables(conn)
        yield conn


def raw_rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select record_id, partition_date, payload from raw.matomo_visits order by 1, 2"
    ).fetchall()


def test_a_rerun_replaces_the_window_and_leaves_raw_as_one_run_did(conn):
    batch = visits(("1", date(2026, 5, 1), 1), ("2", date(2026, 5, 2), 1))
    load_records(conn, "matomo", batch, STRATEGY, WINDOW)
    once = raw_rows(conn)
    load_records(conn, "matomo", batch, STRATEGY, WINDOW)
    assert raw_rows(conn) == once
    assert len(once) == 2


def test_days_outside_the_window_are_kept(conn):
    load_records(
        conn,
        "matomo",
        visits(("0", date(2026, 4, 30), 1)),
        STRATEGY,
        Window(date(2026, 4, 30), date(2026, 5, 1)),
    )
    load_records(conn, "matomo", visits(("1", date(2026, 5, 1), 1)), STRATEGY, WINDOW)
    assert [r[0] for r in raw_rows(conn)] == ["0", "1"]


def test_bad_records_are_rejected_with_a_reason_and_counted(conn):
    batch = visits(
        (None, date(2026, 5, 1), 1), ("2", date(2026, 5, 9), 1), ("3", date(2026, 5, 1), 1)
    )
    stats = load_records(conn, "matomo", batch, STRATEGY, WINDOW)
    assert (stats.fetched, stats.loaded, stats.rejected) == (3, 1, 2)
    reasons = sorted(r[0] for r in conn.execute("select reason from raw.rejects").fetchall())
    assert reasons == ["date 2026-05-09 outside the requested window", "missing id"]
    load_records(conn, "matomo", batch, STRATEGY, WINDOW)  # a rerun does not double the rejects
    assert conn.execute("select count(*) from raw.rejects").fetchone()[0] == 2


def test_a_record_seen_twice_is_loaded_once_with_its_newest_version(conn):
    batch = visits(("1", date(2026, 5, 1), 1), ("1", date(2026, 5, 1), 2))
    stats = load_records(conn, "matomo", batch, STRATEGY, WINDOW)
    assert (stats.fetched, stats.loaded, stats.duplicates) == (2, 1, 1)
    assert raw_rows(conn)[0][2] == {"idVisit": "1", "n": 2}


def test_a_load_that_dies_midway_leaves_raw_untouched(conn):
    load_records(conn, "matomo", visits(("1", date(2026, 5, 1), 1)), STRATEGY, WINDOW)
    before = raw_rows(conn)

    def dying():
        yield from visits(("7", date(2026, 5, 1), 1))
        raise ConnectionError("network gone")

    with pytest.raises(ConnectionError):
        load_records(conn, "matomo", dying(), STRATEGY, WINDOW)
    assert raw_rows(conn) == before


def test_reading_ahead_keeps_order_and_raises_a_reading_error_in_the_loader():
    from closedloop.extract import read_ahead

    def pages():
        yield from (Record("visits", str(n), None, {}) for n in range(1234))
        raise ConnectionError("the API hung up")

    seen = []
    with pytest.raises(ConnectionError, match="hung up"):
        for record in read_ahead(pages(), batch=100, depth=2):
            seen.append(record.record_id)
    assert seen == [str(n) for n in range(1234)]


def test_a_loader_that_stops_early_does_not_leave_the_reader_hanging():
    import threading

    from closedloop.extract import read_ahead

    endless = (Record("visits", str(n), None, {}) for n in iter(int, 1))
    reader = read_ahead(endless, batch=10, depth=1)
    assert next(reader).record_id == "0"
    reader.close()
    assert not any(t.name == "read-ahead" and t.is_alive() for t in threading.enumerate())


def test_any_text_survives_the_copy_into_raw_unchanged(conn):
    tricky = 'tab\there, newline\nthere, back\\slash, \\N, quote " and ünïcødé 🚀'
    records = [
        Record("visits", f"id\t{tricky}", date(2026, 5, 1), {"text": tricky, "list": [tricky]}),
        Record("visits", None, date(2026, 5, 1), {"text": tricky}),  # rejected: missing id
    ]
    stats = load_records(conn, "matomo", records, STRATEGY, WINDOW)
    assert (stats.loaded, stats.rejected) == (1, 1)
    assert raw_rows(conn) == [
        (f"id\t{tricky}", date(2026, 5, 1), {"text": tricky, "list": [tricky]})
    ]
    reason, payload = conn.execute("select reason, payload from raw.rejects").fetchone()
    assert reason == "missing id" and payload == {"text": tricky}
