"""Data quality gates: raw data before dbt, the marts before the CRM push."""

from __future__ import annotations

from datetime import date

from .checks import Thresholds, mart_checks, raw_checks
from .gate import GateFailed, docs_dir, run_gate

__all__ = ["GateFailed", "docs_dir", "validate_marts", "validate_raw"]


def validate_raw(warehouse_uri: str, night_day: date, run_id: str) -> dict[str, int]:
    """The gate before dbt: every raw table, for the night whose last day is ``night_day``."""
    return run_gate(warehouse_uri, "raw_gate", raw_checks(night_day, Thresholds.from_env()), run_id)


def validate_marts(
    warehouse_uri: str, window_start: date, window_end: date, run_id: str
) -> dict[str, int]:
    """The gate before the CRM push: reconciliations and attribution invariants."""
    checks = mart_checks(window_start, window_end, Thresholds.from_env())
    return run_gate(warehouse_uri, "marts_gate", checks, run_id)
