"""Helpers for tests that need a warehouse loaded from the simulator and built by dbt."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from closedloop.extract import SOURCES, Night, extract_source

REPO = Path(__file__).resolve().parents[1]


def load_night(uri: str, connections, night_end: datetime, run_id: str = "test") -> dict:
    """Extract every source for the night ending at ``night_end`` into raw."""
    from datetime import timedelta

    night = Night(night_end - timedelta(days=1), night_end, run_id)
    return {s: extract_source(s, night, uri, connections[s]) for s in SOURCES}


def dbt(uri: str, *args: str, target_path: Path) -> subprocess.CompletedProcess:
    """Run the dbt CLI of this environment against the database at ``uri``."""
    parts = urlsplit(uri)
    env = {
        **os.environ,
        "CLOSEDLOOP_WAREHOUSE_HOST": parts.hostname or "127.0.0.1",
        "CLOSEDLOOP_WAREHOUSE_PORT": str(parts.port or 5432),
        "CLOSEDLOOP_WAREHOUSE_USER": parts.username or "postgres",
        "CLOSEDLOOP_WAREHOUSE_PASSWORD": _unquote(parts.password or ""),
        "CLOSEDLOOP_WAREHOUSE_DB": parts.path.lstrip("/"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
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
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def utc_midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
