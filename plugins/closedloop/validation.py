"""The gate between extraction and dbt: a Great Expectations checkpoint over the raw tables.

Expectations run as SQL inside PostgreSQL (GX's SQL datasource); nothing is pulled into memory.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from .warehouse import RAW_TABLES

log = logging.getLogger(__name__)


class ValidationFailed(RuntimeError):
    """Raw data broke an expectation; the message lists each failure by table."""


@dataclass(frozen=True)
class Failure:
    table: str
    expectation: str
    column: str | None
    observed: object

    def __str__(self) -> str:
        column = f" on column {self.column}" if self.column else ""
        return f"raw.{self.table}: {self.expectation}{column} failed (observed: {self.observed})"


def _suite(gx, table: str):
    suite = gx.ExpectationSuite(name=f"raw_{table}")
    suite.add_expectation(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
    for column in ("record_id", "payload"):
        suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
    suite.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column="record_id"))
    return suite


def validate_raw(warehouse_uri: str) -> dict[str, int]:
    """Run the raw checkpoint; raise ValidationFailed naming every failed expectation.

    Args:
        warehouse_uri: libpq URI of the warehouse.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres(
        "warehouse",
        connection_string=warehouse_uri.replace("postgresql://", "postgresql+psycopg2://"),
    )
    definitions = []
    for table in RAW_TABLES:
        asset = source.add_table_asset(name=table, table_name=table, schema_name="raw")
        batch = asset.add_batch_definition_whole_table(f"{table}_all")
        suite = context.suites.add(_suite(gx, table))
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=f"raw_{table}", data=batch, suite=suite)
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="raw_gate", validation_definitions=definitions)
    )
    result = checkpoint.run()
    failures: list[Failure] = []
    checked = 0
    for run in result.run_results.values():
        table = run.suite_name.removeprefix("raw_")
        for outcome in run.results:
            checked += 1
            if not outcome.success:
                config = outcome.expectation_config
                failures.append(
                    Failure(
                        table,
                        config.type,
                        config.kwargs.get("column"),
                        outcome.result.get(
                            "observed_value", outcome.result.get("unexpected_count")
                        ),
                    )
                )
    if failures:
        raise ValidationFailed(
            "raw data failed validation; dbt will not run:\n"
            + "\n".join(f"  - {f}" for f in failures)
        )
    log.info("raw gate passed: %d expectations over %d tables", checked, len(RAW_TABLES))
    return {"expectations": checked, "failed": 0}
