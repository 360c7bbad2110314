"""One small module per source: a client that speaks the vendor's public API and yields records.

Every extractor yields :class:`Record` objects; loading them is the loader's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Record:
    entity: str  # raw table suffix, e.g. "visits" -> raw.matomo_visits
    record_id: str | None
    partition_date: date | None
    payload: dict[str, Any]
    problem: str | None = None  # why the record cannot be loaded (it goes to raw.rejects)


@dataclass(frozen=True)
class Window:
    """The days [start, end) to extract, and the instant bounds of the night."""

    start: date
    end: date

    def days(self) -> list[date]:
        from datetime import timedelta

        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days)]
