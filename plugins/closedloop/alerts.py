"""Alerts: a Slack-compatible webhook (the Airflow connection ``alerts_webhook``) and the log.

Sent on a task's failure (``on_failure_callback``) and when the scores reach the CRM after the
morning deadline (checked by the push task as it finishes). Without an ``alerts_webhook``
connection, alerts only go to the log.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

ALERTS_CONN_ID = "alerts_webhook"


def _webhook_url() -> str | None:
    """The webhook's URL: the connection's host (a full URL), with its password appended as the
    path's secret part when the URL is kept apart from the secret (Slack: /services/T/B/secret)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.sdk import BaseHook

    from .connections import base_url_of

    try:
        conn = BaseHook.get_connection(ALERTS_CONN_ID)
    except AirflowNotFoundException:
        return None
    url = base_url_of(conn, "")
    return f"{url}/{conn.password}" if conn.password else url


def send(title: str, fields: dict[str, Any], link: str | None = None) -> bool:
    """Post an alert; True when the webhook accepted it. Never raises: an alert that cannot be
    delivered must not hide the failure it reports."""
    import requests

    lines = [f"*{name}*: {value}" for name, value in fields.items()]
    if link:
        lines.append(f"<{link}|log>")
    text = f":rotating_light: {title}\n" + "\n".join(lines)
    log.warning("ALERT %s %s", title, fields)
    try:
        url = _webhook_url()
    except Exception:  # noqa: BLE001 - a broken connection must not mask the alert
        log.exception("the %s connection cannot be read", ALERTS_CONN_ID)
        return False
    if url is None:
        return False
    payload = {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        ],
    }
    try:
        response = requests.post(url, json=payload, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        # Only the kind of failure: requests' messages carry the URL, and the webhook's URL is
        # its secret.
        status = getattr(exc.response, "status_code", None)
        log.error(
            "the alert could not be delivered to the %s connection (%s%s)",
            ALERTS_CONN_ID,
            type(exc).__name__,
            f", HTTP {status}" if status else "",
        )
        return False
    return True


def _night(context: dict[str, Any]) -> str:
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    return f"{start} to {end}" if start and end else str(context.get("logical_date"))


def task_failed(context: dict[str, Any]) -> None:
    """``on_failure_callback``: DAG, task, night, error and the log's address."""
    ti = context.get("task_instance") or context.get("ti")
    send(
        f"{ti.dag_id}.{ti.task_id} failed",
        {
            "DAG": ti.dag_id,
            "task": ti.task_id,
            "night": _night(context),
            "try": getattr(ti, "try_number", "?"),
            "error": str(context.get("exception") or "see the log")[:1500],
        },
        getattr(ti, "log_url", None),
    )


def score_deadline(night_end: datetime, deadline: str, timezone: str) -> datetime:
    """When the night's scores are due: ``deadline`` (HH:MM) local time on the morning the night
    ends."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(part) for part in deadline.split(":"))
    return datetime.combine(night_end.astimezone(zone).date(), time(hour, minute), zone)


def check_score_deadline(
    dag_id: str, night_start: datetime, night_end: datetime, finished_at: datetime, settings
) -> bool:
    """Alert when the scores reached the CRM after the deadline; True when late."""
    due = score_deadline(night_end, settings.score_deadline, settings.timezone)
    if finished_at <= due:
        return False
    send(
        f"{dag_id}: lead scores reached the CRM after the {settings.score_deadline} deadline",
        {
            "DAG": dag_id,
            "task": "push_scores",
            "night": f"{night_start} to {night_end}",
            "due": due.isoformat(),
            "finished": finished_at.isoformat(),
            "late by": str(finished_at - due).split(".")[0],
        },
    )
    return True
