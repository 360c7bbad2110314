"""Google Ads API (REST): campaign x day performance through ``googleAds:search`` with GAQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ..connections import ApiConnection
from ..http_client import HttpClient, parse_json
from . import Record, Window, validation

CONN_ID = "ads_google"
DEFAULT_BASE_URL = "https://googleads.googleapis.com"
DEFAULT_API_VERSION = "v21"

CAMPAIGN_DAY_QUERY = (
    "SELECT campaign.id, campaign.name, segments.date, metrics.cost_micros, "
    "metrics.impressions, metrics.clicks FROM campaign "
    "WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


def accounts(connection: ApiConnection) -> list[str]:
    """The customer ids to read (`customer_ids`, or the single `customer_id`), without dashes."""
    return [customer_id.replace("-", "") for customer_id in connection.accounts("customer_id")]


class GoogleAdsClient:
    def __init__(self, connection: ApiConnection, customer_id: str | None = None):
        self.customer_id = customer_id or accounts(connection)[0]
        self.api_version = connection.extra.get("api_version", DEFAULT_API_VERSION)
        headers = {
            "Authorization": f"Bearer {connection.token}",
            "developer-token": connection.require("developer_token"),
        }
        if connection.extra.get("login_customer_id"):
            headers["login-customer-id"] = str(connection.extra["login_customer_id"]).replace(
                "-", ""
            )
        self.http = HttpClient("Google Ads", connection.base_url, connection.conn_id, headers)

    def campaign_days(self, since: date, until: date) -> Iterator[dict]:
        """Rows of campaign x day between two days (both included), following nextPageToken.

        Args:
            since: first day.
            until: last day, included (GAQL BETWEEN is inclusive).
        """
        path = f"/{self.api_version}/customers/{self.customer_id}/googleAds:search"
        body: dict[str, str] = {"query": CAMPAIGN_DAY_QUERY.format(since=since, until=until)}
        while True:
            page = parse_json(self.http.post_json(path, body))
            yield from page.get("results", [])
            token = page.get("nextPageToken")
            if not token:
                return
            body["pageToken"] = token


def _problem(row: dict) -> str | None:
    metrics = row.get("metrics", {})
    return validation.first_problem(
        validation.day(row.get("segments", {}).get("date"), "segments.date"),
        validation.amount(metrics.get("costMicros"), "metrics.costMicros"),
        validation.count(metrics.get("impressions"), "metrics.impressions"),
        validation.count(metrics.get("clicks"), "metrics.clicks"),
    )


def extract(client: GoogleAdsClient, window: Window) -> Iterator[Record]:
    for row in client.campaign_days(window.start, window.end - timedelta(days=1)):
        problem = _problem(row)
        day = None if problem else date.fromisoformat(row["segments"]["date"])
        campaign_id = str(row.get("campaign", {}).get("id", "")) or None
        record_id = f"{campaign_id}:{day}" if campaign_id else None
        yield Record("campaign_stats", record_id, day, row, problem)
