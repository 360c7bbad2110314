"""
### closed_loop_nightly

Each night: extract web analytics (Matomo), ad spend (Google Ads, Meta, LinkedIn) and the CRM
(HubSpot) into `raw`; gate them with Great Expectations; build the dbt project (staging,
intermediate, marts) with cosmos; score every open lead; push changed scores to the CRM; record
the run in `ops.pipeline_runs`.

The first run against an empty warehouse loads `CLOSEDLOOP_HISTORY_DAYS` of history; later runs
load their own data interval (ad platforms re-pull a restatement window, the CRM an overlap).
Settings: `closedloop.settings`. Connections: `web_matomo`, `ads_google`, `ads_meta`,
`ads_linkedin`, `crm_hubspot`, `warehouse_postgres`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from closedloop import settings
from closedloop.dbt_group import dbt_build_group

SETTINGS = settings.load()
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": SETTINGS.task_retries,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
}


@dag(
    # A data-interval timetable: each run covers one whole night [midnight, midnight).
    schedule=CronDataIntervalTimetable(SETTINGS.schedule, timezone=SETTINGS.timezone),
    start_date=pendulum.datetime(2026, 1, 1, tz=SETTINGS.timezone),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["closedloop", "nightly", "attribution", "reverse-etl"],
    doc_md=__doc__,
)
def closed_loop_nightly():
    @task
    def extract(source: str, **context) -> dict:
        from closedloop import nightly

        return nightly.extract(source, context)

    @task
    def validate_raw() -> dict:
        from closedloop import nightly

        return nightly.validate_raw()

    @task
    def score_leads(**context) -> dict:
        from closedloop import nightly

        return nightly.score(context)

    @task
    def push_scores(**context) -> dict:
        from closedloop import nightly

        return nightly.push(context)

    @task
    def record_run(
        extracts: list[dict], validation: dict, scores: dict, pushed: dict, **context
    ) -> dict:
        from closedloop import nightly

        return nightly.record_run(extracts, validation, scores, pushed, context)

    extracts = [extract.override(task_id=f"extract_{name}")(name) for name in settings.SOURCE_NAMES]
    validation = validate_raw()
    dbt = dbt_build_group(DEFAULT_ARGS)
    scores = score_leads()
    pushed = push_scores()
    extracts >> validation >> dbt >> scores >> pushed
    record_run(extracts, validation, scores, pushed)


closed_loop_nightly()
