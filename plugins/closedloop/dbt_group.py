"""The dbt project rendered as Airflow tasks by astronomer-cosmos (one `dbt build` per node)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Cosmos reads this when imported: no usage telemetry leaves the machine.
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

DBT_PROJECT_DIR = Path(
    os.environ.get(
        "CLOSEDLOOP_DBT_PROJECT_DIR", Path(__file__).resolve().parents[2] / "dbt_project"
    )
)
MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_build_group(default_args: dict[str, Any]):
    """A cosmos task group building every model, seed and test from the compiled manifest.

    Rendering from manifest.json (written by `make dbt-parse`) keeps DAG parsing free of dbt
    commands. Tests with several parents (the revenue reconciliation) run as their own tasks
    once all their parents are built.
    """
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    if not MANIFEST.exists():
        raise FileNotFoundError(
            f"{MANIFEST} is missing: run `make dbt-parse` (dbt parse) before loading the DAG"
        )
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR, manifest_path=MANIFEST, project_name="closedloop"
        ),
        profile_config=ProfileConfig(
            profile_name="closedloop",
            target_name="warehouse",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id="warehouse_postgres", profile_args={"schema": "analytics"}
            ),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
        ),
        execution_config=ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER,
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        operator_args={"install_deps": False},
        default_args=default_args,
    )
