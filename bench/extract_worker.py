"""One process extracting sources into the warehouse, reporting its rows, time and peak memory.

    python -m bench.extract_worker URI SIMULATOR_URL TOKEN NIGHT_END [SOURCE ...]

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


def main(uri: str, simulator_url: str, token: str, night_end: str, *sources: str) -> None:
    end = datetime.fromisoformat(night_end).replace(tzinfo=UTC)
    night = Night(end - timedelta(days=1), end, "bench")
    by_source = source_connections(simulator_url, token)
    report: dict[str, dict] = {}
    for source in sources or SOURCES:
        started = time.perf_counter()
        stats = extract_source(source, night, uri, by_source[source])
        report[source] = {"rows": stats["loaded"], "seconds": time.perf_counter() - started}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"sources": report, "peak_rss_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main(*sys.argv[1:])
