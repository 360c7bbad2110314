"""The simulator's HTTP server: one process serving every vendor API under its own prefix.

/matomo/index.php                       Matomo Reporting API
/googleads/{version}/customers/...      Google Ads API REST
/meta/{version}/act_{id}/insights       Meta Marketing API
/linkedin/rest/...                      LinkedIn Marketing API
/hubspot/crm/v3/...                     HubSpot CRM v3
/hubspot/sales                          read-only page: what sales see in the CRM
"""

from __future__ import annotations

import argparse
import html
import os
import re
import threading
import time
from datetime import date
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import orjson

from .apis import Apis, Request, Settings
from .faults import Faults, query_key
from .world import World

ROUTES = [
    ("matomo", re.compile(r"^/matomo/index\.php$"), lambda apis, r, m: apis.matomo(r)),
    (
        "google_ads",
        re.compile(r"^/googleads/v\d+/customers/(\d+)/googleAds:search$"),
        lambda apis, r, m: apis.google_ads_search(r, m[1]),
    ),
    (
        "meta_ads",
        re.compile(r"^/meta/v[\d.]+/act_(\d+)/insights$"),
        lambda apis, r, m: apis.meta_insights(r, m[1]),
    ),
    (
        "linkedin_ads",
        re.compile(r"^/linkedin/rest/adAnalytics$"),
        lambda apis, r, m: apis.linkedin_ad_analytics(r),
    ),
    (
        "linkedin_ads",
        re.compile(r"^/linkedin/rest/adAccounts/(\d+)/adCampaigns$"),
        lambda apis, r, m: apis.linkedin_campaigns(r, m[1]),
    ),
    ("hubspot", re.compile(r"^/hubspot(/crm/v3/.*)$"), lambda apis, r, m: apis.hubspot(r, m[1])),
]
# Where each vendor's page keeps its records (HubSpot: only object reads carry records).
RECORDS_KEY = {"google_ads": "results", "meta_ads": "data", "linkedin_ads": "elements"}
HUBSPOT_OBJECT_READ = re.compile(r"^/hubspot/crm/v3/objects/\w+(/search)?$")


def _failure(vendor: str, kind: str, faults: Faults) -> tuple[int, dict[str, str], dict]:
    """A server error or a rate-limit refusal in the vendor's own shape."""
    wait = f"{faults.retry_after_seconds:g}"
    if kind == "server_error":
        return {
            "matomo": (503, {}, {"result": "error", "message": "Service Unavailable"}),
            "google_ads": (
                503,
                {},
                {
                    "error": {
                        "code": 503,
                        "message": "The service is currently unavailable.",
                        "status": "UNAVAILABLE",
                    }
                },
            ),
            "meta_ads": (
                500,
                {},
                {
                    "error": {
                        "message": "An unknown error occurred",
                        "type": "OAuthException",
                        "code": 1,
                        "is_transient": True,
                    }
                },
            ),
            "linkedin_ads": (504, {}, {"status": 504, "message": "Gateway Timeout"}),
            "hubspot": (
                502,
                {},
                {"status": "error", "message": "Bad Gateway", "category": "BAD_GATEWAY"},
            ),
        }[vendor]
    return {
        "matomo": (429, {"Retry-After": wait}, {"result": "error", "message": "Too Many Requests"}),
        "google_ads": (
            429,
            {},
            {
                "error": {
                    "code": 429,
                    "message": "Resource has been exhausted (e.g. check quota).",
                    "status": "RESOURCE_EXHAUSTED",
                }
            },
        ),
        # Meta throttles with HTTP 400 and an application-level code.
        "meta_ads": (
            400,
            {},
            {
                "error": {
                    "message": "(#17) User request limit reached",
                    "type": "OAuthException",
                    "code": 17,
                    "error_subcode": 2446079,
                    "is_transient": True,
                }
            },
        ),
        "linkedin_ads": (
            429,
            {"Retry-After": wait},
            {"status": 429, "code": "TOO_MANY_REQUESTS", "message": "Too many requests"},
        ),
        # HubSpot's secondly limit: no Retry-After, its rate-limit headers say how long to wait.
        "hubspot": (
            429,
            {
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(
                    int(faults.retry_after_seconds * 1000)
                ),
            },
            {
                "status": "error",
                "errorType": "RATE_LIMIT",
                "policyName": "SECONDLY",
                "message": "You have reached your secondly limit.",
            },
        ),
    }[vendor]


def _damage(vendor: str, request: Request, body, faults: Faults):
    """The page with the configured data faults applied to its records."""
    key = query_key(request.path, request.query, request.body)
    if vendor == "matomo" and isinstance(body, list):
        return faults.damage(vendor, key, body)
    records_key = RECORDS_KEY.get(vendor)
    if vendor == "hubspot" and HUBSPOT_OBJECT_READ.match(request.path):
        records_key = "results"
    if records_key and isinstance(body, dict) and isinstance(body.get(records_key), list):
        return {**body, records_key: faults.damage(vendor, key, body[records_key])}
    return body


def _sales_page(apis: Apis) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c['id'])}</td><td>{html.escape(c['email'])}</td>"
        f"<td>{html.escape(str(c.get('closedloop_lead_score', '')))}</td>"
        f"<td>{html.escape(str(c.get('closedloop_lead_tier', '')))}</td>"
        f"<td>{html.escape(str(c.get('closedloop_score_reasons', '')))}</td>"
        f"<td>{html.escape(str(c.get('closedloop_scored_at', '')))}</td></tr>"
        for c in apis.sales_view()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>CRM contacts</title></head><body>"
        "<h1>Contacts (read-only)</h1><table border='1'><tr><th>id</th><th>email</th><th>score</th>"
        f"<th>tier</th><th>reasons</th><th>scored at</th></tr>{rows}</table></body></html>"
    )


def make_handler(apis: Apis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
            if os.environ.get("SIMULATOR_ACCESS_LOG"):
                super().log_message(format, *args)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            if url.path == "/hubspot/sales":
                self._send(200, {"Content-Type": "text/html; charset=utf-8"}, _sales_page(apis))
                return
            if url.path == "/health":
                self._send(200, {}, {"status": "ok"})
                return
            for vendor, pattern, handler in ROUTES:
                match = pattern.match(url.path)
                if match:
                    self._serve(vendor, request, partial(handler, apis, request, match))
                    return
            self._send(404, {}, {"message": f"no such endpoint: {url.path}"})

        def _serve(self, vendor: str, request: Request, answer) -> None:
            faults = apis.settings.faults
            fault = faults.call_fault() if faults else None
            if fault == "dropped":
                self.close_connection = True  # hang up without an answer
                return
            if fault == "latency":
                time.sleep(faults.latency_seconds)
            elif fault is not None:
                self._send(*_failure(vendor, fault, faults))
                return
            status, headers, body = answer()
            if faults is not None and faults.changes_data and status == 200:
                body = _damage(vendor, request, body, faults)
            self._send(status, headers, body)

        def _send(self, status: int, headers: dict[str, str], body) -> None:
            payload = body.encode() if isinstance(body, str) else orjson.dumps(body)
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = _handle

    return Handler


class Simulator:
    """A running simulator: ``start()`` serves in a background thread, ``stop()`` ends it."""

    def __init__(self, world: World, settings: Settings, host: str = "127.0.0.1", port: int = 0):
        self.world = world
        self.apis = Apis(world, settings)
        self.server = ThreadingHTTPServer((host, port), make_handler(self.apis))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _faults(spec: str, parser: argparse.ArgumentParser) -> Faults | None:
    if not spec:
        return None
    rates = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            parser.error(f"--faults: {part!r} is not name=rate")
    try:
        return Faults(**rates)
    except TypeError as exc:
        parser.error(f"--faults: {exc}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the vendor APIs for a synthetic company.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--profile", default="small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=None,
        help="the world's 'now' (midnight UTC); default today",
    )
    parser.add_argument(
        "--hubspot-rate-limit",
        type=int,
        default=None,
        help="enforce HubSpot's rolling limit: requests per window (default: unlimited)",
    )
    parser.add_argument("--hubspot-rate-window", type=float, default=10.0, help="seconds")
    parser.add_argument(
        "--ad-accounts",
        type=int,
        default=1,
        help="ad accounts per platform (1-3), the campaigns spread over them",
    )
    parser.add_argument(
        "--faults",
        default="",
        help="comma-separated fault rates, e.g. server_error=0.05,rate_limited=0.05,dropped=0.02,"
        "latency=0.05,malformed=0.01,schema_drift=0.1,duplicates=0.1 (see simulator/faults.py)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("SIMULATOR_TOKEN")
    if not token:
        parser.error("set SIMULATOR_TOKEN: the API token every simulated vendor accepts")
    world = World(
        seed=args.seed,
        profile=args.profile,
        end_date=args.end_date,
        ad_accounts_per_platform=args.ad_accounts,
    )
    settings = Settings(
        token=token,
        google_page_size=500,
        hubspot_rate_limit=args.hubspot_rate_limit,
        hubspot_rate_window_seconds=args.hubspot_rate_window,
        faults=_faults(args.faults, parser),
    )
    simulator = Simulator(world, settings, args.host, args.port)
    print(
        f"simulator serving {args.profile} profile (seed {args.seed}) on {simulator.base_url}",
        flush=True,
    )
    simulator.server.serve_forever()
