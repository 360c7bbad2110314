"""The alternative: dlt's rest_api source reading the same endpoints, with the same paging, into
the same PostgreSQL (schema dlt_bench). Prints rows and seconds per resource as JSON.

    python -m bench.dlt_worker URI SIMULATOR_URL TOKEN FIRST_DAY LAST_DAY
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")  # no outside network, no telemetry


def sources(simulator_url: str, token: str, first_day: date, last_day: date):
    import dlt
    from dlt.sources.rest_api import rest_api_source

    from closedloop.sources.hubspot import PROPERTIES

    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]

    @dlt.resource(name="days", selected=False)
    def day_list():
        yield [{"day": day.isoformat()} for day in days]

    matomo = rest_api_source(
        {
            "client": {"base_url": f"{simulator_url}/matomo/"},
            "resources": [
                day_list,
                {
                    "name": "matomo_visits",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": "index.php",
                        "params": {
                            "module": "API",
                            "method": "Live.getLastVisitsDetails",
                            "idSite": "1",
                            "period": "day",
                            "format": "JSON",
                            "token_auth": token,
                            "date": "{resources.days.day}",
                        },
                        "data_selector": "$",
                        "paginator": {
                            "type": "offset",
                            "limit": 1000,
                            "offset_param": "filter_offset",
                            "limit_param": "filter_limit",
                            "total_path": None,
                            "stop_after_empty_page": True,
                        },
                    },
                },
            ],
        },
        name="matomo",
    )
    hubspot = rest_api_source(
        {
            "client": {
                "base_url": f"{simulator_url}/hubspot/",
                "auth": {"type": "bearer", "token": token},
            },
            "resources": [
                {
                    "name": "hubspot_contacts",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": "crm/v3/objects/contacts",
                        "params": {"limit": 100, "properties": ",".join(PROPERTIES["contacts"])},
                        "data_selector": "results",
                        "paginator": {
                            "type": "cursor",
                            "cursor_path": "paging.next.after",
                            "cursor_param": "after",
                        },
                    },
                }
            ],
        },
        name="hubspot",
    )
    return {"matomo": matomo, "hubspot": hubspot}


def main(uri: str, simulator_url: str, token: str, first_day: str, last_day: str) -> None:
    import dlt

    report = {}
    for name, source in sources(
        simulator_url, token, date.fromisoformat(first_day), date.fromisoformat(last_day)
    ).items():
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{name}",
            destination=dlt.destinations.postgres(credentials=uri),
            dataset_name="dlt_bench",
            pipelines_dir=os.environ.get("BENCH_DLT_DIR"),
        )
        started = time.perf_counter()
        info = pipeline.run(source)
        seconds = time.perf_counter() - started
        rows = sum(
            count
            for table, count in pipeline.last_trace.last_normalize_info.row_counts.items()
            if not table.startswith("_dlt") and "__" not in table
        )
        report[name] = {"rows": rows, "seconds": seconds, "loads": len(info.loads_ids)}
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
