"""The shared HTTP layer against a scripted server over real sockets: what it retries, how long it
waits, and what its failures say."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from closedloop.http_client import AuthenticationError, HttpClient, SourceError


class Script:
    """Responses to hand out in order: (status, headers, body[, seconds to wait first])."""

    def __init__(self):
        self.responses: list[tuple] = []
        self.arrivals: list[float] = []


@pytest.fixture
def scripted() -> Iterator[tuple[Script, str]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib name
            script.arrivals.append(time.monotonic())
            status, headers, body, *delay = script.responses.pop(0)
            time.sleep(delay[0] if delay else 0)
            payload = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield script, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def client(base_url: str, **kwargs) -> HttpClient:
    return HttpClient("Test API", base_url, "test_conn", backoff_seconds=0.05, **kwargs)


def test_server_errors_are_retried_until_success(scripted):
    script, url = scripted
    script.responses = [(503, {}, {"e": 1}), (500, {}, {"e": 2}), (200, {}, {"ok": True})]
    assert client(url).get_json("/x") == {"ok": True}
    assert len(script.arrivals) == 3


def test_429_waits_as_long_as_retry_after_says(scripted):
    script, url = scripted
    script.responses = [(429, {"Retry-After": "1"}, {}), (200, {}, {"ok": True})]
    client(url).get_json("/x")
    assert script.arrivals[1] - script.arrivals[0] >= 0.95


def test_retries_are_bounded_and_the_failure_names_source_endpoint_and_error(scripted):
    script, url = scripted
    script.responses = [(502, {}, {"message": "bad gateway"})] * 3
    with pytest.raises(SourceError) as failure:
        client(url, max_attempts=3).get_json("/reports")
    message = str(failure.value)
    assert "Test API" in message and "/reports" in message and "HTTP 502" in message
    assert len(script.arrivals) == 3


def test_unauthorized_fails_at_once_naming_the_connection(scripted):
    script, url = scripted
    script.responses = [(401, {}, {"message": "expired token"})]
    with pytest.raises(AuthenticationError, match="Fix the Airflow connection 'test_conn'"):
        client(url).get_json("/x")
    assert len(script.arrivals) == 1


def test_other_client_errors_fail_with_the_response_body(scripted):
    script, url = scripted
    script.responses = [(400, {}, {"message": "unknown field metrics.cost"})]
    with pytest.raises(SourceError, match="unknown field metrics.cost"):
        client(url).get_json("/x")
    assert len(script.arrivals) == 1


def test_connection_refused_is_retried_then_reported():
    http = HttpClient(
        "Nowhere", "http://127.0.0.1:9", "nowhere_conn", max_attempts=2, backoff_seconds=0.01
    )
    with pytest.raises(SourceError, match="failed after 2 attempts.*ConnectionError"):
        http.get_json("/x")


def test_a_read_timeout_is_retried(scripted):
    script, url = scripted
    script.responses = [(200, {}, {"slow": True}, 1.0), (200, {}, {"ok": True})]
    assert client(url, timeout=(1.0, 0.3)).get_json("/x") == {"ok": True}
    assert len(script.arrivals) == 2


def test_a_hubspot_429_without_retry_after_waits_the_interval_its_headers_give(scripted):
    script, url = scripted
    limited = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "800",
    }
    script.responses = [(429, limited, {"errorType": "RATE_LIMIT"}), (200, {}, {"ok": True})]
    client(url).get_json("/x")
    assert script.arrivals[1] - script.arrivals[0] >= 0.75


def test_retry_after_as_an_http_date_is_obeyed(scripted):
    from email.utils import formatdate

    script, url = scripted
    script.responses = [
        (503, {"Retry-After": formatdate(time.time() + 2, usegmt=True)}, {}),
        (200, {}, {"ok": True}),
    ]
    client(url).get_json("/x")
    # HTTP dates have whole seconds: at least one full second was waited.
    assert script.arrivals[1] - script.arrivals[0] >= 0.9


def test_meta_throttling_answered_with_http_400_is_retried(scripted):
    from closedloop.sources.meta_ads import _is_throttled

    script, url = scripted
    throttled = {"error": {"message": "(#17) User request limit reached", "code": 17}}
    script.responses = [(400, {}, throttled), (200, {}, {"ok": True})]
    assert client(url, is_throttled=_is_throttled).get_json("/x") == {"ok": True}
    script.responses = [(400, {}, {"error": {"message": "(#100) bad field", "code": 100}})]
    with pytest.raises(SourceError, match="bad field"):
        client(url, is_throttled=_is_throttled).get_json("/x")
