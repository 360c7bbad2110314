"""One night's extraction of one source: pick the window, stream the API into raw, log it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from queue import Full, Queue

from . import settings as settings_module
from .connections import ApiConnection, api_connection
from .http_client import SourceError
from .load import LoadStats, Strategy, load_records
from .sources import Record, Window, google_ads, hubspot, linkedin_ads, matomo, meta_ads
from .warehouse import connect, ensure_tables

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Night:
    """The data interval being processed, as instants and as days in the configured timezone."""

    start: datetime
    end: datetime
    run_id: str

    def day_window(self, days_back: int | None = None, since: datetime | None = None) -> Window:
        """The night's days, reaching ``days_back`` days before its end and back to ``since``."""
        end = self.end.date()
        start = end - timedelta(days=days_back) if days_back else self.start.date()
        if since is not None:
            start = min(start, since.astimezone(self.start.tzinfo).date())
        return Window(min(start, self.start.date()), end)


# The end of the time the last successful extraction of a source covered (None: never ran).
Watermark = datetime | None


# An ad account id, or None for sources without accounts.
Account = str | None


@dataclass(frozen=True)
class SourceSpec:
    conn_id: str
    default_base_url: str
    # Reads the source for a night: (connection, night, window, watermark, account) -> records.
    read: Callable[[ApiConnection, Night, Window, Watermark, Account], Iterable[Record]]
    strategies: dict[str, Strategy]
    window: Callable[[Night, Watermark], Window]
    # Ad platforms: the accounts a connection lists, each extracted and watermarked on its own.
    accounts: Callable[[ApiConnection], list[str]] | None = None


def _windowed(module, client: Callable[[ApiConnection, Account], object]):
    """A reader for sources whose ``extract(client, window)`` reads a window of days."""
    return lambda conn, night, window, watermark, account: module.extract(
        client(conn, account), window
    )


def _settings() -> settings_module.Settings:
    return settings_module.load()


def _history_or_night(night: Night, watermark: Watermark) -> Window:
    """The first run loads the history; later ones the night, and any nights missed since the
    last successful run (so a failed night is caught up by the next)."""
    if watermark is None:
        return night.day_window(_settings().history_days)
    return night.day_window(since=watermark)


def _history_or_restatement(night: Night, watermark: Watermark) -> Window:
    """Ad platforms revise spend after the fact: re-pull the restatement window every night."""
    settings = _settings()
    if watermark is None:
        return night.day_window(settings.history_days)
    return night.day_window(settings.ads_restatement_days, since=watermark)


def _crm_since(night: Night, watermark: Watermark) -> datetime | None:
    """CRM changes are read from the last successful read's end (or the night's start, when
    rerunning an earlier night), less an overlap for late-committed changes."""
    if watermark is None:
        return None
    return min(watermark, night.start) - timedelta(hours=_settings().crm_overlap_hours)


def _crm_window(night: Night, watermark: Watermark) -> Window:
    since = _crm_since(night, watermark)
    return Window((since or night.start).date(), night.end.date())


SOURCES: dict[str, SourceSpec] = {
    "matomo": SourceSpec(
        matomo.CONN_ID,
        matomo.DEFAULT_BASE_URL,
        _windowed(matomo, lambda conn, account: matomo.MatomoClient(conn)),
        {"visits": "partitions"},
        _history_or_night,
    ),
    "google_ads": SourceSpec(
        google_ads.CONN_ID,
        google_ads.DEFAULT_BASE_URL,
        _windowed(google_ads, google_ads.GoogleAdsClient),
        {"campaign_stats": "partitions"},
        _history_or_restatement,
        google_ads.accounts,
    ),
    "meta_ads": SourceSpec(
        meta_ads.CONN_ID,
        meta_ads.DEFAULT_BASE_URL,
        _windowed(meta_ads, meta_ads.MetaAdsClient),
        {"campaign_insights": "partitions"},
        _history_or_restatement,
        meta_ads.accounts,
    ),
    "linkedin_ads": SourceSpec(
        linkedin_ads.CONN_ID,
        linkedin_ads.DEFAULT_BASE_URL,
        _windowed(linkedin_ads, linkedin_ads.LinkedInAdsClient),
        {"campaigns": "snapshot", "campaign_analytics": "partitions"},
        _history_or_restatement,
        linkedin_ads.accounts,
    ),
    "hubspot": SourceSpec(
        hubspot.CONN_ID,
        hubspot.DEFAULT_BASE_URL,
        lambda conn, night, window, watermark, account: hubspot.extract(
            hubspot.HubSpotClient(conn), _crm_since(night, watermark), night.end
        ),
        {
            "contacts": "upsert",
            "companies": "snapshot",
            "deals": "snapshot",
            "deal_pipelines": "snapshot",
        },
        _crm_window,
    ),
}


def read_ahead(records: Iterable[Record], batch: int = 500, depth: int = 8) -> Iterator[Record]:
    """Read the API in a second thread while the loader writes, so that waiting for the next
    page overlaps parsing and COPY. At most ``depth`` batches wait in between: memory stays
    bounded. An error while reading is raised here, in the loader's thread."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.2)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        chunk: list[Record] = []
        try:
            for record in records:
                chunk.append(record)
                if len(chunk) >= batch:
                    if not put(chunk):
                        return
                    chunk = []
            put(chunk)
            put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the loader's thread
            put(chunk)  # what was read before the error, in order
            put(exc)

    reader = threading.Thread(target=produce, name="read-ahead", daemon=True)
    reader.start()
    try:
        while (item := queue.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        reader.join(timeout=5)


def last_watermark(conn, source: str, account: Account = None) -> Watermark:
    """Where the latest successful extraction of the source (and account) ended; None when it
    never ran."""
    row = conn.execute(
        "select max(coalesce(watermark, window_end::timestamptz)) from ops.extract_runs "
        "where source = %s and account_id is not distinct from %s",
        (source, account),
    ).fetchone()
    return row[0]


def source_accounts(source: str, connection: ApiConnection) -> list[Account]:
    """The accounts a source's connection lists; [None] for a source without accounts."""
    spec = SOURCES[source]
    return spec.accounts(connection) if spec.accounts else [None]


def _check_reject_share(source: str, account: Account, stats: LoadStats) -> None:
    """Fail when too much of a source was rejected; the load (and its rejects) stays committed,
    so what went wrong can be read in raw.rejects."""
    limit = _settings().max_reject_share
    if stats.fetched and stats.rejected / stats.fetched > limit:
        where = f"source = '{source}'" + (f" and account_id = '{account}'" if account else "")
        raise SourceError(
            f"{_label(source, account)}: {stats.rejected} of {stats.fetched} records "
            f"({stats.rejected / stats.fetched:.1%}) were rejected, more than "
            f"CLOSEDLOOP_MAX_REJECT_SHARE={limit:g}; see raw.rejects where {where}"
        )


def _label(source: str, account: Account) -> str:
    return f"{source} account {account}" if account else source


def extract_source(
    source: str,
    night: Night,
    warehouse_uri: str,
    connection: ApiConnection | None = None,
    accounts: list[str] | None = None,
) -> dict[str, float]:
    """Extract one source for a night into raw and record each load in ops.extract_runs.

    Args:
        source: a key of SOURCES.
        night: the data interval.
        warehouse_uri: where raw lives.
        connection: the API connection; read from Airflow when not given.
        accounts: the ad accounts to read, one after another; all that the connection lists
            when not given.

    Returns:
        fetched, loaded, rejected and duplicate records and seconds, summed over the accounts.
    """
    spec = SOURCES[source]
    connection = connection or api_connection(spec.conn_id, spec.default_base_url)
    totals = LoadStats()
    for account in accounts or source_accounts(source, connection):
        totals += _extract_account(source, night, warehouse_uri, connection, account)
    return {**asdict(totals), "seconds": round(totals.seconds, 2)}


def _extract_account(
    source: str, night: Night, warehouse_uri: str, connection: ApiConnection, account: Account
) -> LoadStats:
    spec = SOURCES[source]
    label = _label(source, account)
    with connect(warehouse_uri) as conn:
        ensure_tables(conn)
        watermark = last_watermark(conn, source, account)
        window = spec.window(night, watermark)
        log.info(
            "%s: extracting %s to %s%s",
            label,
            window.start,
            window.end,
            " (first run: full history)" if watermark is None else "",
        )
        records = read_ahead(spec.read(connection, night, window, watermark, account))
        stats = load_records(conn, source, records, spec.strategies, window, account)
        conn.execute(
            """insert into ops.extract_runs (run_id, source, account_id, window_start, window_end,
                   fetched, loaded, rejected, duplicates, duration_seconds, watermark)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                night.run_id,
                source,
                account,
                window.start,
                window.end,
                stats.fetched,
                stats.loaded,
                stats.rejected,
                stats.duplicates,
                stats.seconds,
                night.end,
            ),
        )
    log.info(
        "%s: fetched %d, loaded %d, rejected %d, duplicates %d in %.1fs",
        label,
        stats.fetched,
        stats.loaded,
        stats.rejected,
        stats.duplicates,
        stats.seconds,
    )
    _check_reject_share(source, account, stats)
    return stats
