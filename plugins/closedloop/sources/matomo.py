"""Matomo Reporting API: visit-level data from ``Live.getLastVisitsDetails``, day by day."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import requests

from ..connections import ApiConnection
from ..http_client import HttpClient, SourceError, fetch_in_order, parse_json
from . import Record, Window, validation

CONN_ID = "web_matomo"
DEFAULT_BASE_URL = "https://matomo.example.com"
PAGE_SIZE = 1000
# Days requested at once (connection extra `parallel_days`): a Matomo server that takes seconds
# per day builds the next days' answers while this side loads the current one. Each day waiting
# is held parsed in memory (~10 MB per 1,000 visits), and where the CPU, not the server, is the
# limit it buys nothing (docs/BENCHMARKS.md): so one at a time unless configured.
PARALLEL_DAYS = 1


def _is_auth_failure(response: requests.Response) -> bool:
    """Matomo reports refused tokens as ``{"result": "error"}``, often with HTTP 200."""
    # Visit pages are JSON arrays; only an object can be an error (and parsing pages twice is slow).
    if response.content.lstrip()[:1] != b"{":
        return False
    body = response.json()
    return (
        isinstance(body, dict)
        and body.get("result") == "error"
        and ("access" in body.get("message", "") or "token_auth" in body.get("message", ""))
    )


class MatomoClient:
    def __init__(self, connection: ApiConnection, page_size: int | None = None):
        self.connection = connection
        self.id_site = connection.require("id_site")
        self.page_size = int(page_size or connection.extra.get("page_size", PAGE_SIZE))
        self.parallel_days = int(connection.extra.get("parallel_days", PARALLEL_DAYS))
        self._per_thread = threading.local()

    @property
    def http(self) -> HttpClient:
        """This thread's HTTP client: days fetched in parallel each get their own session
        (requests' sessions are not meant to be shared between threads)."""
        if not hasattr(self._per_thread, "http"):
            self._per_thread.http = HttpClient(
                "Matomo",
                self.connection.base_url,
                self.connection.conn_id,
                is_auth_failure=_is_auth_failure,
            )
        return self._per_thread.http

    def visits_for_days(self, days: Iterable) -> Iterator[tuple[object, dict]]:
        """(day, visit) for every visit of the days, in day order; ``parallel_days`` days are
        requested at once."""
        pages = fetch_in_order(
            lambda day: (day, list(self.visits_for_day(day))), days, self.parallel_days
        )
        for day, visits in pages:
            for visit in visits:
                yield day, visit

    def visits_for_day(self, day) -> Iterator[dict]:
        """Every visit of one day (site timezone), paged with filter_limit/filter_offset.

        Args:
            day: the calendar day to read.
        """
        offset = 0
        while True:
            # token_auth goes in the POST body so it never appears in URLs or access logs.
            response = self.http.request(
                "POST",
                "/index.php",
                params={
                    "module": "API",
                    "method": "Live.getLastVisitsDetails",
                    "idSite": self.id_site,
                    "period": "day",
                    "date": day.isoformat(),
                    "format": "JSON",
                    "filter_limit": self.page_size,
                    "filter_offset": offset,
                },
                data={"token_auth": self.connection.token},
            )
            page = parse_json(response)
            if isinstance(page, dict) and page.get("result") == "error":
                raise SourceError(
                    f"Matomo Live.getLastVisitsDetails failed for {day}: {page.get('message')}"
                )
            yield from page
            if len(page) < self.page_size:
                return
            offset += self.page_size


def _problem(visit: dict) -> str | None:
    return validation.first_problem(
        validation.day(visit.get("serverDate"), "serverDate"),
        validation.epoch_seconds(visit.get("firstActionTimestamp"), "firstActionTimestamp"),
        validation.epoch_seconds(visit.get("lastActionTimestamp"), "lastActionTimestamp"),
    )


def extract(client: MatomoClient, window: Window) -> Iterator[Record]:
    for day, visit in client.visits_for_days(window.days()):
        visit_id = visit.get("idVisit") and str(visit["idVisit"])
        yield Record("visits", visit_id, day, visit, _problem(visit))
