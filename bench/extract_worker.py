"""One process extracting sources into the warehouse, reporting its rows, time and peak memory.

    python -m bench.extract_worker URI SIMULATOR_URL TOKEN NIGHT_END [SOURCE ...]
    python -m bench.extract_worker URI SIMULATOR_URL TOKEN NIGHT_END --as-dlt

``--as-dlt`` reads exactly what the dlt comparison reads (Matomo visits of every day, and the
HubSpot contacts list), through this project's clients and loader.

Run in its own process so that its peak resident memory is the extraction's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from closedloop.extract import SOURCES, Night, extract_source
from include.devstack import source_connections


def as_dlt(uri: str, connections: dict, night: Night) -> dict[str, dict]:
    """The endpoints the dlt comparison reads, with HubSpot's client-side limiter lifted (dlt
    has none, and the simulator does not enforce one here)."""
    from dataclasses import replace

    from closedloop.load import load_records
    from closedloop.sources import Record, Window
    from closedloop.sources.hubspot import HubSpotClient
    from closedloop.warehouse import connect, ensure_tables

    report = {}
    started = time.perf_counter()
    stats = extract_source("matomo", night, uri, connections["matomo"])
    report["matomo"] = {"rows": stats["loaded"], "seconds": time.perf_counter() - started}
    unlimited = replace(
        connections["hubspot"],
        extra={**connections["hubspot"].extra, "requests_per_10_seconds": 1_000_000},
    )
    started = time.perf_counter()
    client = HubSpotClient(unlimited)
    contacts = (Record("contacts", c.get("id"), None, c) for c in client.list_objects("contacts"))
    with connect(uri) as conn:
        ensure_tables(conn)
        window = Window(night.start.date(), night.end.date())
        loaded = load_records(conn, "hubspot", contacts, {"contacts": "upsert"}, window).loaded
    report["hubspot"] = {"rows": loaded, "seconds": time.perf_counter() - started}
    return report


def main(uri: str, simulator_url: str, token: str, night_end: str, *sources: str) -> None:
    end = datetime.fromisoformat(night_end).replace(tzinfo=UTC)
    night = Night(end - timedelta(days=1), end, "bench")
    by_source = source_connections(simulator_url, token)
    if sources == ("--as-dlt",):
        print(json.dumps({"sources": as_dlt(uri, by_source, night)}))
        return
    report: dict[str, dict] = {}
    for source in sources or SOURCES:
        started = time.perf_counter()
        stats = extract_source(source, night, uri, by_source[source])
        report[source] = {"rows": stats["loaded"], "seconds": time.perf_counter() - started}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"sources": report, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(*sys.argv[1:])
