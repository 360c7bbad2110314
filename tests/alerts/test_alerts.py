"""Alerts reach a Slack-compatible webhook with what an on-call engineer needs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from closedloop import alerts, settings

NIGHT_START = datetime(2026, 6, 29, 22, tzinfo=UTC)  # midnight to midnight in Berlin (CEST)
NIGHT_END = datetime(2026, 6, 30, 22, tzinfo=UTC)


@pytest.fixture
def configured(monkeypatch, webhook):
    url, received = webhook
    received.clear()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_WEBHOOK", json.dumps({"conn_type": "http", "host": url})
    )
    monkeypatch.setenv("CLOSEDLOOP_TIMEZONE", "Europe/Berlin")
    return received


def test_the_deadline_is_seven_in_the_morning_local_time_after_the_night():
    due = alerts.score_deadline(NIGHT_END, "07:00", "Europe/Berlin")
    assert due == datetime(2026, 7, 1, 5, tzinfo=UTC)  # 07:00 CEST


def test_scores_pushed_in_time_raise_no_alert(configured):
    on_time = datetime(2026, 7, 1, 4, 59, tzinfo=UTC)
    late = alerts.check_score_deadline("d", NIGHT_START, NIGHT_END, on_time, settings.load())
    assert late is False and configured == []


def test_a_late_push_alerts_with_the_night_and_how_late(configured):
    finished = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 08:30 in Berlin
    assert alerts.check_score_deadline("d", NIGHT_START, NIGHT_END, finished, settings.load())
    (payload,) = configured
    assert "after the 07:00 deadline" in payload["text"]
    assert "late by*: 1:30:00" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"


def test_without_a_webhook_an_alert_goes_to_the_log_only(monkeypatch, caplog):
    monkeypatch.delenv("AIRFLOW_CONN_ALERTS_WEBHOOK", raising=False)
    assert alerts.send("something broke", {"task": "x"}) is False
    assert "ALERT something broke" in caplog.text


def test_an_undeliverable_alert_is_logged_without_the_webhook_secret(monkeypatch, caplog):
    secret = "T0001/B0001/very-secret-part"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ALERTS_WEBHOOK",
        json.dumps(
            {"conn_type": "http", "host": "http://127.0.0.1:9/services", "password": secret}
        ),
    )
    assert alerts.send("something broke", {"task": "x"}) is False
    assert "could not be delivered" in caplog.text
    assert secret not in caplog.text


def test_only_backfilled_runs_are_exempt_from_the_deadline():
    from types import SimpleNamespace

    from airflow.utils.types import DagRunType

    from closedloop.nightly import is_backfill

    def context(run_type):
        return {"dag_run": SimpleNamespace(run_type=run_type)}

    assert is_backfill(context(DagRunType.BACKFILL_JOB))
    assert not is_backfill(context(DagRunType.SCHEDULED))
    assert not is_backfill(context(DagRunType.MANUAL))
