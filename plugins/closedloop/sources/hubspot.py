"""HubSpot CRM v3: contacts, companies, deals with their contacts, deal pipelines; and the
write side the reverse ETL needs (contact properties and batch updates)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ..connections import ApiConnection
from ..http_client import HttpClient, RateLimiter, SourceError, parse_json
from . import Record, validation

CONN_ID = "crm_hubspot"
DEFAULT_BASE_URL = "https://api.hubapi.com"
LIST_PAGE_SIZE = 100  # the v3 list endpoints' maximum
SEARCH_PAGE_SIZE = 200  # the search endpoint's maximum
SEARCH_RESULT_CAP = 10_000  # search refuses to page past this many results per query
BATCH_LIMIT = 100
WRITTEN_PROPERTY_PREFIX = "closedloop_"
RATE_LIMIT_PER_10_SECONDS = 100

PROPERTIES = {
    "contacts": [
        "email",
        "firstname",
        "lastname",
        "company",
        "createdate",
        "lastmodifieddate",
        "lifecyclestage",
        "hs_lead_status",
        "associatedcompanyid",
        "jobtitle",
        "hs_lifecyclestage_lead_date",
        "hs_lifecyclestage_marketingqualifiedlead_date",
        "hs_lifecyclestage_salesqualifiedlead_date",
        # A custom property many portals keep for why sales disqualified a lead; HubSpot
        # answers null for properties a portal does not have.
        "disqualification_reason",
    ],
    "companies": [
        "name",
        "domain",
        "industry",
        "numberofemployees",
        "createdate",
        "hs_lastmodifieddate",
    ],
    "deals": [
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "createdate",
        "closedate",
        "hs_lastmodifieddate",
        "deal_currency_code",
        "closed_lost_reason",
    ],
}
# Contacts keep their modification time under a different name than other objects.
MODIFIED_PROPERTY = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
}


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class HubSpotClient:
    def __init__(self, connection: ApiConnection):
        # Private apps may send 100 (Free/Starter) to 190 (Pro/Enterprise) requests per rolling
        # 10 seconds; the connection's extra says which (default the lower one).
        limit = int(connection.extra.get("requests_per_10_seconds", RATE_LIMIT_PER_10_SECONDS))
        self.http = HttpClient(
            "HubSpot CRM",
            connection.base_url,
            connection.conn_id,
            {"Authorization": f"Bearer {connection.token}"},
            rate_limiter=RateLimiter(limit, float(connection.extra.get("rate_window_seconds", 10))),
        )

        self._properties: dict[str, list[str]] = {}
        # HubSpot's documented cap; the simulator can serve a lower one to exercise splitting.
        self.search_result_cap = int(connection.extra.get("search_result_cap", SEARCH_RESULT_CAP))

    # ---- reading ---------------------------------------------------------------------
    def properties(self, object_type: str) -> list[str]:
        """The properties to read: the ones the pipeline uses, and every custom property the
        portal defines, so a property added in the CRM reaches raw without a code change."""
        if object_type not in self._properties:
            defined = self.http.get_json(f"/crm/v3/properties/{object_type}").get("results", [])
            custom = sorted(
                p["name"]
                for p in defined
                if p.get("name")
                and not p.get("hubspotDefined")
                # The score's own properties are this pipeline's output, not a source: reading
                # them back would make every rerun after a push look like new data.
                and not p["name"].startswith(WRITTEN_PROPERTY_PREFIX)
            )
            known = PROPERTIES[object_type]
            self._properties[object_type] = known + [p for p in custom if p not in known]
        return self._properties[object_type]

    def list_objects(
        self, object_type: str, associations: list[str] | None = None, archived: bool = False
    ) -> Iterator[dict]:
        """Every object of a type through GET /crm/v3/objects/{type}, following paging.next.after.

        Args:
            object_type: contacts, companies or deals.
            associations: object types whose associated ids to include.
            archived: list the archived (deleted) objects instead of the live ones.
        """
        params: dict[str, str] = {
            "limit": str(LIST_PAGE_SIZE),
            "properties": ",".join(self.properties(object_type)),
            "archived": str(archived).lower(),
        }
        if associations:
            params["associations"] = ",".join(associations)
        while True:
            page = self.http.get_json(f"/crm/v3/objects/{object_type}", params=params)
            yield from page.get("results", [])
            after = page.get("paging", {}).get("next", {}).get("after")
            if not after:
                return
            params["after"] = after

    def search_modified(self, object_type: str, since: datetime, until: datetime) -> Iterator[dict]:
        """Objects modified in [since, until) through the search endpoint.

        A window holding more than the search cap is split in halves until each part fits, so
        no result is silently dropped.

        Args:
            object_type: contacts, companies or deals.
            since: inclusive lower bound of the modification time.
            until: exclusive upper bound.
        """
        prop = MODIFIED_PROPERTY[object_type]
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": prop, "operator": "GTE", "value": _ms(since)},
                        {"propertyName": prop, "operator": "LT", "value": _ms(until)},
                    ]
                }
            ],
            "sorts": [{"propertyName": prop, "direction": "ASCENDING"}],
            "properties": self.properties(object_type),
            "limit": SEARCH_PAGE_SIZE,
        }
        path = f"/crm/v3/objects/{object_type}/search"
        first = parse_json(self.http.post_json(path, body))
        if first.get("total", 0) > self.search_result_cap:
            if until - since <= timedelta(seconds=1):
                raise SourceError(
                    f"HubSpot: more than {self.search_result_cap} {object_type} modified "
                    f"within one second at {since.isoformat()}"
                )
            middle = since + (until - since) / 2
            yield from self.search_modified(object_type, since, middle)
            yield from self.search_modified(object_type, middle, until)
            return
        page = first
        while True:
            yield from page.get("results", [])
            after = page.get("paging", {}).get("next", {}).get("after")
            if not after:
                return
            page = parse_json(self.http.post_json(path, {**body, "after": after}))

    def deal_pipelines(self) -> list[dict]:
        return self.http.get_json("/crm/v3/pipelines/deals").get("results", [])

    # ---- writing ---------------------------------------------------------------------
    def contact_property_exists(self, name: str) -> bool:
        response = self.http.request(
            "GET", f"/crm/v3/properties/contacts/{name}", expected=frozenset({404})
        )
        return response.status_code != 404

    def create_contact_property(self, definition: dict[str, Any]) -> None:
        self.http.post_json("/crm/v3/properties/contacts", definition)

    def batch_update_contacts(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /crm/v3/objects/contacts/batch/update: 200 when all landed, 207 with per-record
        errors otherwise. Returns the response body with its HTTP status under ``httpStatus``.

        Args:
            inputs: at most 100 ``{"id": ..., "properties": {...}}`` items.
        """
        if len(inputs) > BATCH_LIMIT:
            raise ValueError(f"HubSpot batch update takes at most {BATCH_LIMIT} records")
        response = self.http.post_json("/crm/v3/objects/contacts/batch/update", {"inputs": inputs})
        return {**response.json(), "httpStatus": response.status_code}


def _problem(object_type: str, record: dict) -> str | None:
    props = record.get("properties") or {}
    checks = [
        validation.instant(props.get("createdate"), "createdate"),
        validation.instant(
            props.get(MODIFIED_PROPERTY[object_type]), MODIFIED_PROPERTY[object_type]
        ),
    ]
    if object_type == "contacts":
        checks.append(validation.email(props.get("email")))
    elif object_type == "companies":
        checks.append(validation.count(props.get("numberofemployees"), "numberofemployees"))
    elif object_type == "deals":
        checks += [
            validation.amount(props.get("amount"), "amount"),
            validation.currency(props.get("deal_currency_code"), "deal_currency_code"),
            validation.instant(props.get("closedate"), "closedate"),
        ]
    return validation.first_problem(*checks)


def _records(object_type: str, objects: Iterator[dict]) -> Iterator[Record]:
    for obj in objects:
        yield Record(object_type, obj.get("id"), None, obj, _problem(object_type, obj))


def extract(client: HubSpotClient, since: datetime | None, until: datetime) -> Iterator[Record]:
    """Contacts changed in [since, until) (all of them when ``since`` is None) and every deleted
    contact; snapshots of companies, of deals (deleted ones included, marked archived) with their
    contacts, and of deal pipelines."""
    if since is None:
        contacts = client.list_objects("contacts")
    else:
        contacts = client.search_modified("contacts", since, until)
    # Search never finds deleted objects: the archived list is how deletions reach raw.
    yield from _records("contacts", contacts)
    yield from _records("contacts", client.list_objects("contacts", archived=True))
    yield from _records("companies", client.list_objects("companies"))
    for archived in (False, True):
        deals = client.list_objects("deals", associations=["contacts"], archived=archived)
        yield from _records("deals", deals)
    for pipeline in client.deal_pipelines():
        yield Record("deal_pipelines", pipeline.get("id"), None, pipeline)
