"""
### closed_loop_nightly

Each night: extract web analytics (Matomo), ad spend (Google Ads, Meta, LinkedIn) and the CRM
(HubSpot) into `raw`; gate them with Great Expectations; build the dbt project (staging,
intermediate, marts) with cosmos; gate the marts (reconciliation with the sources); score every
open lead; push changed scores to the CRM; record the run in `ops.pipeline_runs`. A failed gate
stops the run: the CRM is never written from data that failed validation. Data Docs:
`CLOSEDLOOP_DATA_DOCS_DIR` (default `.local/data_docs/index.html`).

The first run against an empty warehouse loads `CLOSEDLOOP_HISTORY_DAYS` of history; later runs
load their own data interval (ad platforms re-pull a restatement window, the CRM an overlap).
Each ad platform is read per account (mapped tasks): list several in the connection's extra
(`customer_ids`, `ad_account_ids`) and a new account loads its history on its first night.
Settings: `closedloop.settings`. Connections: `web_matomo`, `ads_google`, `ads_meta`,
`ads_linkedin`, `crm_hubspot`, `warehouse_postgres`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, task

from closedloop import alerts, settings
from closedloop.dbt_group import dbt_build_group

SETTINGS = settings.load()
DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": SETTINGS.task_retries,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "on_failure_callback": alerts.task_failed,
}
# HubSpot's rate limit is per portal: every task writing to it shares this pool's slots.
CRM_WRITE_POOL = "crm_hubspot_writes"


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
    def list_accounts(source: str) -> list[str]:
        from closedloop import nightly

        return nightly.ad_accounts(source)

    @task
    def extract(source: str, account: str | None = None, **context) -> dict:
        from closedloop import nightly

        return nightly.extract(source, context, account)

    @task
    def validate_raw(**context) -> dict:
        from closedloop import nightly

        return nightly.validate_raw(context)

    @task
    def validate_marts(**context) -> dict:
        from closedloop import nightly

        return nightly.validate_marts(context)

    @task
    def score_leads(**context) -> dict:
        from closedloop import nightly

        return nightly.score(context)

    @task(pool=CRM_WRITE_POOL)
    def push_scores(**context) -> dict:
        from closedloop import nightly

        return nightly.push(context)

    @task
    def record_run(
        extracts: list[dict],
        raw_gate: dict,
        marts_gate: dict,
        scores: dict,
        pushed: dict,
        **context,
    ) -> dict:
        from closedloop import nightly

        return nightly.record_run(extracts, raw_gate, marts_gate, scores, pushed, context)

    extracts = []
    for name in settings.SOURCE_NAMES:
        if name in settings.AD_SOURCE_NAMES:
            # One task instance per ad account (mapped), each retried on its own and shown in
            # the UI under its account id.
            accounts = list_accounts.override(task_id=f"list_{name}_accounts")(name)
            extract_accounts = extract.override(
                task_id=f"extract_{name}", map_index_template="{{ ad_account }}"
            )
            extracts.append(extract_accounts.partial(source=name).expand(account=accounts))
        else:
            extracts.append(extract.override(task_id=f"extract_{name}")(source=name))
    raw_gate = validate_raw()
    dbt = dbt_build_group(DEFAULT_ARGS)
    marts_gate = validate_marts()
    scores = score_leads()
    pushed = push_scores()
    # The CRM is written only after both gates passed.
    extracts >> raw_gate >> dbt >> marts_gate >> scores >> pushed
    record_run(extracts, raw_gate, marts_gate, scores, pushed)


closed_loop_nightly()
