"""What the data quality gates expect, table by table, and how much each failure matters.

Every check runs as SQL inside the warehouse (GX's SQL datasource, or a GX UnexpectedRows query);
nothing is pulled into memory. SEVERITY is the one place that says which checks only warn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

Severity = Literal["fail", "warn"]

# Check kinds that only warn (logged and recorded, the run goes on); every other kind fails the
# gate. Override with CLOSEDLOOP_WARN_CHECKS=kind,kind (replaces this set).
DEFAULT_WARN_KINDS = frozenset({"accepted_values", "crm_freshness"})

PARTITIONED = {
    "matomo_visits": ["idVisit", "visitorId"],
    "google_ads_campaign_stats": ["campaign,id", "segments,date"],
    "meta_ads_campaign_insights": ["campaign_id", "date_start"],
    "linkedin_ads_campaign_analytics": ["pivotValues", "dateRange"],
}
SNAPSHOTS = {
    "linkedin_ads_campaigns": ["id"],
    "hubspot_contacts": ["id"],
    "hubspot_companies": ["id"],
    "hubspot_deals": ["id"],
    "hubspot_deal_pipelines": ["id"],
}
AD_SPEND_SQL = {
    "google_ads": (
        "raw.google_ads_campaign_stats",
        "(payload->'metrics'->>'costMicros')::numeric / 1000000",
    ),
    "meta_ads": ("raw.meta_ads_campaign_insights", "(payload->>'spend')::numeric"),
    "linkedin_ads": (
        "raw.linkedin_ads_campaign_analytics",
        "(payload->>'costInLocalCurrency')::numeric",
    ),
}
WON_STAGES_SQL = """
    select p.record_id as pipeline_id, s->>'id' as stage_id
    from raw.hubspot_deal_pipelines p cross join lateral jsonb_array_elements(p.payload->'stages') s
    where s->'metadata'->>'isClosed' = 'true' and (s->'metadata'->>'probability')::numeric = 1
"""


@dataclass(frozen=True)
class Thresholds:
    # CLOSEDLOOP_VOLUME_MIN_RATIO: a night below this share of the trailing average fails.
    volume_min_ratio: float
    # CLOSEDLOOP_VOLUME_MIN_AVERAGE: below this trailing average there is too little to judge.
    volume_min_average: float
    # CLOSEDLOOP_FRESHNESS_LAG_DAYS: the newest partition may be this much older than the night.
    freshness_lag_days: int
    # CLOSEDLOOP_CRM_FRESHNESS_DAYS: the newest CRM change may be this old.
    crm_freshness_days: int
    # CLOSEDLOOP_WARN_CHECKS: check kinds that warn instead of failing.
    warn_kinds: frozenset[str]

    @classmethod
    def from_env(cls) -> Thresholds:
        warn = os.environ.get("CLOSEDLOOP_WARN_CHECKS")
        return cls(
            volume_min_ratio=float(os.environ.get("CLOSEDLOOP_VOLUME_MIN_RATIO", "0.3")),
            volume_min_average=float(os.environ.get("CLOSEDLOOP_VOLUME_MIN_AVERAGE", "5")),
            freshness_lag_days=int(os.environ.get("CLOSEDLOOP_FRESHNESS_LAG_DAYS", "1")),
            crm_freshness_days=int(os.environ.get("CLOSEDLOOP_CRM_FRESHNESS_DAYS", "7")),
            warn_kinds=frozenset(filter(None, warn.split(",")))
            if warn is not None
            else DEFAULT_WARN_KINDS,
        )


@dataclass(frozen=True)
class Check:
    """One expectation on one table: `build(gx)` returns the GX expectation."""

    schema: str
    table: str
    kind: str
    description: str
    build: Callable[[Any], Any]
    # For SQL checks: the query over {batch} whose rows are the bad ones (shown as samples).
    unexpected_rows_query: str | None = None
    severity: Severity = "fail"


def _sql_check(schema: str, table: str, kind: str, description: str, query: str) -> Check:
    def build(gx):
        return gx.expectations.UnexpectedRowsExpectation(
            unexpected_rows_query=query, description=description
        )

    return Check(schema, table, kind, description, build, unexpected_rows_query=query)


def _column_checks(schema: str, table: str) -> list[Check]:
    return [
        Check(
            schema,
            table,
            "schema",
            "columns are record_id, partition_date, payload, account_id",
            lambda gx: gx.expectations.ExpectTableColumnsToMatchSet(
                column_set=["record_id", "partition_date", "payload", "account_id"],
                exact_match=True,
            ),
        ),
        Check(
            schema,
            table,
            "rows",
            "the table is not empty",
            lambda gx: gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        ),
        Check(
            schema,
            table,
            "not_null",
            "record_id is never null",
            lambda gx: gx.expectations.ExpectColumnValuesToNotBeNull(column="record_id"),
        ),
        Check(
            schema,
            table,
            "unique",
            "record_id is unique",
            lambda gx: gx.expectations.ExpectColumnValuesToBeUnique(column="record_id"),
        ),
    ]


def _key_check(table: str, keys: list[str]) -> Check:
    def path(key: str) -> str:
        return "array[" + ", ".join(f"'{part}'" for part in key.split(",")) + "]"

    missing = " or ".join(f"payload #>> {path(key)} is null" for key in keys)
    names = ", ".join(key.replace(",", ".") for key in keys)
    return _sql_check(
        "raw",
        table,
        "not_null",
        f"the record's keys ({names}) are present",
        f"select record_id, payload from {{batch}} where {missing}",
    )


def raw_checks(night_day: date, thresholds: Thresholds) -> list[Check]:
    """Expectations over every raw table for the night whose (last) day is ``night_day``."""
    checks: list[Check] = []
    for table, keys in {**PARTITIONED, **SNAPSHOTS}.items():
        checks += _column_checks("raw", table)
        checks.append(_key_check(table, keys))
    for table in PARTITIONED:
        checks.append(
            _sql_check(
                "raw",
                table,
                "volume",
                f"the night's rows are at least {thresholds.volume_min_ratio:.0%} of the trailing "
                "7-day average",
                f"""with daily as (
                    select partition_date as day, count(*) as n from {{batch}}
                    where partition_date between date '{night_day}' - 7 and date '{night_day}'
                    group by 1),
                history as (select avg(n) as average, count(*) as days from daily
                             where day < date '{night_day}'),
                night as (select coalesce(sum(n), 0) as n from daily where day = date '{night_day}')
                select date '{night_day}' as day, night.n as rows, round(history.average, 1)
                    as trailing_average
                from night cross join history
                where history.days >= 3 and history.average >= {thresholds.volume_min_average}
                    and night.n < {thresholds.volume_min_ratio} * history.average""",
            )
        )
        stale_before = night_day - timedelta(days=thresholds.freshness_lag_days)
        checks.append(
            _sql_check(
                "raw",
                table,
                "freshness",
                f"the newest day is {stale_before} or later",
                f"""select max(partition_date) as newest_day from {{batch}}
                having max(partition_date) is null
                    or max(partition_date) < date '{stale_before}'""",
            )
        )
    crm_stale_before = night_day - timedelta(days=thresholds.crm_freshness_days)
    checks.append(
        _sql_check(
            "raw",
            "hubspot_contacts",
            "crm_freshness",
            f"some contact changed since {crm_stale_before}",
            f"""select max((payload->>'updatedAt')::timestamptz) as newest_change from {{batch}}
            having max((payload->>'updatedAt')::timestamptz) < date '{crm_stale_before}'""",
        )
    )
    checks.append(
        _sql_check(
            "raw",
            "matomo_visits",
            "accepted_values",
            "referrerType is direct, search, website, campaign or social",
            """select record_id, payload->>'referrerType' as referrer_type from {batch}
           where payload->>'referrerType' not in ('direct', 'search', 'website', 'campaign',
                                                   'social')""",
        )
    )
    checks.append(
        _sql_check(
            "raw",
            "hubspot_deals",
            "accepted_values",
            "every deal is in a stage of its pipeline",
            """select record_id, payload->'properties'->>'dealstage' as stage from {batch} d
           where not exists (
               select 1 from raw.hubspot_deal_pipelines p
               cross join lateral jsonb_array_elements(p.payload->'stages') s
               where p.record_id = d.payload->'properties'->>'pipeline'
                 and s->>'id' = d.payload->'properties'->>'dealstage')""",
        )
    )
    checks.append(
        _sql_check(
            "raw",
            "hubspot_deals",
            "valid_amount",
            "deal amounts are not negative",
            """select record_id, payload->'properties'->>'amount' as amount from {batch}
           where (payload->'properties'->>'amount')::numeric < 0""",
        )
    )
    return [_with_severity(check, thresholds) for check in checks]


def mart_checks(window_start: date, window_end: date, thresholds: Thresholds) -> list[Check]:
    """Reconciliations of the marts with the systems they come from, and attribution invariants.

    Args:
        window_start: first day of the spend window to reconcile.
        window_end: day after its last day.
    """
    raw_spend = " union all ".join(
        f"select '{platform}' as platform, sum({amount}) as spend from {table} "
        f"where partition_date >= date '{window_start}' and partition_date < date '{window_end}'"
        for platform, (table, amount) in AD_SPEND_SQL.items()
    )
    checks = [
        _sql_check(
            "marts",
            "campaign_performance",
            "reconciliation",
            f"ad spend per platform from {window_start} to {window_end} equals the ad APIs'",
            f"""with mart as (
                    select platform, sum(spend) as spend from {{batch}}
                    where stat_date >= date '{window_start}' and stat_date < date '{window_end}'
                    group by 1),
                apis as ({raw_spend})
                select apis.platform, apis.spend as api_spend, mart.spend as mart_spend
                from apis full join mart on apis.platform = mart.platform
                where round(coalesce(apis.spend, 0), 2) <> coalesce(mart.spend, 0)""",
        ),
        _sql_check(
            "marts",
            "closed_loop_attribution",
            "reconciliation",
            "closed-won revenue in the mart equals the CRM's (deleted deals aside)",
            f"""with crm as (
                    select coalesce(sum((d.payload->'properties'->>'amount')::numeric), 0)
                        as revenue
                    from raw.hubspot_deals d
                    join ({WON_STAGES_SQL}) won
                      on won.pipeline_id = d.payload->'properties'->>'pipeline'
                     and won.stage_id = d.payload->'properties'->>'dealstage'
                    -- deals deleted in the CRM count nowhere
                    where not coalesce((d.payload->>'archived')::boolean, false)),
                mart as (select coalesce(sum(revenue), 0) as revenue from {{batch}})
                select crm.revenue as crm_revenue, mart.revenue as mart_revenue
                from crm cross join mart where crm.revenue <> mart.revenue""",
        ),
        _sql_check(
            "marts",
            "fct_attribution",
            "attribution_credits",
            "credits sum to 1 per deal and attribution model",
            """select deal_id, attribution_model, sum(credit) as credits from {batch}
               group by 1, 2 having abs(sum(credit) - 1) > 0.000000001""",
        ),
    ]
    return [_with_severity(check, thresholds) for check in checks]


def _with_severity(check: Check, thresholds: Thresholds) -> Check:
    from dataclasses import replace

    return replace(check, severity="warn" if check.kind in thresholds.warn_kinds else "fail")
