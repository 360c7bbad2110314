"""Print the latest night's summary: rows per source, revenue by first-touch channel, scores pushed.

python -m closedloop.summary
"""

from __future__ import annotations

from .connections import warehouse_uri
from .warehouse import connect


def main() -> None:
    with connect(warehouse_uri()) as conn:
        row = conn.execute(
            "select run_id, night_start, night_end, summary from ops.pipeline_runs "
            "order by recorded_at desc limit 1"
        ).fetchone()
        if row is None:
            raise SystemExit("no run recorded in ops.pipeline_runs yet: run the DAG first")
        run_id, start, end, summary = row
        channels = conn.execute(
            """select first_touch_channel, count(distinct deal_id), sum(revenue)
               from marts.closed_loop_attribution group by 1 order by 3 desc"""
        ).fetchall()
    print(f"\nclosed_loop_nightly {run_id}: night {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}")
    print("\nrows loaded per source")
    for source, rows in summary["rows_per_source"].items():
        print(f"  {source:<14}{rows:>10,}")
    print("\nclosed-won revenue by first-touch channel")
    for channel, deals, revenue in channels:
        print(f"  {channel:<16}{deals:>5} deals {revenue:>15,.2f}")
    print(
        f"\nleads scored: {summary['leads_scored']:,}   scores pushed to the CRM: "
        f"{summary['scores_pushed']:,}   failed: {summary['scores_failed']:,}"
    )


if __name__ == "__main__":
    main()
