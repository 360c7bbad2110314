"""Landing extracted records in raw: streamed with COPY, applied atomically, rerun-safe.

Records stream from the API pages into a temporary table with COPY (nothing is held whole in
memory); then, inside the same transaction, each entity's slice of raw is replaced: the days of
the window for day-partitioned data, the whole table for snapshots, the ids for upserts; for an
ad platform, only the rows of the account being loaded. A task killed midway leaves raw as it
was.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
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

    def __iadd__(self, other: LoadStats) -> LoadStats:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self


# Rows written to COPY at once: one call per batch instead of one per record.
COPY_BATCH = 500
# COPY's text format: a backslash, tab, newline or carriage return inside a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    # translate() goes character by character in Python: only when there is something to escape.
    return text.translate(_COPY_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _copy_line(seq: int, record: Record, reason: str | None) -> bytes:
    """One row of load_buffer in COPY's text format, formatted here: psycopg's ``write_row``
    formats every value in Python, the largest cost of loading in a profile."""
    # orjson escapes every control character inside strings: only backslashes need doubling.
    payload = orjson.dumps(record.payload).replace(b"\\", b"\\\\")
    head = "\t".join(
        (
            str(seq),
            _copy_text(record.entity),
            _copy_text(record.record_id),
            _copy_text(record.partition_date),
        )
    )
    return b"%s\t%s\t%s\n" % (head.encode(), payload, _copy_text(reason).encode())


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
            lines: list[bytes] = []
            for record in records:
                if record.entity not in strategies:
                    raise ValueError(f"{source}: no load strategy for entity {record.entity!r}")
                stats.fetched += 1
                reason = _reject_reason(record, strategies[record.entity], window)
                lines.append(_copy_line(stats.fetched, record, reason))
                if len(lines) >= COPY_BATCH:
                    copy.write(b"".join(lines))
                    lines.clear()
            copy.write(b"".join(lines))
        scope, scope_params = _account_scope(account)
        for entity, strategy in strategies.items():
            stats.loaded += _apply(
                conn, f"raw.{source}_{entity}", entity, strategy, window, account
            )
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
) -> int:
    """Replace the entity's slice of ``table`` with the buffered records; returns how many."""
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
    # Sorting every wide row to find them costs twice a plain insert, so only when there are.
    has_duplicates = conn.execute(
        """select exists (select from load_buffer where entity = %s and reject_reason is null
                          group by record_id having count(*) > 1)""",
        (entity,),
    ).fetchone()[0]
    latest = "distinct on (record_id)" if has_duplicates else ""
    order = "order by record_id, seq desc" if has_duplicates else ""
    return conn.execute(
        f"""insert into {table} (record_id, partition_date, payload, account_id)
            select {latest} record_id, partition_date, payload, %s
            from load_buffer where entity = %s and reject_reason is null {order}""",
        (account, entity),
    ).rowcount
