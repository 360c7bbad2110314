"""`make bench PROFILE=small|medium`: every figure of docs/BENCHMARKS.md, measured in one run on
this machine, written to bench/results.json and as a table into docs/BENCHMARKS.md.

Each figure runs against a simulator in its own process and an embedded PostgreSQL of its own, so
nothing else on the machine is touched. Nothing here is a test: the goals are printed beside the
figures, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
WORLD_END = date(2026, 6, 30)
NIGHT_END = datetime(2026, 6, 30, tzinfo=UTC)
HUBSPOT_LIMIT = (100, 10.0)  # requests per window (seconds): HubSpot's Free/Starter private app
PUSH_RECORDS = 20_000
GOALS = {
    "extract_vs_dlt": (">=", 2.0),
    "extract_vs_copy": (">=", 0.3),
    "peak_memory_ratio": ("<=", 1.3),
    "dbt_incremental_ratio": ("<=", 0.15),
    "dag_seconds": ("<=", 600.0),
    "push_rate_share": (">=", 0.9),
    "auc_ratio": (">=", 0.95),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def python_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }


@contextmanager
def simulator(profile: str, *extra: str) -> Iterator[tuple[str, str]]:
    """A simulator process serving the profile's company; yields (base URL, token)."""
    token = secrets.token_urlsafe(16)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "include.simulator",
            "--profile",
            profile,
            "--port",
            "0",
            "--end-date",
            WORLD_END.isoformat(),
            *extra,
        ],
        cwd=ROOT,
        env={**python_env(), "SIMULATOR_TOKEN": token},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"on (http://\S+)", line)
        if not match:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield match[1], token
    finally:
        process.terminate()
        process.wait(timeout=30)


class Warehouse:
    def __init__(self, server_uri: str):
        self.server_uri = server_uri

    def new_database(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(self.server_uri, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return self.server_uri.rsplit("/", 1)[0] + f"/{name}"


def run_json(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=python_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- 1 and 2: extraction, against dlt and a raw COPY; peak memory ---------------------------
def extraction(warehouse: Warehouse, profile: str, figures: dict) -> str:
    """Extract every source of the profile's year; returns the loaded database's URI."""
    with simulator(profile) as (url, token):
        uri = warehouse.new_database(f"extract_{profile}")
        report = run_json("bench.extract_worker", uri, url, token, NIGHT_END.isoformat())
        figures[f"extract_{profile}"] = report
        log(
            f"{profile}: extracted {sum(s['rows'] for s in report['sources'].values())} rows, "
            f"peak {report['peak_rss_mib']:.0f} MiB"
        )
        if profile == figures["profile"]:  # the side-by-side runs at the profile asked for
            first_day = (NIGHT_END - timedelta(days=400)).date()
            last_day = (NIGHT_END - timedelta(days=1)).date()
            dlt_uri = warehouse.new_database("dlt")
            figures["dlt"] = run_json(
                "bench.dlt_worker", dlt_uri, url, token, first_day.isoformat(), last_day.isoformat()
            )
            log(f"dlt: {figures['dlt']}")
            ours_uri = warehouse.new_database("as_dlt")
            figures["extract_as_dlt"] = run_json(
                "bench.extract_worker", ours_uri, url, token, NIGHT_END.isoformat(), "--as-dlt"
            )
            log(f"ours on the same endpoints: {figures['extract_as_dlt']}")
    return uri


def copy_ceiling(uri: str) -> dict:
    """Rows/s of COPY loading the same raw rows (visits and contacts) from a local file."""
    with tempfile.NamedTemporaryFile(suffix=".copy") as dump, psycopg.connect(uri) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy (select record_id, partition_date, payload from raw.matomo_visits union all "
                "select record_id, partition_date, payload from raw.hubspot_contacts) to stdout"
            ) as copy,
        ):
            for block in copy:
                dump.write(block)
        dump.flush()
        conn.execute(
            "create temporary table ceiling (record_id text, partition_date date, payload jsonb)"
        )
        started = time.perf_counter()
        with open(dump.name, "rb") as source, conn.cursor().copy("copy ceiling from stdin") as copy:
            while block := source.read(1 << 20):
                copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("select count(*) from ceiling").fetchone()[0]
    return {"rows": rows, "seconds": seconds}


# ---- 3: dbt, an incremental night against a full refresh -----------------------------------
def dbt_nights(uri: str, profile: str, figures: dict, target: Path) -> None:
    from tests.warehouse_helpers import dbt

    def timed_dbt(*args: str) -> tuple[float, float]:
        """The command's wall-clock seconds, and dbt's own (run_results' elapsed_time: the
        models, without the process's start-up and project loading)."""
        started = time.perf_counter()
        result = dbt(uri, *args, target_path=target)
        if result.returncode != 0:
            raise RuntimeError(result.stdout[-3000:])
        elapsed = json.loads((target / "run_results.json").read_text())["elapsed_time"]
        return time.perf_counter() - started, elapsed

    timed_dbt("seed")
    full, full_elapsed = timed_dbt("run", "--full-refresh")
    with simulator(profile) as (url, token):  # the next night's extraction
        run_json("bench.extract_worker", uri, url, token, NIGHT_END.isoformat())
    incremental, incremental_elapsed = timed_dbt("run")
    figures["dbt"] = {
        "full_refresh_seconds": full,
        "incremental_seconds": incremental,
        "full_refresh_elapsed_seconds": full_elapsed,
        "incremental_elapsed_seconds": incremental_elapsed,
    }
    log(
        f"dbt: full refresh {full:.1f}s ({full_elapsed:.1f}s in dbt), incremental night "
        f"{incremental:.1f}s ({incremental_elapsed:.1f}s in dbt)"
    )


# ---- 6: score quality against the simulator's true probabilities ---------------------------
def score_quality(uri: str, profile: str, figures: dict) -> None:
    from sklearn.metrics import roc_auc_score

    from closedloop.scoring import holdout_predictions, labelled_leads, load_lead_features
    from include.simulator.world import World

    with psycopg.connect(uri) as conn:
        labelled = labelled_leads(load_lead_features(conn))
    index, won, predicted = holdout_predictions(labelled)
    world = World(seed=7, profile=profile, end_date=WORLD_END)
    truth = [
        world.contact(cid).true_conversion_probability for cid in labelled.loc[index, "contact_id"]
    ]
    model_auc, true_auc = roc_auc_score(won, predicted), roc_auc_score(won, truth)
    figures["score"] = {
        "labelled_leads": len(labelled),
        "held_out_leads": len(index),
        "model_auc": model_auc,
        "true_probability_auc": true_auc,
    }
    log(f"score: AUC {model_auc:.3f} against the true probabilities' {true_auc:.3f}")


# ---- 5: reverse ETL throughput against the CRM's rate limit -------------------------------
def push_rate(warehouse: Warehouse, profile: str, figures: dict) -> None:
    from closedloop.connections import ApiConnection
    from closedloop.reverse_etl import push_scores
    from closedloop.sources.hubspot import HubSpotClient
    from closedloop.warehouse import connect, ensure_tables
    from include.simulator.world import World

    limit, window = HUBSPOT_LIMIT
    contacts = World(seed=7, profile=profile, end_date=WORLD_END).contacts[:PUSH_RECORDS]
    uri = warehouse.new_database("push")
    with connect(uri) as conn:
        ensure_tables(conn)
        with conn.cursor().copy(
            "copy ops.lead_scores (contact_id, score, tier, reasons, scored_at, run_id) from stdin"
        ) as copy:
            for n, contact in enumerate(contacts):
                copy.write_row((contact.contact_id, n % 101, "D", ["bench"], NIGHT_END, "bench"))
    args = ("--hubspot-rate-limit", str(limit), "--hubspot-rate-window", str(window))
    with simulator(profile, *args) as (url, token), connect(uri) as conn:
        client = HubSpotClient(
            ApiConnection(
                "crm_hubspot",
                f"{url}/hubspot",
                token,
                {"requests_per_10_seconds": limit, "rate_window_seconds": window},
            )
        )
        client.properties("contacts")  # warm up: the push's own calls are what is measured
        started = time.perf_counter()
        stats = push_scores(conn, client, "bench")
        seconds = time.perf_counter() - started
    ceiling = limit * 100 / window  # records/s if every call carries a full batch
    figures["push"] = {
        "records": stats.succeeded,
        "seconds": seconds,
        "records_per_second": stats.succeeded / seconds,
        "rate_limit_records_per_second": ceiling,
    }
    log(f"push: {stats.succeeded} records in {seconds:.1f}s (limit {ceiling:.0f}/s)")


# ---- 4: the whole DAG with airflow dags test ----------------------------------------------
def dag_run(profile: str, figures: dict) -> None:
    """`airflow dags test` for one night against a fresh stack of the profile (own ports/dir)."""
    local = Path(tempfile.mkdtemp(prefix=f"bench-stack-{profile}-"))
    env = {
        **python_env(),
        "CLOSEDLOOP_LOCAL_DIR": str(local),
        "CLOSEDLOOP_SIMULATOR_PORT": str(8865 + len(profile)),
        "CLOSEDLOOP_WAREHOUSE_PORT": str(54429 + len(profile)),
        "CLOSEDLOOP_SIMULATOR_ARGS": f"--profile {profile} --end-date {WORLD_END}",
    }
    venv_bin = Path(sys.executable).parent
    shell = (
        f"set -e; {sys.executable} -m include.devstack up >/dev/null; set -a; "
        f"source {local}/env.sh; set +a; {venv_bin}/airflow db migrate >/dev/null 2>&1; "
        f"start=$(date +%s.%N); {venv_bin}/airflow dags test closed_loop_nightly "
        f"{NIGHT_END.date()} > {local}/run.log 2>&1; end=$(date +%s.%N); "
        'echo "$start $end"'
    )
    try:
        result = subprocess.run(
            ["bash", "-c", shell], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            tail = (local / "run.log").read_text()[-3000:] if (local / "run.log").exists() else ""
            raise RuntimeError(f"the DAG run failed: {result.stderr[-2000:]}\n{tail}")
        start, end = map(float, result.stdout.split()[-2:])
        tasks = _task_durations(local / "airflow" / "airflow.db")
        figures[f"dag_{profile}"] = {
            "seconds": end - start,
            "tasks": len(tasks),
            "task_seconds": sum(tasks.values()),
            "stages": _stages(tasks),
        }
        log(f"dag {profile}: {end - start:.0f}s end to end")
    finally:
        subprocess.run(
            [sys.executable, "-m", "include.devstack", "down"],
            cwd=ROOT,
            env=env,
            capture_output=True,
        )
        shutil.rmtree(local, ignore_errors=True)  # the stack's warehouse is over a gigabyte


def _task_durations(airflow_db: Path) -> dict[str, float]:
    import sqlite3

    with sqlite3.connect(airflow_db) as db:
        rows = db.execute(
            "select task_id, sum(duration) from task_instance where duration is not null "
            "group by task_id"
        ).fetchall()
    return dict(rows)


def _stages(tasks: dict[str, float]) -> dict[str, float]:
    stages: dict[str, float] = {}
    for task_id, seconds in tasks.items():
        stage = "dbt" if task_id.startswith("dbt.") else task_id.split("_")[0]
        stages[stage] = stages.get(stage, 0.0) + seconds
    return stages


# ---- the report ---------------------------------------------------------------------------
def ratios(figures: dict, profile: str) -> dict[str, float | None]:
    ours = figures["extract_as_dlt"]["sources"]
    ours_rate = sum(o["rows"] for o in ours.values()) / sum(o["seconds"] for o in ours.values())
    dlt = figures["dlt"]
    dlt_rate = sum(d["rows"] for d in dlt.values()) / sum(d["seconds"] for d in dlt.values())
    copy_rate = figures["copy"]["rows"] / figures["copy"]["seconds"]
    result = {
        "extract_rows_per_second": ours_rate,
        "dlt_rows_per_second": dlt_rate,
        "copy_rows_per_second": copy_rate,
        "extract_vs_dlt": ours_rate / dlt_rate,
        "extract_vs_copy": ours_rate / copy_rate,
        "peak_memory_ratio": figures[f"extract_{profile}"]["peak_rss_mib"]
        / figures["extract_small"]["peak_rss_mib"],
        "dbt_incremental_ratio": figures["dbt"]["incremental_seconds"]
        / figures["dbt"]["full_refresh_seconds"],
        # Without dbt's fixed start-up (an informative figure; the goal is on the one above).
        "dbt_incremental_ratio_in_dbt": figures["dbt"]["incremental_elapsed_seconds"]
        / figures["dbt"]["full_refresh_elapsed_seconds"],
        "push_rate_share": figures["push"]["records_per_second"]
        / figures["push"]["rate_limit_records_per_second"],
        "auc_ratio": figures["score"]["model_auc"] / figures["score"]["true_probability_auc"],
    }
    if f"dag_{profile}" in figures:
        result["dag_seconds"] = figures[f"dag_{profile}"]["seconds"]
    return result


def markdown(results: dict) -> str:
    versions = ", ".join(f"{name} {v}" for name, v in results["versions"].items())
    lines = [
        f"Measured {results['measured_at']} with `make bench PROFILE={results['profile']}` on "
        f"{results['machine']['cpus']} CPUs, {results['machine']['platform']}, Python "
        f"{results['machine']['python']}; {versions}.",
        "",
        "| figure | measured | goal | met |",
        "|---|---|---|---|",
    ]
    for name, value in results["ratios"].items():
        goal = GOALS.get(name)
        met = ""
        if goal and value is not None:
            met = "yes" if (value >= goal[1] if goal[0] == ">=" else value <= goal[1]) else "no"
        goal_text = f"{goal[0]} {goal[1]:g}" if goal else ""
        lines.append(f"| {name} | {value:,.3f} | {goal_text} | {met} |")
    return "\n".join(lines) + "\n"


def write_report(results: dict, results_json: Path, doc: Path) -> None:
    """The figures as JSON, and the table between the markers of the benchmarks document."""
    results_json.write_text(json.dumps(results, indent=2) + "\n")
    text = (
        doc.read_text() if doc.exists() else "# Benchmarks\n\n<!-- results -->\n<!-- /results -->\n"
    )
    table = markdown(results)
    text = re.sub(
        r"<!-- results -->.*<!-- /results -->",
        lambda _: f"<!-- results -->\n{table}<!-- /results -->",
        text,
        flags=re.S,
    )
    doc.write_text(text)


def main(argv: list[str] | None = None) -> None:
    from closedloop import embedded_warehouse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--skip-dag", action="store_true", help="leave out airflow dags test")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="write results.json and BENCHMARKS.md there instead of bench/ and docs/",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict = {"profile": args.profile}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        pgdata = Path(scratch) / "pgdata"
        server = embedded_warehouse.start(pgdata, secrets.token_urlsafe(12))
        try:
            warehouse = Warehouse(server.uri("postgres"))
            uri = None
            for profile in dict.fromkeys(("small", args.profile)):
                uri = extraction(warehouse, profile, figures)
            figures["copy"] = copy_ceiling(uri)
            dbt_nights(uri, args.profile, figures, Path(scratch) / "dbt-target")
            score_quality(uri, args.profile, figures)
            push_rate(warehouse, args.profile, figures)
        finally:
            embedded_warehouse.destroy(pgdata)
    if not args.skip_dag:
        for profile in dict.fromkeys(("small", args.profile)):
            dag_run(profile, figures)
    results = {
        "profile": args.profile,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {
            name: version(name)
            for name in ("apache-airflow", "dbt-core", "dlt", "psycopg", "scikit-learn")
        },
        "figures": figures,
        "ratios": ratios(figures, args.profile),
        "bench_seconds": time.perf_counter() - started,
    }
    if args.output_dir is None:
        write_report(results, ROOT / "bench" / "results.json", ROOT / "docs" / "BENCHMARKS.md")
    else:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        write_report(results, args.output_dir / "results.json", args.output_dir / "BENCHMARKS.md")
    print(markdown(results))
    print(f"whole benchmark: {results['bench_seconds']:.0f}s")


if __name__ == "__main__":
    main()
