"""Each client against the simulator over real HTTP: paging returns everything, bad credentials
fail at once with a message naming the Airflow connection to fix."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from closedloop.http_client import AuthenticationError, SourceError
from closedloop.sources import Window, google_ads, hubspot, linkedin_ads, matomo, meta_ads


def test_matomo_pages_through_every_visit_of_each_day(connections, world):
    client = matomo.MatomoClient(connections["matomo"], page_size=3)
    window = Window(date(2026, 3, 1), date(2026, 3, 15))
    visits = list(matomo.extract(client, window))
    expected = sorted(
        str(v.visit_id) for v in world.visits if window.start <= v.ended_at.date() < window.end
    )
    assert sorted(r.record_id for r in visits) == expected
    busiest_day = max(
        window.days(), key=lambda d: sum(v.ended_at.date() == d for v in world.visits)
    )
    assert sum(v.ended_at.date() == busiest_day for v in world.visits) > 3  # paging was needed
    assert all(
        r.partition_date == datetime.fromtimestamp(r.payload["serverTimestamp"], UTC).date()
        for r in visits
    )


def test_matomo_days_requested_in_parallel_arrive_as_one_at_a_time_would(connections):
    window = Window(date(2026, 3, 1), date(2026, 3, 15))
    parallel = dataclasses.replace(
        connections["matomo"], extra={**connections["matomo"].extra, "parallel_days": 4}
    )
    one_by_one = list(
        matomo.extract(matomo.MatomoClient(connections["matomo"], page_size=3), window)
    )
    at_once = list(matomo.extract(matomo.MatomoClient(parallel, page_size=3), window))
    assert at_once == one_by_one and len(at_once) > 14


def test_matomo_visit_carries_the_documented_fields(connections):
    client = matomo.MatomoClient(connections["matomo"])
    visit = next(iter(client.visits_for_day(date(2026, 5, 5))))
    for field in (
        "visitorId",
        "userId",
        "serverTimestamp",
        "firstActionTimestamp",
        "referrerType",
        "referrerName",
        "referrerUrl",
        "campaignName",
        "campaignSource",
        "campaignMedium",
        "campaignKeyword",
        "campaignContent",
        "actionDetails",
    ):
        assert field in visit


def test_google_ads_follows_next_page_token(connections, world):
    client = google_ads.GoogleAdsClient(connections["google_ads"])
    since, until = date(2026, 1, 1), date(2026, 4, 10)
    rows = list(client.campaign_days(since, until))
    google_campaigns = [c for c in world.campaigns if c.platform == "google_ads"]
    days = (until - since).days + 1
    assert len(google_campaigns) * days > 250  # more than one page at the simulator's page size
    assert len(rows) == len(google_campaigns) * days
    assert client.http.calls == -(-len(rows) // 250)
    assert {r["campaign"]["name"] for r in rows} == {c.name for c in google_campaigns}


def test_meta_follows_the_after_cursor(connections, world):
    client = meta_ads.MetaAdsClient(connections["meta_ads"], page_size=40)
    rows = list(client.campaign_days(date(2026, 2, 1), date(2026, 2, 28)))
    meta_campaigns = [c for c in world.campaigns if c.platform == "meta_ads"]
    assert len(rows) == len(meta_campaigns) * 28
    assert client.http.calls == -(-len(rows) // 40)
    assert len({(r["campaign_id"], r["date_start"]) for r in rows}) == len(rows)


def test_linkedin_reads_campaigns_and_daily_analytics(connections, world):
    client = linkedin_ads.LinkedInAdsClient(connections["linkedin_ads"])
    records = list(linkedin_ads.extract(client, Window(date(2026, 6, 1), date(2026, 6, 8))))
    linkedin_campaigns = [c for c in world.campaigns if c.platform == "linkedin_ads"]
    campaigns = [r for r in records if r.entity == "campaigns"]
    analytics = [r for r in records if r.entity == "campaign_analytics"]
    assert sorted(r.record_id for r in campaigns) == sorted(
        c.campaign_id for c in linkedin_campaigns
    )
    assert len(analytics) == len(linkedin_campaigns) * 7
    assert {r.partition_date for r in analytics} == {date(2026, 6, d) for d in range(1, 8)}


def test_hubspot_lists_every_contact_and_deal_with_associations(connections, world):
    client = hubspot.HubSpotClient(connections["hubspot"])
    contacts = list(client.list_objects("contacts"))
    assert sorted(c["id"] for c in contacts) == sorted(c.contact_id for c in world.contacts)
    deals = {d["id"]: d for d in client.list_objects("deals", associations=["contacts"])}
    for deal in world.deals:
        associated = [a["id"] for a in deals[deal.deal_id]["associations"]["contacts"]["results"]]
        assert associated == deal.contact_ids


def test_hubspot_search_returns_exactly_the_modified_window(connections, world):
    client = hubspot.HubSpotClient(connections["hubspot"])
    since = datetime(2026, 1, 1, tzinfo=UTC)
    until = since + timedelta(days=60)
    found = list(client.search_modified("contacts", since, until))
    modified = {c["id"]: datetime.fromisoformat(c["properties"]["lastmodifieddate"]) for c in found}
    assert all(since <= m < until for m in modified.values())
    created_in_window = {c.contact_id for c in world.contacts if since <= c.created_at < until}
    # Contacts created in the window were modified in it or later (a deal closing touches them).
    assert created_in_window - set(modified) == {
        cid
        for cid in created_in_window
        if any(cid in d.contact_ids and d.closed_at and d.closed_at >= until for d in world.deals)
    }


def test_hubspot_pipelines_name_closed_won_and_lost(connections):
    client = hubspot.HubSpotClient(connections["hubspot"])
    stages = {s["id"]: s["metadata"] for p in client.deal_pipelines() for s in p["stages"]}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"]["isClosed"] == "true"


@pytest.mark.parametrize(
    ("source", "make_client", "call"),
    [
        ("matomo", matomo.MatomoClient, lambda c: list(c.visits_for_day(date(2026, 5, 5)))),
        (
            "google_ads",
            google_ads.GoogleAdsClient,
            lambda c: list(c.campaign_days(date(2026, 5, 5), date(2026, 5, 5))),
        ),
        (
            "meta_ads",
            meta_ads.MetaAdsClient,
            lambda c: list(c.campaign_days(date(2026, 5, 5), date(2026, 5, 5))),
        ),
        ("linkedin_ads", linkedin_ads.LinkedInAdsClient, lambda c: list(c.campaigns())),
        ("hubspot", hubspot.HubSpotClient, lambda c: list(c.list_objects("contacts"))),
    ],
)
def test_refused_credentials_fail_at_once_naming_the_connection(
    connections, source, make_client, call
):
    wrong = dataclasses.replace(connections[source], token="not-the-token")
    client = make_client(wrong)
    with pytest.raises(AuthenticationError) as failure:
        call(client)
    assert f"Airflow connection '{wrong.conn_id}'" in str(failure.value)
    assert "not-the-token" not in str(failure.value)
    assert client.http.calls == 1  # no retries on refused credentials


def test_missing_connection_setting_names_the_field(connections):
    incomplete = dataclasses.replace(connections["google_ads"], extra={"developer_token": "x"})
    with pytest.raises(ValueError, match="'ads_google' needs 'customer_id'"):
        google_ads.GoogleAdsClient(incomplete)


@pytest.fixture
def tight_simulator(world, token):
    """The same company behind APIs with small caps, so that splitting is exercised."""
    from include.simulator.apis import Settings
    from include.simulator.server import Simulator
    from tests.conftest import source_connections

    simulator = Simulator(
        world, Settings(token=token, hubspot_search_cap=50, linkedin_max_elements=100)
    ).start()
    yield source_connections(simulator, token)
    simulator.stop()


def test_hubspot_search_splits_windows_over_the_result_cap_and_loses_nothing(
    tight_simulator, world
):
    connection = tight_simulator["hubspot"]
    capped = dataclasses.replace(connection, extra={**connection.extra, "search_result_cap": 50})
    client = hubspot.HubSpotClient(capped)
    since = datetime(2025, 6, 1, tzinfo=UTC)
    until = datetime(2026, 7, 1, tzinfo=UTC)
    found = [c["id"] for c in client.search_modified("contacts", since, until)]
    assert len(found) > 50
    assert sorted(found) == sorted(c.contact_id for c in world.contacts)


def test_linkedin_asks_for_few_enough_days_and_refuses_a_truncated_answer(tight_simulator):
    connection = tight_simulator["linkedin_ads"]
    connection = dataclasses.replace(connection, extra={**connection.extra, "max_elements": 100})
    window = Window(date(2026, 1, 1), date(2026, 3, 1))
    small_requests = dataclasses.replace(
        connection, extra={**connection.extra, "days_per_request": 7}
    )
    rows = list(linkedin_ads.extract(linkedin_ads.LinkedInAdsClient(small_requests), window))
    days = {r.partition_date for r in rows if r.entity == "campaign_analytics"}
    assert days == set(window.days())
    with pytest.raises(SourceError, match="days_per_request"):
        list(linkedin_ads.extract(linkedin_ads.LinkedInAdsClient(connection), window))
