"""LinkedIn Marketing API: ``adAnalytics`` pivoted by campaign, daily, plus campaign names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from ..connections import ApiConnection
from ..http_client import HttpClient
from . import Record, Window

CONN_ID = "ads_linkedin"
DEFAULT_BASE_URL = "https://api.linkedin.com"
DEFAULT_LINKEDIN_VERSION = "202510"
FIELDS = "dateRange,pivotValues,costInLocalCurrency,impressions,clicks"


def _restli_date(day: date) -> str:
    return f"(year:{day.year},month:{day.month},day:{day.day})"


class LinkedInAdsClient:
    def __init__(self, connection: ApiConnection):
        self.account_id = connection.require("ad_account_id")
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
        """Analytics elements of campaign x day; adAnalytics is not paged (up to 15,000 rows).

        Args:
            since: first day.
            until: last day, included.
        """
        # Rest.li 2.0 syntax: the structure's parentheses stay literal, the URN inside is encoded.
        query = urlencode({"q": "analytics", "pivot": "CAMPAIGN", "timeGranularity": "DAILY"})
        query += f"&dateRange=(start:{_restli_date(since)},end:{_restli_date(until)})"
        account = quote(f"urn:li:sponsoredAccount:{self.account_id}", safe="")
        query += f"&accounts=List({account})&fields={FIELDS}"
        yield from self.http.get_json(f"/rest/adAnalytics?{query}").get("elements", [])

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
        start = row["dateRange"]["start"]
        day = date(start["year"], start["month"], start["day"])
        urn = (row.get("pivotValues") or [None])[0]
        yield Record("campaign_analytics", urn and f"{urn.rsplit(':', 1)[-1]}:{day}", day, row)
