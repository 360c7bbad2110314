"""Running a data quality gate: one GX checkpoint, its results recorded and published.

A gate validates its checks inside PostgreSQL, records every result in ops.validation_results,
builds Data Docs into the docs folder, logs warnings, and raises GateFailed naming each failed
check with its table and sample bad rows, so nothing downstream runs on bad data.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..warehouse import connect, ensure_tables
from .checks import Check

log = logging.getLogger(__name__)
SAMPLE_ROWS = 5


class GateFailed(RuntimeError):
    """Data broke a failing expectation; the message lists each failure with sample rows."""


@dataclass(frozen=True)
class Outcome:
    check: Check
    success: bool
    observed: Any
    samples: list[dict[str, Any]]

    def describe(self) -> str:
        lines = [
            f"{self.check.schema}.{self.check.table}: [{self.check.kind}] "
            f"{self.check.description} -- failed (observed: {self.observed})"
        ]
        lines += [f"      bad row: {json.dumps(row, default=str)[:300]}" for row in self.samples]
        return "\n".join(lines)


def docs_dir() -> Path:
    """Where Data Docs are built (CLOSEDLOOP_DATA_DOCS_DIR, default .local/data_docs)."""
    default = Path(__file__).resolve().parents[3] / ".local" / "data_docs"
    return Path(os.environ.get("CLOSEDLOOP_DATA_DOCS_DIR", default))


def _observed(result: dict[str, Any]) -> Any:
    if "observed_value" in result:
        return result["observed_value"]
    if "unexpected_count" in result:
        return {
            "unexpected": result["unexpected_count"],
            "examples": result.get("partial_unexpected_list", [])[:SAMPLE_ROWS],
        }
    return result or None


def _validate(warehouse_uri: str, gate: str, checks: list[Check]) -> list[Outcome]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        site_name="closedloop",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir() / gate),
            },
        },
    )
    source = context.data_sources.add_postgres(
        "warehouse",
        connection_string=warehouse_uri.replace("postgresql://", "postgresql+psycopg2://", 1),
    )
    by_table: dict[tuple[str, str], list[Check]] = defaultdict(list)
    for check in checks:
        by_table[(check.schema, check.table)].append(check)
    definitions, check_of = [], {}
    for (schema, table), table_checks in by_table.items():
        name = f"{gate}.{schema}.{table}"
        asset = source.add_table_asset(
            name=f"{schema}.{table}", table_name=table, schema_name=schema
        )
        suite = context.suites.add(gx.ExpectationSuite(name=name))
        for check in table_checks:
            check_of[suite.add_expectation(check.build(gx)).id] = check
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=name, data=asset.add_batch_definition_whole_table("all"), suite=suite
                )
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=gate,
            validation_definitions=definitions,
            result_format={"result_format": "SUMMARY"},
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")],
        )
    )
    outcomes = []
    for run in checkpoint.run().run_results.values():
        for result in run.results:
            check = check_of[result.expectation_config.id]
            observed = _observed(result.result)
            if result.exception_info and result.exception_info.get("raised_exception"):
                observed = f"the check could not run: {result.exception_info['exception_message']}"
            outcomes.append(Outcome(check, bool(result.success), observed, []))
    return outcomes


def _samples(conn, check: Check) -> list[dict[str, Any]]:
    if check.unexpected_rows_query is None:
        return []
    query = check.unexpected_rows_query.replace("{batch}", f"{check.schema}.{check.table}")
    with conn.cursor() as cur:
        cur.execute(f"select * from ({query}) bad limit {SAMPLE_ROWS}")
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def run_gate(warehouse_uri: str, gate: str, checks: list[Check], run_id: str) -> dict[str, int]:
    """Validate ``checks``; record and publish the results; raise GateFailed on a failing check.

    Args:
        warehouse_uri: libpq URI of the warehouse.
        gate: the checkpoint's name (raw_gate, marts_gate).
        checks: what to expect.
        run_id: the Airflow run, for ops.validation_results.
    """
    from .data_docs import localize, write_index

    outcomes = _validate(warehouse_uri, gate, checks)
    localize(docs_dir() / gate)
    with connect(warehouse_uri) as conn:
        ensure_tables(conn)
        outcomes = [
            o if o.success else Outcome(o.check, False, o.observed, _samples(conn, o.check))
            for o in outcomes
        ]
        with conn.transaction():
            conn.execute(
                "delete from ops.validation_results where run_id = %s and gate = %s", (run_id, gate)
            )
            for o in outcomes:
                conn.execute(
                    """insert into ops.validation_results (run_id, gate, table_name, check_kind,
                           expectation, severity, success, observed_value, sample_rows)
                       values (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                    (
                        run_id,
                        gate,
                        f"{o.check.schema}.{o.check.table}",
                        o.check.kind,
                        o.check.description,
                        o.check.severity,
                        o.success,
                        json.dumps(o.observed, default=str),
                        json.dumps(o.samples, default=str) if o.samples else None,
                    ),
                )
    failed = [o for o in outcomes if not o.success and o.check.severity == "fail"]
    warned = [o for o in outcomes if not o.success and o.check.severity == "warn"]
    for outcome in warned:
        log.warning("%s warning:\n%s", gate, outcome.describe())
    summary = {"expectations": len(outcomes), "failed": len(failed), "warned": len(warned)}
    write_index(docs_dir(), gate, run_id, summary)
    log.info("%s: %s; Data Docs in %s", gate, summary, docs_dir() / gate / "index.html")
    if failed:
        raise GateFailed(
            f"data quality gate {gate} failed; nothing downstream runs:\n"
            + "\n".join(f"  - {o.describe()}" for o in failed)
            + f"\nAll results: ops.validation_results (run {run_id}); Data Docs: "
            f"{docs_dir() / gate / 'index.html'}"
        )
    return summary
