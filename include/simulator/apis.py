"""Each vendor API's documented request and response shapes, rendered from the World.

Every handler takes the parsed request and returns (status, headers, body). Auth is enforced the
way each vendor does it, errors come back in each vendor's own error body.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from .faults import DRIFT_PROPERTY, Faults
from .world import Contact, Deal, World

Response = tuple[int, dict[str, str], Any]

# The HubSpot-defined properties the simulated portal fills in (custom ones are listed apart).
STANDARD_PROPERTIES = {
    "contacts": (
        "email",
        "firstname",
        "lastname",
        "company",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
        "lifecyclestage",
        "associatedcompanyid",
        "hs_lead_status",
        "jobtitle",
        "hs_lifecyclestage_lead_date",
        "hs_lifecyclestage_marketingqualifiedlead_date",
        "hs_lifecyclestage_salesqualifiedlead_date",
    ),
    "companies": (
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    ),
    "deals": (
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "createdate",
        "closedate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "deal_currency_code",
        "closed_lost_reason",
    ),
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if value.startswith(scheme):
                return value[len(scheme) :]
        return None


def iso_ms(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


@dataclass
class Settings:
    token: str
    google_page_size: int = 10_000
    hubspot_list_max: int = 100
    hubspot_search_max: int = 200
    hubspot_search_cap: int = 10_000
    # HubSpot's rolling limit for a private app: requests per window (None: unlimited).
    hubspot_rate_limit: int | None = None
    hubspot_rate_window_seconds: float = 10.0
    linkedin_max_elements: int = 15_000  # adAnalytics answers at most this many, unpaged
    faults: Faults | None = None


@dataclass
class CrmState:
    """What the CRM holds beyond the generated world: properties and values written by clients."""

    custom_properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_values: dict[str, dict[str, str]] = field(default_factory=dict)
    contact_modified: dict[str, datetime] = field(default_factory=dict)
    batch_update_calls: int = 0
    rate_limited: int = 0
    request_times: list[float] = field(default_factory=list)
    records_written: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Apis:
    def __init__(self, world: World, settings: Settings):
        self.world = world
        self.settings = settings
        self.crm = CrmState()
        self._spend = self._daily_spend()
        # Indexes so that each call costs what its answer costs, not the size of the world.
        self._visits_by_day: dict[date, list] = {}
        for visit in world.visits:
            self._visits_by_day.setdefault(visit.ended_at.date(), []).append(visit)
        for visits in self._visits_by_day.values():
            visits.sort(key=lambda v: v.ended_at, reverse=True)  # Live API: newest first

    # ---- shared ----------------------------------------------------------------------
    def _daily_spend(self) -> dict[tuple[str, date], tuple[float, int, int]]:
        """Spend, impressions and clicks per campaign and day, deterministic for the seed."""
        import random

        rng = random.Random(self.world.seed * 7919)
        clicks_by_key: dict[tuple[str, date], int] = {}
        for visit in self.world.visits:
            if visit.campaign is not None:
                key = (visit.campaign.campaign_id, visit.started_at.date())
                clicks_by_key[key] = clicks_by_key.get(key, 0) + 1
        spend = {}
        for campaign in self.world.campaigns:
            for day in _days(self.world.start.date(), self.world.end.date() - timedelta(days=1)):
                cost = round(campaign.daily_budget * rng.uniform(0.6, 1.1), 2)
                clicks = clicks_by_key.get((campaign.campaign_id, day), 0) + rng.randint(0, 12)
                impressions = clicks * rng.randint(20, 80) + rng.randint(100, 900)
                spend[(campaign.campaign_id, day)] = (cost, impressions, clicks)
        return spend

    def _campaigns(self, platform: str, account_id: str) -> list:
        return [
            c for c in self.world.campaigns if c.platform == platform and c.account_id == account_id
        ]

    def _campaign_days(self, platform: str, account_id: str, since: date, until: date):
        last = min(until, self.world.end.date() - timedelta(days=1))
        for campaign in self._campaigns(platform, account_id):
            for day in _days(max(since, self.world.start.date()), last):
                yield campaign, day, self._spend[(campaign.campaign_id, day)]

    # ---- Matomo ----------------------------------------------------------------------
    def matomo(self, request: Request) -> Response:
        params = dict(request.query)
        if request.method == "POST":
            from urllib.parse import parse_qsl

            params.update(dict(parse_qsl(request.body.decode())))
        if params.get("token_auth") != self.settings.token:
            # Matomo answers auth problems with HTTP 200 (or 401 in newer versions) and this body.
            return (
                401,
                {},
                {
                    "result": "error",
                    "message": "You can't access this resource as it requires 'view' access "
                    "for the website id = 1.",
                },
            )
        if params.get("module") != "API" or params.get("method") != "Live.getLastVisitsDetails":
            return 200, {}, {"result": "error", "message": "The method does not exist."}
        if params.get("period") != "day":
            return 200, {}, {"result": "error", "message": "Only period=day is served here."}
        try:
            day = date.fromisoformat(params["date"])
        except (KeyError, ValueError):
            return 200, {}, {"result": "error", "message": "The date is not valid."}
        limit = int(params.get("filter_limit", 100))
        offset = int(params.get("filter_offset", 0))
        visits = self._visits_by_day.get(day, [])
        page = visits if limit < 0 else visits[offset : offset + limit]
        return 200, {}, [self._matomo_visit(v) for v in page]

    @staticmethod
    def _matomo_visit(visit) -> dict[str, Any]:
        referrer_type, referrer_name, referrer_url = visit.referrer
        campaign_name, campaign_source, campaign_medium = visit.utm
        step = (visit.ended_at - visit.started_at) / max(1, len(visit.pages))
        actions = [
            {
                "type": "action",
                "url": f"https://www.closedloop-demo.example{page}",
                "pageTitle": page.strip("/").title() or "Home",
                "timestamp": int((visit.started_at + step * n).timestamp()),
                "idpageview": f"{visit.visit_id:06x}{n}",
            }
            for n, page in enumerate(visit.pages)
        ]
        return {
            "idSite": "1",
            "idVisit": str(visit.visit_id),
            "visitorId": visit.visitor_id,
            "userId": visit.user_id,
            "serverDate": visit.ended_at.date().isoformat(),
            "serverTimestamp": int(visit.ended_at.timestamp()),
            "firstActionTimestamp": int(visit.started_at.timestamp()),
            "lastActionTimestamp": int(visit.ended_at.timestamp()),
            "visitDuration": str(int((visit.ended_at - visit.started_at).total_seconds())),
            "actions": str(len(actions)),
            "referrerType": referrer_type,
            "referrerName": referrer_name,
            "referrerUrl": referrer_url,
            "referrerKeyword": "",
            "campaignId": visit.campaign.campaign_id if visit.campaign else "",
            "campaignName": campaign_name,
            "campaignSource": campaign_source,
            "campaignMedium": campaign_medium,
            "campaignKeyword": "",
            "campaignContent": "",
            "actionDetails": actions,
        }

    # ---- Google Ads ------------------------------------------------------------------
    def google_ads_search(self, request: Request, customer_id: str) -> Response:
        def error(code: int, status: str, message: str) -> Response:
            return code, {}, {"error": {"code": code, "message": message, "status": status}}

        if request.bearer() != self.settings.token or not request.headers.get("developer-token"):
            return error(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
            )
        body = request.json()
        query = " ".join(str(body.get("query", "")).split())
        match = re.search(
            r"segments\.date BETWEEN '(\d{4}-\d\d-\d\d)' AND '(\d{4}-\d\d-\d\d)'", query
        )
        if not re.search(r"\bFROM campaign\b", query) or not match:
            return error(
                400, "INVALID_ARGUMENT", "Only campaign queries over a date range are served."
            )
        since, until = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        if customer_id not in self.world.ad_accounts["google_ads"]:
            return error(
                403,
                "PERMISSION_DENIED",
                "User doesn't have permission to access customer. Note: If you're accessing a "
                "client customer, the manager's customer id must be set in the "
                "'login-customer-id' header.",
            )
        rows = [
            {
                "campaign": {
                    "resourceName": f"customers/{customer_id}/campaigns/{c.campaign_id}",
                    "id": c.campaign_id,
                    "name": c.name,
                },
                "segments": {"date": day.isoformat()},
                "metrics": {
                    "costMicros": str(round(cost * 1_000_000)),
                    "impressions": str(impressions),
                    "clicks": str(clicks),
                },
            }
            for c, day, (cost, impressions, clicks) in self._campaign_days(
                "google_ads", customer_id, since, until
            )
        ]
        offset = int(body.get("pageToken") or 0)
        size = self.settings.google_page_size
        page: dict[str, Any] = {
            "results": rows[offset : offset + size],
            "fieldMask": "campaign.id,campaign.name,segments.date,metrics.costMicros,"
            "metrics.impressions,metrics.clicks",
        }
        if offset + size < len(rows):
            page["nextPageToken"] = str(offset + size)
        return 200, {}, page

    # ---- Meta ------------------------------------------------------------------------
    def meta_insights(self, request: Request, account_id: str) -> Response:
        token = request.bearer() or request.query.get("access_token")
        if token != self.settings.token:
            # Meta answers an invalid token with HTTP 400 and OAuthException code 190.
            return (
                400,
                {},
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AsimFbtrace",
                    }
                },
            )
        q = request.query
        if q.get("level") != "campaign" or q.get("time_increment") != "1":
            return (
                400,
                {},
                {
                    "error": {
                        "message": "(#100) level=campaign and time_increment=1 expected",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
            )
        if account_id not in self.world.ad_accounts["meta_ads"]:
            return (
                400,
                {},
                {
                    "error": {
                        "message": f"Unsupported get request. Object with ID 'act_{account_id}' "
                        "does not exist, cannot be loaded due to missing permissions, or does "
                        "not support this operation.",
                        "type": "GraphMethodException",
                        "code": 100,
                        "error_subcode": 33,
                        "fbtrace_id": "AsimFbtrace",
                    }
                },
            )
        time_range = json.loads(q["time_range"])
        since, until = (
            date.fromisoformat(time_range["since"]),
            date.fromisoformat(time_range["until"]),
        )
        rows = [
            {
                "account_id": account_id,
                "campaign_id": c.campaign_id,
                "campaign_name": c.name,
                "spend": f"{cost:.2f}",
                "impressions": str(impressions),
                "clicks": str(clicks),
                "date_start": day.isoformat(),
                "date_stop": day.isoformat(),
                "account_currency": "USD",
            }
            for c, day, (cost, impressions, clicks) in self._campaign_days(
                "meta_ads", account_id, since, until
            )
        ]
        limit = min(int(q.get("limit", 25)), 500)
        offset = int(q["after"]) if q.get("after") else 0
        page = rows[offset : offset + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": str(offset), "after": str(offset + len(page))}
        }
        if offset + limit < len(rows):
            paging["next"] = f"/insights?after={offset + len(page)}"
        return 200, {}, {"data": page, "paging": paging}

    # ---- LinkedIn --------------------------------------------------------------------
    def _linkedin_auth(self, request: Request) -> Response | None:
        if request.bearer() != self.settings.token:
            return (
                401,
                {},
                {
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
            )
        if not request.headers.get("linkedin-version"):
            return (
                426,
                {},
                {
                    "status": 426,
                    "code": "NONEXISTENT_VERSION",
                    "message": "A version must be present. Please specify a version by "
                    "adding the LinkedIn-Version header.",
                },
            )
        return None

    def _linkedin_no_access(self, account_id: str) -> Response:
        return (
            403,
            {},
            {
                "status": 403,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": f"Not enough permissions to access: sponsoredAccount {account_id}",
            },
        )

    def linkedin_ad_analytics(self, request: Request) -> Response:
        if (denied := self._linkedin_auth(request)) is not None:
            return denied
        q = request.query
        if (
            q.get("q") != "analytics"
            or q.get("pivot") != "CAMPAIGN"
            or q.get("timeGranularity") != "DAILY"
        ):
            return (
                400,
                {},
                {
                    "status": 400,
                    "code": "ILLEGAL_ARGUMENT",
                    "message": "q=analytics, pivot=CAMPAIGN and timeGranularity=DAILY expected",
                },
            )
        match = re.fullmatch(
            r"\(start:\(year:(\d+),month:(\d+),day:(\d+)\),end:\(year:(\d+),month:(\d+),day:(\d+)\)\)",
            q.get("dateRange", ""),
        )
        if not match or not q.get("accounts", "").startswith("List("):
            return (
                400,
                {},
                {
                    "status": 400,
                    "code": "ILLEGAL_ARGUMENT",
                    "message": "Invalid value for param dateRange or accounts",
                },
            )
        n = [int(x) for x in match.groups()]
        since, until = date(n[0], n[1], n[2]), date(n[3], n[4], n[5])
        accounts = re.findall(r"urn:li:sponsoredAccount:(\d+)", unquote(q["accounts"]))
        if unknown := [a for a in accounts if a not in self.world.ad_accounts["linkedin_ads"]]:
            return self._linkedin_no_access(unknown[0])
        elements = []
        for account in accounts:
            for c, day, (cost, impressions, clicks) in self._campaign_days(
                "linkedin_ads", account, since, until
            ):
                part = {"year": day.year, "month": day.month, "day": day.day}
                elements.append(
                    {
                        "pivotValues": [f"urn:li:sponsoredCampaign:{c.campaign_id}"],
                        "dateRange": {"start": part, "end": part},
                        "costInLocalCurrency": f"{cost:.2f}",
                        "impressions": impressions,
                        "clicks": clicks,
                    }
                )
        # Not paged: a request over more rows than the cap gets the first rows only.
        elements = elements[: self.settings.linkedin_max_elements]
        return 200, {}, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}

    def linkedin_campaigns(self, request: Request, account_id: str) -> Response:
        if (denied := self._linkedin_auth(request)) is not None:
            return denied
        if account_id not in self.world.ad_accounts["linkedin_ads"]:
            return self._linkedin_no_access(account_id)
        campaigns = self._campaigns("linkedin_ads", account_id)
        size = min(int(request.query.get("pageSize", 100)), 1000)
        offset = int(request.query.get("pageToken") or 0)
        page = campaigns[offset : offset + size]
        metadata = {"nextPageToken": str(offset + size)} if offset + size < len(campaigns) else {}
        return (
            200,
            {},
            {
                "elements": [
                    {
                        "id": int(c.campaign_id),
                        "name": c.name,
                        "status": "ACTIVE",
                        "account": f"urn:li:sponsoredAccount:{account_id}",
                    }
                    for c in page
                ],
                "metadata": metadata,
            },
        )

    # ---- HubSpot ---------------------------------------------------------------------
    def _hubspot_error(self, status: int, category: str, message: str) -> Response:
        return (
            status,
            {},
            {
                "status": "error",
                "message": message,
                "correlationId": "00000000-sim0-0000-0000-000000000000",
                "category": category,
            },
        )

    def hubspot(self, request: Request, path: str) -> Response:
        if request.bearer() != self.settings.token:
            return self._hubspot_error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                "and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        if (limited := self._hubspot_rate_limit()) is not None:
            return limited
        parts = path.strip("/").split("/")
        headers = self._hubspot_rate_headers()
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4 and request.method == "GET":
            status, _, body = self._hubspot_list(parts[3], request.query)
        elif (
            parts[:3] == ["crm", "v3", "objects"]
            and parts[4:] == ["search"]
            and request.method == "POST"
        ):
            status, _, body = self._hubspot_search(parts[3], request.json())
        elif parts[:3] == ["crm", "v3", "objects"] and parts[3:] == ["contacts", "batch", "update"]:
            status, _, body = self._hubspot_batch_update(request.json())
        elif parts == ["crm", "v3", "pipelines", "deals"]:
            status, _, body = self._hubspot_pipelines()
        elif parts[:4] == ["crm", "v3", "properties", "contacts"] and len(parts) == 5:
            prop = self.crm.custom_properties.get(parts[4])
            status, body = (
                (200, prop)
                if prop
                else self._hubspot_error(
                    404, "OBJECT_NOT_FOUND", f"Unable to find property {parts[4]}"
                )[::2]
            )
        elif (
            parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and request.method == "GET"
        ):
            status, _, body = self._hubspot_properties(parts[3])
        elif parts == ["crm", "v3", "properties", "contacts"] and request.method == "POST":
            status, _, body = self._hubspot_create_property(request.json())
        else:
            status, _, body = self._hubspot_error(404, "OBJECT_NOT_FOUND", f"No route for {path}")
        return status, headers, body

    def _hubspot_rate_headers(self) -> dict[str, str]:
        limit = self.settings.hubspot_rate_limit or 190
        window = self.settings.hubspot_rate_window_seconds
        remaining = max(0, limit - len(self.crm.request_times))
        return {
            "X-HubSpot-RateLimit-Max": str(limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(window * 1000)),
        }

    def _hubspot_rate_limit(self) -> Response | None:
        """A 429 like HubSpot's when the rolling window is full; None when the call may pass."""
        limit = self.settings.hubspot_rate_limit
        if limit is None:
            return None
        window = self.settings.hubspot_rate_window_seconds
        with self.crm.lock:
            now = time.monotonic()
            self.crm.request_times = [t for t in self.crm.request_times if now - t < window]
            if len(self.crm.request_times) >= limit:
                self.crm.rate_limited += 1
                retry = window - (now - self.crm.request_times[0])
                return (
                    429,
                    {**self._hubspot_rate_headers(), "Retry-After": f"{retry:.3f}"},
                    {
                        "status": "error",
                        "errorType": "RATE_LIMIT",
                        "message": "You have reached your ten_secondly_rolling limit.",
                        "policyName": "TEN_SECONDLY_ROLLING",
                        "correlationId": "00000000-sim0-0000-0000-000000000000",
                    },
                )
            self.crm.request_times.append(now)
        return None

    def _contact_modified(self, contact: Contact) -> datetime:
        deals = self.world.deals_by_contact.get(contact.contact_id, [])
        closed = [d.closed_at for d in deals if d.closed_at is not None]
        modified = max([contact.created_at, *closed])
        if contact.archived_at is not None:
            modified = max(modified, contact.archived_at)
        return max(modified, self.crm.contact_modified.get(contact.contact_id, modified))

    def _contact_record(self, contact: Contact, properties: list[str]) -> dict[str, Any]:
        won = any(
            d.stage == "closedwon" for d in self.world.deals_by_contact.get(contact.contact_id, [])
        )
        modified = self._contact_modified(contact)
        values = {
            "email": contact.email,
            "firstname": contact.firstname,
            "lastname": contact.lastname,
            "company": contact.company.name,
            "createdate": iso_ms(contact.created_at),
            "lastmodifieddate": iso_ms(modified),
            "hs_object_id": contact.contact_id,
            "lifecyclestage": "customer" if won else "lead",
            "associatedcompanyid": contact.company.company_id,
            "hs_lead_status": contact.lead_status,
            "disqualification_reason": contact.disqualification_reason,
            "hs_lifecyclestage_lead_date": iso_ms(contact.created_at),
            "hs_lifecyclestage_marketingqualifiedlead_date": contact.mql_at
            and iso_ms(contact.mql_at),
            "hs_lifecyclestage_salesqualifiedlead_date": contact.sql_at and iso_ms(contact.sql_at),
            **self._drifted_values(contact.contact_id),
            **self.crm.contact_values.get(contact.contact_id, {}),
        }
        return _object(
            contact.contact_id, values, properties, contact.created_at, modified, contact
        )

    def _drifted_values(self, object_id: str) -> dict[str, str]:
        faults = self.settings.faults
        if faults is None or not faults.schema_drift:
            return {}
        return {DRIFT_PROPERTY: ("teal", "amber", "plum")[int(object_id) % 3]}

    def _company_record(self, company, properties: list[str]) -> dict[str, Any]:
        values = {
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry.upper(),
            "numberofemployees": str(company.employees),
            "createdate": iso_ms(company.created_at),
            "hs_lastmodifieddate": iso_ms(company.created_at),
            "hs_object_id": company.company_id,
        }
        return _object(
            company.company_id, values, properties, company.created_at, company.created_at
        )

    def _deal_record(
        self, deal: Deal, properties: list[str], with_contacts: bool
    ) -> dict[str, Any]:
        values = {
            "dealname": deal.name,
            "amount": f"{deal.amount:.2f}",
            "dealstage": deal.stage,
            "pipeline": "default",
            "createdate": iso_ms(deal.created_at),
            "closedate": iso_ms(deal.closed_at) if deal.closed_at else None,
            "hs_lastmodifieddate": iso_ms(deal.modified_at),
            "hs_object_id": deal.deal_id,
            "deal_currency_code": "USD",
            "closed_lost_reason": deal.closed_lost_reason,
        }
        record = _object(deal.deal_id, values, properties, deal.created_at, deal.modified_at, deal)
        if with_contacts:
            record["associations"] = {
                "contacts": {
                    "results": [{"id": cid, "type": "deal_to_contact"} for cid in deal.contact_ids]
                }
            }
        return record

    def _objects(self, object_type: str, archived: bool = False) -> list | None:
        """The objects of a type, live or archived (deleted), in id order."""
        if object_type == "contacts":
            return self.world.archived_contacts if archived else self.world.contacts
        if object_type == "companies":
            return [] if archived else self.world.companies
        if object_type == "deals":
            return self.world.archived_deals if archived else self.world.deals
        return None

    def _modified(self, object_type: str, obj) -> datetime:
        if object_type == "contacts":
            return self._contact_modified(obj)
        return obj.created_at if object_type == "companies" else obj.modified_at

    def _render(self, object_type: str, obj, properties: list[str], associations: list[str]):
        if object_type == "contacts":
            return self._contact_record(obj, properties)
        if object_type == "companies":
            return self._company_record(obj, properties)
        return self._deal_record(obj, properties, "contacts" in associations)

    def _hubspot_list(self, object_type: str, query: dict[str, str]) -> Response:
        properties = [p for p in query.get("properties", "").split(",") if p]
        associations = [a for a in query.get("associations", "").split(",") if a]
        records = self._objects(object_type, query.get("archived", "false").lower() == "true")
        if records is None:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", f"Unknown object type {object_type}"
            )
        limit = min(int(query.get("limit", 10)), self.settings.hubspot_list_max)
        after = int(query.get("after") or 0)
        page = [
            self._render(object_type, obj, properties, associations)
            for obj in records[after : after + limit]
        ]
        body: dict[str, Any] = {"results": page}
        if after + limit < len(records):
            body["paging"] = {
                "next": {"after": str(after + limit), "link": f"?after={after + limit}"}
            }
        return 200, {}, body

    def _hubspot_search(self, object_type: str, body: dict[str, Any]) -> Response:
        properties = body.get("properties", [])
        records = self._objects(object_type)  # search never finds archived objects
        if records is None:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", f"Unknown object type {object_type}"
            )
        modified_property = (
            "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        )
        selected = []
        for obj in records:
            modified = self._modified(object_type, obj)
            keep = True
            for group in body.get("filterGroups", []) or [{"filters": []}]:
                for f in group.get("filters", []):
                    if f["propertyName"] != modified_property:
                        return self._hubspot_error(
                            400,
                            "VALIDATION_ERROR",
                            f"Filtering on {f['propertyName']} is not served",
                        )
                    value = datetime.fromtimestamp(int(f["value"]) / 1000, UTC)
                    keep &= {
                        "GTE": modified >= value,
                        "GT": modified > value,
                        "LT": modified < value,
                        "LTE": modified <= value,
                    }[f["operator"]]
            if keep:
                selected.append((modified, obj))
        selected.sort(key=lambda item: (item[0], int(_object_id(item[1]))))
        limit = min(int(body.get("limit", 10)), self.settings.hubspot_search_max)
        after = int(body.get("after") or 0)
        if after >= self.settings.hubspot_search_cap:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", "Paging over 10000 results of a search is not allowed."
            )
        page = [
            self._render(object_type, obj, properties, [])
            for _, obj in selected[after : after + limit]
        ]
        result: dict[str, Any] = {"total": len(selected), "results": page}
        if after + limit < len(selected):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return 200, {}, result

    def _hubspot_pipelines(self) -> Response:
        labels = {
            "appointmentscheduled": ("Appointment Scheduled", "0.2"),
            "qualifiedtobuy": ("Qualified To Buy", "0.4"),
            "presentationscheduled": ("Presentation Scheduled", "0.6"),
            "decisionmakerboughtin": ("Decision Maker Bought-In", "0.8"),
            "contractsent": ("Contract Sent", "0.9"),
            "closedwon": ("Closed Won", "1.0"),
            "closedlost": ("Closed Lost", "0.0"),
        }
        stages = [
            {
                "id": sid,
                "label": label,
                "displayOrder": order,
                "archived": False,
                "metadata": {
                    "isClosed": str(sid.startswith("closed")).lower(),
                    "probability": prob,
                },
            }
            for order, (sid, (label, prob)) in enumerate(labels.items())
        ]
        return (
            200,
            {},
            {
                "results": [
                    {
                        "id": "default",
                        "label": "Sales Pipeline",
                        "displayOrder": 0,
                        "archived": False,
                        "stages": stages,
                    }
                ]
            },
        )

    def _hubspot_properties(self, object_type: str) -> Response:
        """GET /crm/v3/properties/{objectType}: every property the portal defines."""
        if object_type not in STANDARD_PROPERTIES:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", f"Unknown object type {object_type}"
            )

        def definition(name: str, hubspot_defined: bool) -> dict[str, Any]:
            return {
                "name": name,
                "label": name.replace("_", " ").title(),
                "type": "string",
                "fieldType": "text",
                "groupName": f"{object_type[:-1]}information",
                "hubspotDefined": hubspot_defined,
            }

        results = [definition(name, True) for name in STANDARD_PROPERTIES[object_type]]
        if object_type == "contacts":
            results.append(definition("disqualification_reason", False))
            if self.settings.faults is not None and self.settings.faults.schema_drift:
                results.append(definition(DRIFT_PROPERTY, False))
            results.extend(
                {**definition(name, False), **prop}
                for name, prop in sorted(self.crm.custom_properties.items())
            )
        return 200, {}, {"results": results}

    def _hubspot_create_property(self, body: dict[str, Any]) -> Response:
        name = body.get("name", "")
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", f"Missing required fields: {missing}"
            )
        with self.crm.lock:
            if name in self.crm.custom_properties:
                return self._hubspot_error(
                    409, "OBJECT_ALREADY_EXISTS", f"A property named '{name}' already exists."
                )
            self.crm.custom_properties[name] = {**body, "hubspotDefined": False}
        return 201, {}, self.crm.custom_properties[name]

    def _hubspot_batch_update(self, body: dict[str, Any]) -> Response:
        inputs = body.get("inputs", [])
        if len(inputs) > 100:
            return self._hubspot_error(
                400, "VALIDATION_ERROR", "Batch size exceeds the maximum of 100 inputs."
            )
        known = self.world.contacts_by_id
        results, errors = [], []
        now = datetime.now(UTC)
        with self.crm.lock:
            self.crm.batch_update_calls += 1
            for item in inputs:
                unknown = [
                    p
                    for p in item.get("properties", {})
                    if p not in self.crm.custom_properties
                    and p not in ("email", "firstname", "lastname")
                ]
                if unknown:
                    return self._hubspot_error(
                        400,
                        "VALIDATION_ERROR",
                        f"Property values were not valid: {unknown} do not exist",
                    )
                contact = known.get(str(item.get("id")))
                if contact is None:
                    errors.append(
                        {
                            "status": "error",
                            "category": "OBJECT_NOT_FOUND",
                            "message": "Could not get some CONTACT objects, they may be "
                            "deleted or not exist. Check that ids are valid.",
                            "context": {"ids": [str(item.get("id"))]},
                        }
                    )
                    continue
                self.crm.contact_values.setdefault(contact.contact_id, {}).update(
                    item["properties"]
                )
                self.crm.contact_modified[contact.contact_id] = now
                self.crm.records_written += 1
                results.append(self._contact_record(contact, list(item["properties"])))
        body_out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": iso_ms(now),
            "completedAt": iso_ms(now),
        }
        if errors:
            body_out["errors"] = errors
            body_out["numErrors"] = len(errors)
            return 207, {}, body_out
        return 200, {}, body_out

    def sales_view(self) -> list[dict[str, Any]]:
        """What sales see in the CRM: every contact with the scores written to it."""
        return [
            {"id": c.contact_id, "email": c.email, **self.crm.contact_values.get(c.contact_id, {})}
            for c in self.world.contacts
        ]


def _object_id(obj) -> str:
    return getattr(obj, "contact_id", None) or getattr(obj, "company_id", None) or obj.deal_id


def _object(
    object_id: str,
    values: dict[str, Any],
    properties: list[str],
    created_at: datetime,
    updated_at: datetime,
    source: Contact | Deal | None = None,
) -> dict[str, Any]:
    """A CRM v3 object: the requested properties (null when unset) and its bookkeeping."""
    archived_at = getattr(source, "archived_at", None)
    record: dict[str, Any] = {
        "id": object_id,
        "properties": {p: values.get(p) for p in properties},
        "createdAt": iso_ms(created_at),
        "updatedAt": iso_ms(max(updated_at, archived_at) if archived_at else updated_at),
        "archived": archived_at is not None,
    }
    if archived_at is not None:
        record["archivedAt"] = iso_ms(archived_at)
    return record
