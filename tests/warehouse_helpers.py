"""Helpers for tests that need a warehouse loaded from the simulator and built by dbt."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from closedloop.extract import SOURCES, Night, extract_source

REPO = Path(__file__).resolve().parents[1]
WORLD_END = date(2026, 6, 30)  # the simulated company's "now", fixed for reproducible numbers


def load_night(uri: str, connections, night_end: datetime, run_id: str = "test") -> dict:
    """Extract every source for the night ending at ``night_end`` into raw."""
    from datetime import timedelta

    night = Night(night_end - timedelta(days=1), night_end, run_id)
    return {s: extract_source(s, night, uri, connections[s]) for s in SOURCES}


def dbt(uri: str, *args: str, target_path: Path) -> subprocess.CompletedProcess:
    """Run the dbt CLI of this environment against the PostgreSQL database at ``uri``."""
    parts = urlsplit(uri)
    return run_dbt(
        args,
        target_path,
        CLOSEDLOOP_WAREHOUSE_HOST=parts.hostname or "127.0.0.1",
        CLOSEDLOOP_WAREHOUSE_PORT=str(parts.port or 5432),
        CLOSEDLOOP_WAREHOUSE_USER=parts.username or "postgres",
        CLOSEDLOOP_WAREHOUSE_PASSWORD=_unquote(parts.password or ""),
        CLOSEDLOOP_WAREHOUSE_DB=parts.path.lstrip("/"),
    )


def dbt_duckdb(database: Path, *args: str, target_path: Path) -> subprocess.CompletedProcess:
    """Run the dbt CLI on the profile's `duckdb` target, the DuckDB file ``database``."""
    return run_dbt((*args, "--target", "duckdb"), target_path, CLOSEDLOOP_DUCKDB_PATH=str(database))


def run_dbt(args, target_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
            "--target-path",
            str(target_path),
        ],
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


@contextmanager
def built_warehouse(server_uri: str, connections, target_path: Path) -> Iterator[str]:
    """A new database with the first night loaded and dbt built; dropped afterwards."""
    import uuid

    import psycopg

    name = f"built_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    uri = server_uri.rsplit("/", 1)[0] + f"/{name}"
    try:
        load_night(uri, connections, utc_midnight(WORLD_END))
        result = dbt(uri, "build", target_path=target_path)
        assert result.returncode == 0, result.stdout[-4000:]
        yield uri
    finally:
        with psycopg.connect(server_uri, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def utc_midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def raw_fingerprints(uri: str) -> dict[str, tuple[int, str]]:
    """Rows and a checksum of every raw table (and the rejects), independent of row order."""
    from closedloop.warehouse import RAW_TABLES, connect

    with connect(uri) as conn:
        fingerprints = {
            table: conn.execute(
                "select count(*), md5(coalesce(string_agg(row_text, ',' order by row_text), '')) "
                "from (select concat_ws('|', record_id, partition_date, account_id, payload::text) "
                f"as row_text from raw.{table}) t"
            ).fetchone()
            for table in RAW_TABLES
        }
        fingerprints["rejects"] = conn.execute(
            "select count(*), md5(coalesce(string_agg(row_text, ',' order by row_text), '')) "
            "from (select concat_ws('|', source, entity, reason, payload::text) as row_text "
            "from raw.rejects) t"
        ).fetchone()
    return fingerprints


def table_fingerprints(uri: str, tables: list[str]) -> dict[str, tuple[int, str]]:
    """Rows and a checksum of whole tables (every column), independent of row order."""
    from closedloop.warehouse import connect

    with connect(uri) as conn:
        return {
            table: conn.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, ',' order by t::text), '')) "
                f"from {table} t"
            ).fetchone()
            for table in tables
        }
