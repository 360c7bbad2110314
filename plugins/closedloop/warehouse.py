"""The warehouse's fixed tables: raw landing tables and the ops schema's run bookkeeping."""

from __future__ import annotations

import psycopg

# Every raw table has the same shape: the API's record kept whole as JSON (so fields the code
# does not know yet are never lost), its id, the day partition it belongs to (if any), and the
# ad account it was read from (ad platforms only: each account is loaded on its own).
RAW_TABLES = (
    "matomo_visits",
    "google_ads_campaign_stats",
    "meta_ads_campaign_insights",
    "linkedin_ads_campaign_analytics",
    "linkedin_ads_campaigns",
    "hubspot_contacts",
    "hubspot_companies",
    "hubspot_deals",
    "hubspot_deal_pipelines",
)

DDL = [
    "create schema if not exists raw",
    "create schema if not exists ops",
    *(
        f"""create table if not exists raw.{table} (
               record_id text not null,
               partition_date date,
               payload jsonb not null
           )"""
        for table in RAW_TABLES
    ),
    *(
        f"create index if not exists {table}_partition_idx on raw.{table} (partition_date)"
        for table in RAW_TABLES
    ),
    *(f"alter table raw.{table} add column if not exists account_id text" for table in RAW_TABLES),
    """create table if not exists raw.rejects (
           source text not null,
           entity text not null,
           window_start date not null,
           window_end date not null,
           reason text not null,
           payload jsonb not null
       )""",
    """create table if not exists ops.extract_runs (
           run_id text not null,
           source text not null,
           window_start date not null,
           window_end date not null,
           fetched integer not null,
           loaded integer not null,
           rejected integer not null,
           duplicates integer not null,
           duration_seconds double precision not null,
           finished_at timestamptz not null default now()
       )""",
    # The end of the time a run covered: the next incremental read starts from the latest.
    "alter table ops.extract_runs add column if not exists watermark timestamptz",
    # Ad platforms: one row per account, each with its own watermark (a new account starts
    # with the full history).
    "alter table ops.extract_runs add column if not exists account_id text",
    "alter table raw.rejects add column if not exists account_id text",
    """create table if not exists ops.lead_scores (
           contact_id text primary key,
           score integer not null check (score between 0 and 100),
           tier text,
           reasons text,
           scored_at timestamptz not null,
           run_id text not null
       )""",
    """create table if not exists ops.score_model_runs (
           run_id text not null,
           training_rows integer not null,
           holdout_auc double precision,
           calibration_error double precision,
           accepted boolean not null,
           decision text not null,
           model bytea,
           trained_at timestamptz not null default now()
       )""",
    """create table if not exists ops.crm_sync_state (
           contact_id text primary key,
           score integer not null,
           tier text,
           reasons text,
           acknowledged_at timestamptz not null,
           run_id text not null
       )""",
    """create table if not exists ops.crm_sync_runs (
           run_id text not null,
           dry_run boolean not null,
           changed integer not null,
           sent integer not null,
           succeeded integer not null,
           failed integer not null,
           unchanged integer not null,
           duration_seconds double precision not null,
           finished_at timestamptz not null default now()
       )""",
    """create table if not exists ops.crm_sync_log (
           run_id text not null,
           contact_id text not null,
           old_score integer,
           new_score integer not null,
           status text not null,
           error text,
           logged_at timestamptz not null default now()
       )""",
    """create table if not exists ops.validation_results (
           run_id text not null,
           gate text not null,
           table_name text not null,
           check_kind text not null,
           expectation text not null,
           severity text not null,
           success boolean not null,
           observed_value jsonb,
           sample_rows jsonb,
           validated_at timestamptz not null default now()
       )""",
    """create table if not exists ops.pipeline_runs (
           run_id text primary key,
           night_start timestamptz not null,
           night_end timestamptz not null,
           summary jsonb not null,
           recorded_at timestamptz not null default now()
       )""",
]


def ensure_tables(conn: psycopg.Connection) -> None:
    """Create the raw and ops tables if missing (safe to run every night)."""
    with conn.transaction():
        # Serialise concurrent first runs: parallel extract tasks all call this.
        conn.execute("select pg_advisory_xact_lock(hashtext('closedloop.ensure_tables'))")
        for statement in DDL:
            conn.execute(statement)


def connect(uri: str) -> psycopg.Connection:
    return psycopg.connect(uri, autocommit=True, application_name="closedloop")
