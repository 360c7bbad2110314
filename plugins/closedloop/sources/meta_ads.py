"""Meta Marketing API: ``act_{id}/insights`` at campaign level, one row per day, cursor paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import requests

from ..connections import ApiConnection
from ..http_client import HttpClient
from . import Record, Window, validation

CONN_ID = "ads_meta"
DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"
FIELDS = "campaign_id,campaign_name,spend,impressions,clicks,account_currency,date_start,date_stop"
OAUTH_ERROR_CODES = {102, 190}  # Graph API: session/ token invalid or expired
# Graph API throttling (application, user, ad account and business use case limits).
THROTTLE_CODES = {4, 17, 32, 613, *range(80000, 80015)}


def _is_auth_failure(response: requests.Response) -> bool:
    """Meta reports invalid tokens as HTTP 400 with an OAuthException code 190."""
    if response.status_code != 400:
        return False
    try:
        return response.json().get("error", {}).get("code") in OAUTH_ERROR_CODES
    except ValueError:
        return False


def _is_throttled(response: requests.Response) -> bool:
    """Meta refuses over-limit calls with HTTP 400 and a throttling code (or is_transient)."""
    if response.status_code != 400:
        return False
    try:
        error = response.json().get("error", {})
    except ValueError:
        return False
    return error.get("code") in THROTTLE_CODES or error.get("is_transient") is True


def accounts(connection: ApiConnection) -> list[str]:
    """The ad accounts to read (`ad_account_ids`, or the single `ad_account_id`), without the
    `act_` prefix."""
    return [account.removeprefix("act_") for account in connection.accounts("ad_account_id")]


class MetaAdsClient:
    def __init__(
        self, connection: ApiConnection, account_id: str | None = None, page_size: int = 500
    ):
        self.account_id = account_id or accounts(connection)[0]
        self.api_version = connection.extra.get("api_version", DEFAULT_API_VERSION)
        self.page_size = page_size
        self.http = HttpClient(
            "Meta Ads",
            connection.base_url,
            connection.conn_id,
            {"Authorization": f"Bearer {connection.token}"},
            is_auth_failure=_is_auth_failure,
            is_throttled=_is_throttled,
        )

    def campaign_days(self, since: date, until: date) -> Iterator[dict]:
        """Insights rows of campaign x day between two days (both included).

        Args:
            since: first day.
            until: last day, included.
        """
        params = {
            "level": "campaign",
            "time_increment": "1",
            "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "fields": FIELDS,
            "limit": str(self.page_size),
        }
        path = f"/{self.api_version}/act_{self.account_id}/insights"
        while True:
            page = self.http.get_json(path, params=params)
            yield from page.get("data", [])
            paging = page.get("paging", {})
            after = paging.get("cursors", {}).get("after")
            if not paging.get("next") or not after:
                return
            params["after"] = after


def _problem(row: dict) -> str | None:
    return validation.first_problem(
        validation.day(row.get("date_start"), "date_start"),
        validation.amount(row.get("spend"), "spend"),
        validation.currency(row.get("account_currency"), "account_currency"),
        validation.count(row.get("impressions"), "impressions"),
        validation.count(row.get("clicks"), "clicks"),
    )


def extract(client: MetaAdsClient, window: Window) -> Iterator[Record]:
    for row in client.campaign_days(window.start, window.end - timedelta(days=1)):
        problem = _problem(row)
        day = None if problem else date.fromisoformat(row["date_start"])
        campaign_id = row.get("campaign_id")
        record_id = campaign_id and f"{campaign_id}:{day}"
        yield Record("campaign_insights", record_id, day, row, problem)
