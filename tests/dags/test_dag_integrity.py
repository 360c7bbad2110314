"""DAG integrity: every DAG imports cleanly and fast, and every task follows the house policy."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_closed_loop_nightly_is_there_with_its_stages(dagbag):
    dag = dagbag.dags["closed_loop_nightly"]
    ids = set(dag.task_dict)
    for expected in (
        "validate_marts",
        "extract_matomo",
        "extract_google_ads",
        "extract_meta_ads",
        "extract_linkedin_ads",
        "extract_hubspot",
        "validate_raw",
        "score_leads",
        "push_scores",
        "record_run",
        "dbt.closed_loop_attribution_model_build",
        "dbt.assert_attributed_revenue_equals_closed_won_test",
    ):
        assert expected in ids


def test_stages_run_in_order(dagbag):
    dag = dagbag.dags["closed_loop_nightly"]
    assert dag.get_task("validate_raw").upstream_task_ids >= {
        f"extract_{s}" for s in ("matomo", "google_ads", "meta_ads", "linkedin_ads", "hubspot")
    }
    assert "push_scores" in dag.get_task("score_leads").downstream_task_ids
    assert "validate_marts" in dag.get_task("score_leads").upstream_task_ids
    dbt_tasks = {t for t in dag.task_dict if t.startswith("dbt.")}
    assert dag.get_task("validate_marts").upstream_task_ids & dbt_tasks
    first_dbt = {t for t in dbt_tasks if not (dag.get_task(t).upstream_task_ids & dbt_tasks)}
    assert all("validate_raw" in dag.get_task(t).upstream_task_ids for t in first_dbt)


def test_every_task_retries_and_has_an_owner(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            assert task.owner not in (None, "", "airflow"), f"{task.task_id} has no owner"


def test_dags_are_tagged_documented_and_acyclic(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md, f"{dag.dag_id} has no doc_md"
        dag.topological_sort()  # raises on a cycle


def test_schedule_covers_whole_nights(dagbag):
    """A data-interval timetable, so that each run has a non-empty night to load (the end-to-end
    test checks the night a run actually covered)."""
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["closed_loop_nightly"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.max_active_runs == 1


def test_failures_alert_and_the_crm_is_written_through_one_pool(dagbag):
    from closedloop import alerts

    dag = dagbag.dags["closed_loop_nightly"]
    for task in dag.tasks:
        callbacks = task.on_failure_callback
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        assert alerts.task_failed in callbacks, f"{task.task_id} fails silently"
    assert dag.get_task("push_scores").pool == "crm_hubspot_writes"
