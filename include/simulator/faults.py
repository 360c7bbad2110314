"""Faults as real APIs throw them, each at a configurable rate, deterministic for a seed.

Call faults (answered instead of the real response): server errors, rate limiting in each vendor's
own shape, extra latency, and connections dropped without an answer. Data faults (applied to a
successful page of records): malformed records, fields the client has never seen (schema drift)
and a record of the previous page served again (pages shifting under the reader).
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

PAGING_PARAMETERS = {"filter_offset", "after", "pageToken", "start"}
DRIFT_FIELD = "sim_unannounced_field"
DRIFT_PROPERTY = "sim_favourite_colour"  # a custom CRM property added without telling anyone


@dataclass
class Faults:
    """Each rate is the share of calls (or, for data faults, of records or pages) affected."""

    server_error: float = 0.0
    rate_limited: float = 0.0
    latency: float = 0.0
    dropped: float = 0.0
    malformed: float = 0.0
    schema_drift: float = 0.0
    duplicates: float = 0.0
    latency_seconds: float = 0.3
    retry_after_seconds: float = 1.0
    seed: int = 0
    injected: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._last_record: dict[str, Any] = {}

    @classmethod
    def mixed(cls, rate: float, seed: int = 0, **others: float) -> Faults:
        """About ``rate`` of all calls fail, spread evenly over server errors, rate limiting and
        dropped connections; ``others`` sets further knobs (latency, duplicates, ...)."""
        share = rate / 3
        return cls(server_error=share, rate_limited=share, dropped=share, seed=seed, **others)

    @property
    def changes_data(self) -> bool:
        return bool(self.malformed or self.schema_drift or self.duplicates)

    def _roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def call_fault(self) -> str | None:
        """Which call fault (if any) this call suffers: error, rate_limited, dropped, latency."""
        for kind, rate in (
            ("server_error", self.server_error),
            ("rate_limited", self.rate_limited),
            ("dropped", self.dropped),
            ("latency", self.latency),
        ):
            if self._roll(rate):
                with self._lock:
                    self.injected[kind] += 1
                return kind
        return None

    # ---- data faults --------------------------------------------------------------------
    def damage(self, vendor: str, key: str, records: list[Any]) -> list[Any]:
        """The page of records as the faulty API serves it.

        Args:
            vendor: matomo, google_ads, meta_ads, linkedin_ads or hubspot.
            key: the logical query without its paging parameters; duplicates repeat the last
                record served for the same query.
            records: the page's records (not modified).
        """
        served = []
        for record in records:
            record = copy.deepcopy(record)
            if self._roll(self.schema_drift):
                record[DRIFT_FIELD] = {"introduced": "by the vendor, unannounced"}
                self._count("schema_drift")
            if self._roll(self.malformed):
                record = corrupt(vendor, record, self._rng)
                self._count("malformed")
            served.append(record)
        previous = self._last_record.get(key)
        if previous is not None and served and self._roll(self.duplicates):
            served.insert(0, previous)
            self._count("duplicates")
        if served:
            self._last_record[key] = served[-1]
        return served

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1


def query_key(path: str, query: dict[str, str], body: bytes) -> str:
    """The request without its paging parameters: pages of one query share it."""
    params = {k: v for k, v in query.items() if k not in PAGING_PARAMETERS}
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = body.decode(errors="replace")
    if isinstance(parsed, dict):
        parsed = {k: v for k, v in parsed.items() if k not in PAGING_PARAMETERS}
    elif isinstance(parsed, str):
        parsed = "&".join(
            part for part in parsed.split("&") if part.split("=")[0] not in PAGING_PARAMETERS
        )
    return json.dumps([path, sorted(params.items()), parsed], sort_keys=True, default=str)


def corrupt(vendor: str, record: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """One of the ways a vendor's record arrives broken: missing id, wrong types, impossible
    dates, bad emails, negative amounts, unknown currencies."""
    props = record.get("properties")
    choices = {
        "matomo": (
            lambda r: r.pop("idVisit", None),
            lambda r: r.update(serverDate="2026-02-31"),
            lambda r: r.update(firstActionTimestamp="soon"),
        ),
        "google_ads": (
            lambda r: r.get("campaign", {}).pop("id", None),
            lambda r: r.get("metrics", {}).update(costMicros="-1500000"),
            lambda r: r.get("segments", {}).update(date="yesterday"),
        ),
        "meta_ads": (
            lambda r: r.pop("campaign_id", None),
            lambda r: r.update(spend="-4.20"),
            lambda r: r.update(spend="12,50"),
            lambda r: r.update(account_currency="ZZZ"),
        ),
        "linkedin_ads": (
            lambda r: r.update(pivotValues=[]) if "pivotValues" in r else r.pop("id", None),
            lambda r: (
                r.update(costInLocalCurrency="-3.00")
                if "costInLocalCurrency" in r
                else r.pop("id", None)
            ),
            lambda r: (
                r.update(dateRange={"start": {"year": 2026}})
                if "dateRange" in r
                else r.pop("id", None)
            ),
        ),
        "hubspot": (
            lambda r: r.pop("id", None),
            lambda r: props.update(createdate="31/12/2025"),
            lambda r: (
                props.update(email="not-an-email")
                if "email" in props
                else props.update(amount="-250.00")
                if "amount" in props
                else r.pop("id", None)
            ),
            lambda r: (
                props.update(deal_currency_code="XYZ")
                if "deal_currency_code" in props
                else r.pop("id", None)
            ),
        ),
    }[vendor]
    rng.choice(choices)(record)
    return record
