"""What each task of ``closed_loop_nightly`` does, given its Airflow context.

The DAG file stays thin; everything that does I/O lives here and is imported inside the tasks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from . import settings as settings_module
from .alerts import check_score_deadline
from .connections import api_connection, warehouse_uri
from .extract import SOURCES, Night, extract_source, source_accounts
from .warehouse import connect, ensure_tables

log = logging.getLogger(__name__)
T = TypeVar("T")


def night_from_context(context: dict[str, Any]) -> Night:
    """The run's data interval, in the configured timezone so that its dates are local days."""
    import pendulum

    tz = pendulum.timezone(settings_module.load().timezone)
    start = context["data_interval_start"].in_timezone(tz)
    end = context["data_interval_end"].in_timezone(tz)
    if end <= start:
        raise ValueError(
            f"run {context['run_id']} has an empty data interval ({start} to {end}); "
            "closed_loop_nightly needs a data-interval timetable"
        )
    return Night(start=start, end=end, run_id=context["run_id"])


def ad_accounts(source: str) -> list[str]:
    """The accounts the source's connection lists (each gets its own extract task)."""
    spec = SOURCES[source]
    accounts = source_accounts(source, api_connection(spec.conn_id, spec.default_base_url))
    log.info("%s: %d account(s): %s", source, len(accounts), ", ".join(map(str, accounts)))
    return accounts


def extract(source: str, context: dict[str, Any], account: str | None = None) -> dict[str, Any]:
    """Extract one source (or one of its ad accounts) for the run's night."""
    if account:
        from airflow.sdk import get_current_context

        get_current_context()["ad_account"] = account  # the mapped instance's name in the UI
    accounts = [account] if account else None
    night = night_from_context(context)
    return {
        "source": source,
        "account": account,
        **_without_retries(
            lambda: extract_source(source, night, warehouse_uri(), accounts=accounts)
        ),
    }


def _per_source(extracts: list) -> dict[str, dict[str, float]]:
    """Loaded and rejected rows and seconds per source, summed over its accounts' mapped
    tasks (whose results arrive as one sequence per source)."""
    totals: dict[str, dict[str, float]] = {}
    for item in extracts:
        for result in [item] if isinstance(item, dict) else item:
            source = totals.setdefault(
                result["source"], {"loaded": 0, "rejected": 0, "seconds": 0.0}
            )
            for key in source:
                source[key] += result[key]
    return totals


def _without_retries(call: Callable[[], T]) -> T:
    """Run a task's work; what a retry cannot fix (data that failed a gate, credentials the API
    refused) fails the task at once, so the alert goes out now rather than after the retries.
    Other errors, such as a lost connection, keep the task's retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from .http_client import AuthenticationError
    from .quality import GateFailed

    try:
        return call()
    except (GateFailed, AuthenticationError) as failure:
        raise AirflowFailException(str(failure)) from failure


def validate_raw(context: dict[str, Any]) -> dict[str, Any]:
    from datetime import timedelta

    from .quality import validate_raw as raw_gate

    night = night_from_context(context)
    started = time.monotonic()
    result = _without_retries(
        lambda: raw_gate(warehouse_uri(), night.end.date() - timedelta(days=1), night.run_id)
    )
    return {
        **result,
        "seconds": round(time.monotonic() - started, 2),
        "finished_at": datetime.now().astimezone().isoformat(),
    }


def validate_marts(context: dict[str, Any]) -> dict[str, Any]:
    from .quality import validate_marts as marts_gate

    night = night_from_context(context)
    window = night.day_window(settings_module.load().ads_restatement_days)
    started = time.monotonic()
    started_at = datetime.now().astimezone().isoformat()
    result = _without_retries(
        lambda: marts_gate(warehouse_uri(), window.start, window.end, night.run_id)
    )
    return {**result, "seconds": round(time.monotonic() - started, 2), "started_at": started_at}


def score(context: dict[str, Any]) -> dict[str, Any]:
    from .scoring import score_open_leads

    night = night_from_context(context)
    started = time.monotonic()
    with connect(warehouse_uri()) as conn:
        ensure_tables(conn)
        stats = score_open_leads(conn, night.run_id, scored_at=night.end)
    return {
        **asdict(stats),
        "seconds": round(time.monotonic() - started, 2),
        "started_at": datetime.now().astimezone().isoformat(),
    }


def push(context: dict[str, Any]) -> dict[str, Any]:
    from .reverse_etl import push_scores
    from .sources.hubspot import CONN_ID, DEFAULT_BASE_URL, HubSpotClient

    settings = settings_module.load()
    started = time.monotonic()
    client = (
        None if settings.crm_dry_run else HubSpotClient(api_connection(CONN_ID, DEFAULT_BASE_URL))
    )

    def push_all():
        with connect(warehouse_uri()) as conn:
            return push_scores(
                conn,
                client,
                context["run_id"],
                settings.crm_batch_size,
                dry_run=settings.crm_dry_run,
            )

    stats = _without_retries(push_all)
    night = night_from_context(context)
    late = False
    if not is_backfill(context):  # a backfilled night is late by design: no alert
        late = check_score_deadline(
            context["dag"].dag_id, night.start, night.end, datetime.now(UTC), settings
        )
    return {**asdict(stats), "seconds": round(time.monotonic() - started, 2), "late": late}


def is_backfill(context: dict[str, Any]) -> bool:
    """Whether the run was created by a backfill (`make backfill`, `airflow backfill create`)."""
    return "backfill" in str(getattr(context.get("dag_run"), "run_type", "")).lower()


def record_run(
    extracts: list[dict[str, Any]],
    raw_gate: dict[str, Any],
    marts_gate: dict[str, Any],
    scores: dict[str, Any],
    pushed: dict[str, Any],
    context: dict[str, Any],
) -> dict[str, Any]:
    """Write the night's summary to ops.pipeline_runs and the task log."""
    import json

    night = night_from_context(context)
    with connect(warehouse_uri()) as conn:
        mart_rows = conn.execute("select count(*) from marts.closed_loop_attribution").fetchone()[0]
        dbt_seconds = (
            datetime.fromisoformat(marts_gate["started_at"])
            - datetime.fromisoformat(raw_gate["finished_at"])
        ).total_seconds()
        per_source = _per_source(extracts)
        summary = {
            "rows_per_source": {name: s["loaded"] for name, s in per_source.items()},
            "rejects_per_source": {name: s["rejected"] for name, s in per_source.items()},
            "mart_rows": {"closed_loop_attribution": mart_rows},
            "leads_scored": scores["scored"],
            "score_model": {
                "decision": scores["decision"],
                "holdout_auc": scores["holdout_auc"],
                "calibration_error": scores["calibration_error"],
                "training_rows": scores["training_rows"],
            },
            "scores_pushed": pushed["succeeded"],
            "scores_failed": pushed["failed"],
            "validation_warnings": raw_gate["warned"] + marts_gate["warned"],
            "seconds": {
                "extract": {name: round(s["seconds"], 2) for name, s in per_source.items()},
                "raw_gate": raw_gate["seconds"],
                "marts_gate": marts_gate["seconds"],
                "dbt": round(dbt_seconds, 2),
                "score": scores["seconds"],
                "push": pushed["seconds"],
            },
        }
        conn.execute(
            """insert into ops.pipeline_runs (run_id, night_start, night_end, summary)
               values (%s, %s, %s, %s)
               on conflict (run_id) do update set summary = excluded.summary,
                   recorded_at = now()""",
            (night.run_id, night.start, night.end, json.dumps(summary)),
        )
    log.info("night %s to %s: %s", night.start, night.end, json.dumps(summary, indent=2))
    return summary
