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
import json
import os
import re
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .apis import Apis, Request, Settings
from .world import World

ROUTES = [
    (re.compile(r"^/matomo/index\.php$"), lambda apis, r, m: apis.matomo(r)),
    (
        re.compile(r"^/googleads/v\d+/customers/(\d+)/googleAds:search$"),
        lambda apis, r, m: apis.google_ads_search(r, m[1]),
    ),
    (
        re.compile(r"^/meta/v[\d.]+/act_(\d+)/insights$"),
        lambda apis, r, m: apis.meta_insights(r, m[1]),
    ),
    (re.compile(r"^/linkedin/rest/adAnalytics$"), lambda apis, r, m: apis.linkedin_ad_analytics(r)),
    (
        re.compile(r"^/linkedin/rest/adAccounts/(\d+)/adCampaigns$"),
        lambda apis, r, m: apis.linkedin_campaigns(r, m[1]),
    ),
    (re.compile(r"^/hubspot(/crm/v3/.*)$"), lambda apis, r, m: apis.hubspot(r, m[1])),
]


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
            for pattern, handler in ROUTES:
                match = pattern.match(url.path)
                if match:
                    self._send(*handler(apis, request, match))
                    return
            self._send(404, {}, {"message": f"no such endpoint: {url.path}"})

        def _send(self, status: int, headers: dict[str, str], body) -> None:
            payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
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
    args = parser.parse_args(argv)
    token = os.environ.get("SIMULATOR_TOKEN")
    if not token:
        parser.error("set SIMULATOR_TOKEN: the API token every simulated vendor accepts")
    world = World(seed=args.seed, profile=args.profile, end_date=args.end_date)
    simulator = Simulator(world, Settings(token=token, google_page_size=500), args.host, args.port)
    print(
        f"simulator serving {args.profile} profile (seed {args.seed}) on {simulator.base_url}",
        flush=True,
    )
    simulator.server.serve_forever()
