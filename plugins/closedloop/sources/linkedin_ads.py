"""LinkedIn Marketing API: ``adAnalytics`` pivoted by campaign, daily, plus campaign names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from ..connections import ApiConnection
from ..http_client import HttpClient, SourceError
from . import Record, Window, validation

CONN_ID = "ads_linkedin"
DEFAULT_BASE_URL = "https://api.linkedin.com"
DEFAULT_LINKEDIN_VERSION = "202510"
FIELDS = "dateRange,pivotValues,costInLocalCurrency,impressions,clicks"
# adAnalytics is not paged and answers at most 15,000 rows: ask for a few weeks at a time
# (configurable with the connection extra `days_per_request` for accounts with many campaigns).
DAYS_PER_REQUEST = 28
MAX_ELEMENTS = 15_000


def _restli_date(day: date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


def accounts(connection: ApiConnection) -> list[str]:
    """The ad accounts to read (`ad_account_ids`, or the single `ad_account_id`), as ids."""
    prefix = "urn:li:sponsoredAccount:"
    return [account.removeprefix(prefix) for account in connection.accounts("ad_account_id")]


class LinkedInAdsClient:
    def __init__(self, connection: ApiConnection, account_id: str | None = None):
        self.account_id = account_id or accounts(connection)[0]
        self.days_per_request = int(connection.extra.get("days_per_request", DAYS_PER_REQUEST))
        # LinkedIn's documented cap; the simulator can serve a lower one to exercise the check.
        self.max_elements = int(connection.extra.get("max_elements", MAX_ELEMENTS))
        self.http = HttpClient(
            "LinkedIn Ads",
            connection.base_url,
            connection.conn_id,
            {
                "Authorization": f"Bearer {connection.token}",
                "LinkedIn-Version": str(
                    connection.extra.get("linkedin_version", DEFAULT_LINKEDIN_VERSION)
                ),
                "X-Restli-Protocol-Version": "2.0.0",
            },
        )

    def campaign_days(self, since: date, until: date) -> Iterator[dict]:
        """Analytics elements of campaign x day, a few weeks per request.

        Args:
            since: first day.
            until: last day, included.
        """
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=self.days_per_request - 1))
            elements = self._analytics(start, end)
            if len(elements) >= self.max_elements:
                raise SourceError(
                    f"LinkedIn Ads: adAnalytics answered {len(elements)} rows for {start} to "
                    f"{end}, its cap, so rows may be missing; lower `days_per_request` in the "
                    f"connection '{self.http.conn_id}'"
                )
            yield from elements
            start = end + timedelta(days=1)

    def _analytics(self, since: date, until: date) -> list[dict]:
        # Rest.li 2.0 syntax: the structure's parentheses stay literal, the URN inside is encoded.
        query = urlencode({"q": "analytics", "pivot": "CAMPAIGN", "timeGranularity": "DAILY"})
        query += f"&dateRange=(start:{_restli_date(since)},end:{_restli_date(until)})"
        account = quote(f"urn:li:sponsoredAccount:{self.account_id}", safe="")
        query += f"&accounts=List({account})&fields={FIELDS}"
        return self.http.get_json(f"/rest/adAnalytics?{query}").get("elements", [])

    def campaigns(self) -> Iterator[dict]:
        """The account's campaigns (id and name), following metadata.nextPageToken."""
        params = {"q": "search", "pageSize": "1000"}
        while True:
            page = self.http.get_json(
                f"/rest/adAccounts/{self.account_id}/adCampaigns", params=params
            )
            yield from page.get("elements", [])
            token = page.get("metadata", {}).get("nextPageToken")
            if not token:
                return
            params["pageToken"] = token


def extract(client: LinkedInAdsClient, window: Window) -> Iterator[Record]:
    for campaign in client.campaigns():
        yield Record("campaigns", campaign.get("id") and str(campaign["id"]), None, campaign)
    for row in client.campaign_days(window.start, window.end - timedelta(days=1)):
        day = _day(row)
        urn = (row.get("pivotValues") or [None])[0]
        problem = validation.first_problem(
            None if day else f"dateRange.start is not a date: {row.get('dateRange')!r}",
            validation.amount(row.get("costInLocalCurrency"), "costInLocalCurrency"),
            validation.count(row.get("impressions"), "impressions"),
            validation.count(row.get("clicks"), "clicks"),
        )
        record_id = urn and f"{urn.rsplit(':', 1)[-1]}:{day}"
        yield Record("campaign_analytics", record_id, day, row, problem)


def _day(row: dict) -> date | None:
    start = row.get("dateRange", {}).get("start", {})
    try:
        return date(start["year"], start["month"], start["day"])
    except (KeyError, TypeError, ValueError):
        return None
