"""The dbt project is not tied to PostgreSQL: built on DuckDB (dbt-duckdb, the profile's `duckdb`
target) from the same raw rows, every model and test passes and every mart holds the same rows.

Only the macros in dbt_project/macros/cross_database.sql know either warehouse's dialect, so this
is the proof that another warehouse is an adapter (and those macros) away."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from closedloop.warehouse import RAW_TABLES, connect
from tests.warehouse_helpers import dbt_duckdb

duckdb = pytest.importorskip("duckdb")

MARTS = (
    "closed_loop_attribution",
    "fct_attribution",
    "campaign_performance",
    "funnel_monthly",
    "lead_features",
    "lead_quality_feedback",
)
# A hash of the deal's inputs as the warehouse prints them, only compared with itself to find the
# deals an incremental night must rebuild: each warehouse prints numbers and instants its own way.
WAREHOUSE_SPECIFIC_COLUMNS = {"deal_fingerprint"}
# Quotients rounded to their column's scale. DuckDB divides decimals as doubles, so a quotient
# that is exactly half a unit of the last place (33.05 / 2 = 16.525) may round the other way.
ROUNDED_QUOTIENTS = {
    "cost_per_lead",
    "customer_acquisition_cost",
    "return_on_ad_spend",
    "visitor_to_lead_rate",
    "lead_to_mql_rate",
    "mql_to_sql_rate",
    "sql_to_opportunity_rate",
    "opportunity_to_customer_rate",
    "share_of_segment",
}


@pytest.fixture(scope="module")
def duckdb_built(built, tmp_path_factory) -> Path:
    """A DuckDB file holding PostgreSQL's raw tables, with the whole dbt project built on it."""
    database = tmp_path_factory.mktemp("duckdb") / "closedloop.duckdb"
    copy_raw_tables(built, database)
    result = dbt_duckdb(database, "build", target_path=tmp_path_factory.mktemp("dbt-duckdb"))
    assert result.returncode == 0, result.stdout[-6000:]
    return database


def copy_raw_tables(uri: str, database: Path) -> None:
    import pandas as pd

    with duckdb.connect(str(database)) as target, connect(uri) as source:
        target.execute("create schema raw")
        for table in RAW_TABLES:
            rows = pd.DataFrame(
                source.execute(
                    "select record_id, partition_date, payload::text as payload, account_id "
                    f"from raw.{table}"
                ).fetchall(),
                columns=["record_id", "partition_date", "payload", "account_id"],
            )
            target.register("source_rows", rows)
            target.execute(
                f"create table raw.{table} as select record_id::varchar as record_id, "
                "partition_date::date as partition_date, payload::json as payload, "
                "account_id::varchar as account_id from source_rows"
            )
            target.unregister("source_rows")


def test_the_whole_project_builds_and_tests_on_duckdb(duckdb_built):
    with duckdb.connect(str(duckdb_built), read_only=True) as conn:
        tables = {
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
    assert set(MARTS) <= tables


@pytest.mark.parametrize("mart", MARTS)
def test_each_mart_holds_the_same_rows_on_duckdb_as_on_postgres(mart, built, duckdb_built):
    with connect(built) as conn:
        cursor = conn.execute(f"select * from marts.{mart}")
        postgres_columns = [column.name for column in cursor.description]
        postgres_rows = cursor.fetchall()
    with duckdb.connect(str(duckdb_built), read_only=True) as conn:
        cursor = conn.execute(f"select * from marts.{mart}")
        duckdb_columns = [column[0] for column in cursor.description]
        duckdb_rows = cursor.fetchall()

    assert duckdb_columns == postgres_columns
    assert postgres_rows, f"{mart} is empty: the comparison would prove nothing"
    assert len(duckdb_rows) == len(postgres_rows)
    # Every mart's first column is its unique id; the two warehouses collate text differently.
    by_id = {row[0]: row for row in duckdb_rows}
    for expected in postgres_rows:
        actual = by_id.get(expected[0])
        assert actual is not None, f"{mart}: {expected[0]} is missing on DuckDB"
        for column, want, got in zip(postgres_columns, expected, actual, strict=True):
            if column in WAREHOUSE_SPECIFIC_COLUMNS:
                continue
            if column in ROUNDED_QUOTIENTS and want is not None and got is not None:
                last_place = Decimal(1).scaleb(want.as_tuple().exponent)
                assert abs(want - got) <= last_place, f"{mart}.{column} of {expected[0]}"
                continue
            assert same_value(want, got), f"{mart}.{column} of {expected[0]}: {want!r} != {got!r}"


def same_value(postgres, duck) -> bool:
    """Equal as the warehouse types mean them: numbers to 1e-9 (DuckDB divides decimals as
    doubles), instants whatever the offset they are shown in."""
    if postgres is None or duck is None:
        return postgres is duck
    if isinstance(postgres, Decimal | float) and isinstance(duck, Decimal | float | int):
        return math.isclose(float(postgres), float(duck), rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(postgres, datetime):
        return isinstance(duck, datetime) and postgres == duck
    return postgres == duck


def test_source_freshness_runs_on_both_warehouses(built, duckdb_built, tmp_path):
    from tests.warehouse_helpers import dbt

    for run in (
        dbt(built, "source", "freshness", target_path=tmp_path / "postgres"),
        dbt_duckdb(duckdb_built, "source", "freshness", target_path=tmp_path / "duckdb"),
    ):
        # The simulated company's data ends in mid-2026, so every source may be stale; what
        # matters is that each one's loaded_at_field was evaluated.
        checked = [line for line in run.stdout.splitlines() if " freshness of " in line]
        assert len(checked) == 5 * 2, run.stdout[-3000:]  # a START and a result line each
        assert "Error in" not in run.stdout and "Database Error" not in run.stdout, run.stdout
