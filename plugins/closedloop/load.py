"""Landing extracted records in raw: streamed with COPY, applied atomically, rerun-safe.

Records stream from the API pages into a temporary table with COPY (nothing is held whole in
memory); then, inside the same transaction, each entity's slice of raw is replaced: the days of
the window for day-partitioned data, the whole table for snapshots, the ids for upserts; for an
ad platform, only the rows of the account being loaded. A task killed midway leaves raw as it
was.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import orjson
import psycopg

from .sources import Record, Window

Strategy = Literal["partitions", "snapshot", "upsert"]


@dataclass
class LoadStats:
    fetched: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0
    seconds: float = 0.0


def _reject_reason(record: Record, strategy: Strategy, window: Window) -> str | None:
    if not record.record_id:
        return "missing id"
    if record.problem:
        return record.problem
    if strategy == "partitions":
        if record.partition_date is None:
            return "missing date"
        if not window.start <= record.partition_date < window.end:
            return f"date {record.partition_date} outside the requested window"
    return None


def load_records(
    conn: psycopg.Connection,
    source: str,
    records: Iterable[Record],
    strategies: dict[str, Strategy],
    window: Window,
    account: str | None = None,
) -> LoadStats:
    """Stream ``records`` into raw.<source>_<entity> tables in one transaction.

    Args:
        conn: an autocommit connection to the warehouse.
        source: table prefix, e.g. "matomo".
        records: what the extractor yields.
        strategies: how each entity's slice of raw is replaced.
        window: the days extracted (partitions outside it are rejected, not loaded).
        account: the ad account read; the other accounts' rows are left alone.
    """
    stats = LoadStats()
    started = time.monotonic()
    with conn.transaction():
        conn.execute(
            """create temporary table load_buffer (
                   seq bigint, entity text, record_id text, partition_date date,
                   payload jsonb, reject_reason text
               ) on commit drop"""
        )
        with conn.cursor().copy(
            "copy load_buffer (seq, entity, record_id, partition_date, payload, reject_reason) "
            "from stdin"
        ) as copy:
            for record in records:
                if record.entity not in strategies:
                    raise ValueError(f"{source}: no load strategy for entity {record.entity!r}")
                stats.fetched += 1
                reason = _reject_reason(record, strategies[record.entity], window)
                copy.write_row(
                    (
                        stats.fetched,
                        record.entity,
                        record.record_id,
                        record.partition_date,
                        orjson.dumps(record.payload).decode(),
                        reason,
                    )
                )
        scope, scope_params = _account_scope(account)
        for entity, strategy in strategies.items():
            _apply(conn, f"raw.{source}_{entity}", entity, strategy, window, account)
        conn.execute(
            "delete from raw.rejects where source = %s and window_start = %s and window_end = %s"
            + scope,
            (source, window.start, window.end, *scope_params),
        )
        stats.rejected = conn.execute(
            """insert into raw.rejects
                   (source, entity, window_start, window_end, reason, payload, account_id)
               select %s, entity, %s, %s, reject_reason, payload, %s from load_buffer
               where reject_reason is not null""",
            (source, window.start, window.end, account),
        ).rowcount
        stats.loaded = conn.execute(
            "select count(distinct (entity, record_id)) from load_buffer "
            "where reject_reason is null"
        ).fetchone()[0]
    stats.duplicates = stats.fetched - stats.loaded - stats.rejected
    stats.seconds = time.monotonic() - started
    return stats


def _account_scope(account: str | None) -> tuple[str, tuple]:
    """The rows an account's load replaces: its own, and rows landed before accounts were
    recorded (a source without accounts replaces every row)."""
    if account is None:
        return "", ()
    return " and (account_id = %s or account_id is null)", (account,)


def _apply(
    conn: psycopg.Connection,
    table: str,
    entity: str,
    strategy: Strategy,
    window: Window,
    account: str | None,
) -> None:
    scope, scope_params = _account_scope(account)
    if strategy == "partitions":
        conn.execute(
            f"delete from {table} where partition_date >= %s and partition_date < %s" + scope,
            (window.start, window.end, *scope_params),
        )
    elif strategy == "snapshot":
        conn.execute(f"delete from {table} where true" + scope, scope_params)
    else:
        conn.execute(
            f"""delete from {table} t using load_buffer b
                where b.entity = %s and b.reject_reason is null and t.record_id = b.record_id""",
            (entity,),
        )
    # The same record can arrive twice (pages shifting under the reader): the last one wins.
    conn.execute(
        f"""insert into {table} (record_id, partition_date, payload, account_id)
            select distinct on (record_id) record_id, partition_date, payload, %s
            from load_buffer where entity = %s and reject_reason is null
            order by record_id, seq desc""",
        (account, entity),
    )
