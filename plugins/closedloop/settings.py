"""Every tunable of the pipeline in one place, read from the environment with documented defaults.

Nothing here does I/O beyond reading environment variables, so DAG files may import it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# The sources a night extracts, one Airflow task each (see closedloop.extract.SOURCES).
SOURCE_NAMES = ("matomo", "google_ads", "meta_ads", "linkedin_ads", "hubspot")
# Sources read per ad account: one mapped extract task per account their connection lists.
AD_SOURCE_NAMES = ("google_ads", "meta_ads", "linkedin_ads")


def _number(name: str, default, kind: type = int):
    """The environment variable as an int or float, or the default when it is unset or empty."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"environment variable {name} must be {what}, got {raw!r}") from exc


def _int(name: str, default: int) -> int:
    return _number(name, default, int)


def _float(name: str, default: float) -> float:
    return _number(name, default, float)


def _clock(name: str, default: str) -> str:
    raw = os.environ.get(name) or default
    hour, _, minute = raw.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ValueError(f"environment variable {name} must be a time as HH:MM, got {raw!r}")
    return f"{int(hour):02d}:{int(minute):02d}"


@dataclass(frozen=True)
class Settings:
    timezone: str  # CLOSEDLOOP_TIMEZONE: the nights' boundaries and the schedule's zone
    schedule: str  # CLOSEDLOOP_SCHEDULE: cron for when a night is processed (after it ends)
    history_days: int  # CLOSEDLOOP_HISTORY_DAYS: loaded by the first run into an empty warehouse
    crm_overlap_hours: int  # CLOSEDLOOP_CRM_OVERLAP_HOURS: re-read of CRM changes before the night
    ads_restatement_days: int  # CLOSEDLOOP_ADS_RESTATEMENT_DAYS: ad spend re-pulled each night
    crm_batch_size: int  # CLOSEDLOOP_CRM_BATCH_SIZE: records per CRM batch update (max 100)
    task_retries: int  # CLOSEDLOOP_TASK_RETRIES
    crm_dry_run: bool  # CLOSEDLOOP_CRM_DRY_RUN: compute and log the CRM diff, write nothing
    # CLOSEDLOOP_MAX_REJECT_SHARE: a source's extraction fails when more of its records than
    # this share are rejected (they are kept in raw.rejects either way).
    max_reject_share: float
    # CLOSEDLOOP_SCORE_DEADLINE: local time (HH:MM, CLOSEDLOOP_TIMEZONE) by which the night's
    # scores must be in the CRM; a run finishing its push later alerts
    score_deadline: str
    # CLOSEDLOOP_HTTP_BACKOFF_SECONDS: first retry's wait (doubling, jittered, at most 30 s)
    http_backoff_seconds: float
    # CLOSEDLOOP_HTTP_READ_TIMEOUT_SECONDS: an API answer slower than this is retried
    http_read_timeout_seconds: float


def load() -> Settings:
    batch = _int("CLOSEDLOOP_CRM_BATCH_SIZE", 100)
    if not 1 <= batch <= 100:
        raise ValueError(
            "CLOSEDLOOP_CRM_BATCH_SIZE must be between 1 and 100 (HubSpot's batch limit)"
        )
    return Settings(
        timezone=os.environ.get("CLOSEDLOOP_TIMEZONE", "UTC"),
        schedule=os.environ.get("CLOSEDLOOP_SCHEDULE", "0 0 * * *"),
        history_days=_int("CLOSEDLOOP_HISTORY_DAYS", 400),
        crm_overlap_hours=_int("CLOSEDLOOP_CRM_OVERLAP_HOURS", 6),
        ads_restatement_days=_int("CLOSEDLOOP_ADS_RESTATEMENT_DAYS", 7),
        crm_batch_size=batch,
        task_retries=_int("CLOSEDLOOP_TASK_RETRIES", 2),
        crm_dry_run=os.environ.get("CLOSEDLOOP_CRM_DRY_RUN", "false").lower()
        in ("1", "true", "yes"),
        max_reject_share=_float("CLOSEDLOOP_MAX_REJECT_SHARE", 0.05),
        score_deadline=_clock("CLOSEDLOOP_SCORE_DEADLINE", "07:00"),
        http_backoff_seconds=_float("CLOSEDLOOP_HTTP_BACKOFF_SECONDS", 0.5),
        http_read_timeout_seconds=_float("CLOSEDLOOP_HTTP_READ_TIMEOUT_SECONDS", 120.0),
    )
