"""Ad platforms are read per account. The runbook's "add an ad account": list a second account in
the connection's extra; the next night loads that account's whole history and leaves the first
account's rows as they were, and reruns stay idempotent."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from closedloop import settings
from closedloop.connections import ApiConnection
from closedloop.warehouse import connect
from include.simulator.apis import Settings
from include.simulator.server import Simulator
from include.simulator.world import World
from tests.conftest import source_connections
from tests.warehouse_helpers import WORLD_END, load_night, raw_fingerprints, utc_midnight

# Each platform's spend as its API reports it, read from the raw payloads.
RAW_SPEND = {
    "google_ads": (
        "google_ads_campaign_stats",
        "(payload->'metrics'->>'costMicros')::numeric / 1000000",
    ),
    "meta_ads": ("meta_ads_campaign_insights", "(payload->>'spend')::numeric"),
    "linkedin_ads": (
        "linkedin_ads_campaign_analytics",
        "(payload->>'costInLocalCurrency')::numeric",
    ),
}
# The connection extra's list key per platform, and the id each account is written with there.
ACCOUNT_KEYS = {
    "google_ads": "customer_ids",
    "meta_ads": "ad_account_ids",
    "linkedin_ads": "ad_account_ids",
}


@pytest.fixture(scope="module")
def two_account_world() -> World:
    return World(seed=7, profile="small", end_date=WORLD_END, ad_accounts_per_platform=2)


@pytest.fixture(scope="module")
def two_account_simulator(two_account_world, token):
    simulator = Simulator(two_account_world, Settings(token=token)).start()
    yield simulator
    simulator.stop()


def with_all_accounts(connections: dict[str, ApiConnection], world: World) -> dict:
    """The connections after the runbook's edit: every account listed in the extra."""
    edited = dict(connections)
    for platform, key in ACCOUNT_KEYS.items():
        ids = world.ad_accounts[platform]
        listed = [f"act_{i}" for i in ids] if platform == "meta_ads" else ids
        edited[platform] = replace(
            connections[platform], extra={**connections[platform].extra, key: listed}
        )
    return edited


def spend_in_raw(uri: str) -> dict[tuple[str, str], Decimal]:
    """Spend per (platform, account) in raw, the account as raw recorded it."""
    totals: dict[tuple[str, str], Decimal] = {}
    with connect(uri) as conn:
        for platform, (table, spend) in RAW_SPEND.items():
            for account, total in conn.execute(
                f"select account_id, sum({spend}) from raw.{table} group by 1"
            ).fetchall():
                totals[(platform, account)] = total
    return totals


def true_spend(simulator: Simulator, world: World, first_day, last_day) -> dict:
    """Spend per (platform, account) over [first_day, last_day), from the simulator's truth."""
    campaigns = {c.campaign_id: c for c in world.campaigns}
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (campaign_id, day), (cost, _, _) in simulator.apis._spend.items():
        if first_day <= day < last_day:
            campaign = campaigns[campaign_id]
            totals[(campaign.platform, campaign.account_id)] += Decimal(str(cost))
    return dict(totals)


def test_an_added_ad_account_loads_its_history_and_leaves_the_first_alone(
    fresh_database, two_account_simulator, two_account_world, token
):
    world, simulator = two_account_world, two_account_simulator
    history = timedelta(days=settings.load().history_days)
    first_night_end = utc_midnight(WORLD_END) - timedelta(days=1)
    second_night_end = utc_midnight(WORLD_END)
    uri = fresh_database("accounts")
    single = source_connections(simulator, token)  # each platform's first account only

    load_night(uri, single, first_night_end, run_id="night-1")
    first_accounts = {p: world.ad_accounts[p][0] for p in ACCOUNT_KEYS}
    truth = true_spend(simulator, world, (first_night_end - history).date(), first_night_end.date())
    assert spend_in_raw(uri) == {(p, a): truth[(p, a)] for p, a in first_accounts.items()}

    both = with_all_accounts(single, world)
    load_night(uri, both, second_night_end, run_id="night-2")
    old = true_spend(simulator, world, (first_night_end - history).date(), second_night_end.date())
    new = true_spend(simulator, world, (second_night_end - history).date(), second_night_end.date())
    expected = {
        (platform, account): (old if account == first_accounts[platform] else new)[
            (platform, account)
        ]
        for platform in ACCOUNT_KEYS
        for account in world.ad_accounts[platform]
    }
    assert spend_in_raw(uri) == expected
    assert len(expected) == 6

    with connect(uri) as conn:
        windows = dict(
            ((source, account), start)
            for source, account, start in conn.execute(
                "select source, account_id, window_start from ops.extract_runs "
                "where run_id = 'night-2' and account_id is not null"
            ).fetchall()
        )
    restatement = timedelta(days=settings.load().ads_restatement_days)
    for platform in ACCOUNT_KEYS:
        first, second = world.ad_accounts[platform]
        assert windows[(platform, first)] == (second_night_end - restatement).date()
        assert windows[(platform, second)] == (second_night_end - history).date()

    once = raw_fingerprints(uri)
    load_night(uri, both, second_night_end, run_id="night-2-rerun")
    assert raw_fingerprints(uri) == once


def test_an_account_the_token_cannot_read_fails_naming_it(
    fresh_database, two_account_simulator, token
):
    from closedloop.extract import Night, extract_source
    from closedloop.http_client import SourceError

    connections = source_connections(two_account_simulator, token)
    meta = replace(connections["meta_ads"], extra={"ad_account_ids": ["act_101", "act_999"]})
    night_end = utc_midnight(WORLD_END)
    night = Night(night_end - timedelta(days=1), night_end, "unknown-account")
    with pytest.raises(SourceError, match="act_999"):
        extract_source("meta_ads", night, fresh_database("unknown"), meta)
