"""A seeded, deterministic synthetic B2B company, and the ground truth behind it.

Visitors come from channels, visit several times, some fill a form (a CRM contact is created
and the web analytics userId is set from then on), some contacts get deals that close won or lost.
Everything the APIs serve is rendered from these records, so tests can compare the pipeline's
numbers with the truth kept here.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

CHANNELS = (
    "paid_search",
    "paid_social",
    "organic_search",
    "organic_social",
    "email",
    "referral",
    "direct",
    "display",
    "other",
)
FIRST_VISIT_WEIGHTS = (0.22, 0.18, 0.18, 0.06, 0.06, 0.08, 0.13, 0.06, 0.03)
# How much each first-touch channel lifts the odds of buying (log-odds), the hidden truth
# a lead score has to learn.
CHANNEL_LIFT = {
    "paid_search": 0.6,
    "paid_social": -0.2,
    "organic_search": 0.4,
    "organic_social": -0.4,
    "email": 0.2,
    "referral": 0.8,
    "direct": 0.3,
    "display": -0.6,
    "other": -0.5,
    "offline": 0.0,
}
INDUSTRIES = ("software", "manufacturing", "finance", "healthcare", "retail", "education")
PAGES = ("/", "/product", "/blog/closed-loop", "/customers", "/pricing", "/demo", "/about")
LOST_REASONS = ("price", "chose a competitor", "no decision", "timing")
DISQUALIFICATION_REASONS = ("no budget", "not a fit", "student", "competitor")
DEAL_STAGES_OPEN = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)


@dataclass(frozen=True)
class Profile:
    visitors: int
    campaigns_per_platform: int
    days: int
    convert_rate: float
    # Scales how many leads get an opportunity; won deals then follow true probability x share.
    opportunity_share: float = 1.0


# small: seconds, for CI. medium: a year of about 300k visits, 20k contacts, 2k deals and
# 3 ad platforms x 50 campaigns. large: ten times medium's traffic and leads.
PROFILES = {
    "small": Profile(visitors=1500, campaigns_per_platform=4, days=365, convert_rate=0.22),
    "medium": Profile(
        visitors=140_000,
        campaigns_per_platform=50,
        days=365,
        convert_rate=0.15,
        opportunity_share=0.15,
    ),
}
PROFILES["large"] = replace(PROFILES["medium"], visitors=10 * PROFILES["medium"].visitors)


@dataclass
class Campaign:
    platform: str  # google_ads | meta_ads | linkedin_ads
    campaign_id: str
    name: str
    channel: str  # the channel its clicks arrive as
    source: str
    medium: str
    daily_budget: float
    account_id: str = ""  # the ad account running it (World.ad_accounts)


# The ad accounts of each platform, as its API names them (Google without dashes, Meta without
# `act_`); a world with several accounts per platform spreads the campaigns over them.
AD_ACCOUNT_IDS = {
    "google_ads": ("1234567890", "1234567891", "1234567892"),
    "meta_ads": ("101", "102", "103"),
    "linkedin_ads": ("5070001", "5070002", "5070003"),
}


@dataclass
class Visit:
    visit_id: int
    visitor_id: str
    started_at: datetime
    ended_at: datetime
    channel: str
    campaign: Campaign | None
    pages: list[str]
    user_id: str | None = None
    referrer: tuple[str, str, str] = ("direct", "", "")  # type, name, url
    utm: tuple[str, str, str] = ("", "", "")  # name, source, medium (non-ad campaigns)


@dataclass
class Company:
    company_id: str
    name: str
    domain: str
    industry: str
    employees: int
    created_at: datetime


@dataclass
class Contact:
    contact_id: str
    email: str
    firstname: str
    lastname: str
    company: Company
    created_at: datetime
    visitor_ids: list[str] = field(default_factory=list)
    true_first_touch: Visit | None = None
    true_conversion_probability: float = 0.0
    # Sales' verdict and the lifecycle, as the CRM records them.
    lead_status: str = "NEW"
    disqualification_reason: str | None = None
    mql_at: datetime | None = None
    sql_at: datetime | None = None
    archived_at: datetime | None = None  # deleted in the CRM (only archived_contacts have it)


@dataclass
class Deal:
    deal_id: str
    name: str
    amount: float
    created_at: datetime
    stage: str
    closed_at: datetime | None
    contact_ids: list[str]
    modified_at: datetime
    closed_lost_reason: str | None = None
    archived_at: datetime | None = None


class World:
    """The synthetic company as of ``end`` (midnight UTC): everything happened before it."""

    def __init__(
        self,
        seed: int = 7,
        profile: str = "small",
        end_date: date | None = None,
        ad_accounts_per_platform: int = 1,
    ):
        if not 1 <= ad_accounts_per_platform <= len(AD_ACCOUNT_IDS["google_ads"]):
            raise ValueError(
                f"ad_accounts_per_platform must be 1 to {len(AD_ACCOUNT_IDS['google_ads'])}"
            )
        self.ad_accounts = {
            platform: list(ids[:ad_accounts_per_platform])
            for platform, ids in AD_ACCOUNT_IDS.items()
        }
        self.seed = seed
        self.profile_name = profile
        self.profile = PROFILES[profile]
        end_date = end_date or datetime.now(UTC).date()
        self.end = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC)
        self.start = self.end - timedelta(days=self.profile.days)
        self.rng = random.Random(seed)
        self.campaigns: list[Campaign] = []
        self.visits: list[Visit] = []
        self.companies: list[Company] = []
        self.contacts: list[Contact] = []
        self.deals: list[Deal] = []
        # Deleted in the CRM: the API lists them only with archived=true; no mart may count them.
        self.archived_contacts: list[Contact] = []
        self.archived_deals: list[Deal] = []
        self._paid_campaigns: dict[str, list[Campaign]] = {}
        self._build()

    # ---- generation -------------------------------------------------------------------
    def _build(self) -> None:
        self._build_campaigns()
        for number in range(self.profile.visitors):
            self._build_visitor(number)
        self._build_offline_contacts()
        self._build_deals()
        self._build_sales_verdicts()
        self._build_deleted_records()
        self.visits.sort(key=lambda visit: visit.started_at)
        for index, visit in enumerate(self.visits, start=1):
            visit.visit_id = index

    def _build_campaigns(self) -> None:
        n = self.profile.campaigns_per_platform
        for i in range(n):
            theme = ("brand", "crm-attribution", "competitor", "retargeting", "webinar")[i % 5]
            self.campaigns.append(
                Campaign(
                    "google_ads",
                    str(21_000_000 + i),
                    f"gads-{theme}-{i:02d}",
                    "paid_search",
                    "google",
                    "cpc",
                    self.rng.uniform(40, 160),
                )
            )
            self.campaigns.append(
                Campaign(
                    "meta_ads",
                    str(238_000_000_000 + i),
                    f"meta-{theme}-{i:02d}",
                    "paid_social",
                    "facebook",
                    "paid_social",
                    self.rng.uniform(20, 90),
                )
            )
            self.campaigns.append(
                Campaign(
                    "linkedin_ads",
                    str(610_000_000 + i),
                    f"li-{theme}-{i:02d}",
                    "paid_social",
                    "linkedin",
                    "paid_social",
                    self.rng.uniform(50, 200),
                )
            )
        # Display runs on Google Ads too; its clicks arrive with medium=display.
        self.campaigns.append(
            Campaign(
                "google_ads",
                "21999999",
                "gads-display-prospecting",
                "display",
                "google",
                "display",
                35.0,
            )
        )
        for platform, accounts in self.ad_accounts.items():
            ours = [c for c in self.campaigns if c.platform == platform]
            for index, campaign in enumerate(ours):
                campaign.account_id = accounts[index % len(accounts)]
        for channel in ("paid_search", "paid_social", "display"):
            self._paid_campaigns[channel] = [c for c in self.campaigns if c.channel == channel]

    def _pick_channel(self, weights: tuple[float, ...] = FIRST_VISIT_WEIGHTS) -> str:
        return self.rng.choices(CHANNELS, weights=weights)[0]

    def _visitor_id(self, number: int, device: int = 0) -> str:
        return hashlib.sha1(f"{self.seed}:{number}:{device}".encode()).hexdigest()[:16]

    def _new_visit(self, visitor_id: str, started_at: datetime, channel: str) -> Visit:
        rng = self.rng
        campaign = None
        if channel in self._paid_campaigns:
            campaign = rng.choice(self._paid_campaigns[channel])
        pages = [rng.choice(PAGES) for _ in range(rng.randint(1, 6))]
        duration = timedelta(seconds=rng.randint(10, 900))
        visit = Visit(0, visitor_id, started_at, started_at + duration, channel, campaign, pages)
        visit.referrer, visit.utm = self._render_referrer(channel, campaign)
        return visit

    def _render_referrer(
        self, channel: str, campaign: Campaign | None
    ) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        rng = self.rng
        if campaign is not None:
            return ("campaign", campaign.name, ""), (
                campaign.name,
                campaign.source,
                campaign.medium,
            )
        if channel == "organic_search":
            name = rng.choice(("Google", "Bing", "DuckDuckGo"))
            return ("search", name, f"https://www.{name.lower()}.com/"), ("", "", "")
        if channel == "organic_social":
            name = rng.choice(("LinkedIn", "Twitter", "Reddit"))
            return ("social", name, f"https://www.{name.lower()}.com/"), ("", "", "")
        if channel == "referral":
            site = rng.choice(("g2.com", "capterra.com", "partner-blog.io"))
            return ("website", site, f"https://{site}/reviews"), ("", "", "")
        if channel == "email":
            month = rng.choice(("jan", "feb", "mar", "apr", "may", "jun"))
            name = f"newsletter-{month}"
            return ("campaign", name, ""), (name, "hubspot", "email")
        if channel == "other":
            return ("campaign", "spring-affiliates", ""), (
                "spring-affiliates",
                "partnerstack",
                "affiliate",
            )
        return ("direct", "", ""), ("", "", "")

    def _build_visitor(self, number: int) -> None:
        rng = self.rng
        span = (self.end - self.start).total_seconds()
        first_at = self.start + timedelta(seconds=rng.uniform(0, span))
        visitor_id = self._visitor_id(number)
        visits = []
        at = first_at
        for index in range(1 + min(int(rng.expovariate(0.6)), 7)):
            channel = (
                self._pick_channel()
                if index == 0
                else ("direct" if rng.random() < 0.45 else self._pick_channel())
            )
            if at >= self.end - timedelta(minutes=30):
                break
            visits.append(self._new_visit(visitor_id, at, channel))
            at = at + timedelta(days=rng.uniform(0.2, 25))
        self.visits.extend(visits)
        if rng.random() >= self.profile.convert_rate or not visits:
            return
        converting = visits[rng.randrange(len(visits))]
        converting.pages.append("/demo" if rng.random() < 0.4 else "/contact")
        created_at = converting.started_at + timedelta(seconds=rng.randint(30, 600))
        if created_at >= self.end:
            return
        contact = self._new_contact(created_at)
        contact.visitor_ids.append(visitor_id)
        for visit in visits:
            if visit.started_at >= converting.started_at:
                visit.user_id = contact.email
        if rng.random() < 0.15:
            # A second device: one anonymous visit before the form fill, then a logged-in one.
            device_id = self._visitor_id(number, device=1)
            anonymous_at = created_at - timedelta(days=rng.uniform(0.5, 60))
            if anonymous_at > self.start:
                self.visits.append(self._new_visit(device_id, anonymous_at, self._pick_channel()))
            logged_in_at = created_at + timedelta(days=rng.uniform(0.5, 20))
            if logged_in_at < self.end - timedelta(hours=1):
                visit = self._new_visit(device_id, logged_in_at, "direct")
                visit.user_id = contact.email
                self.visits.append(visit)
                contact.visitor_ids.append(device_id)

    def _new_company(self, created_at: datetime) -> Company:
        rng = self.rng
        number = len(self.companies) + 1
        stem = rng.choice(("acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli"))
        company = Company(
            company_id=str(5_000 + number),
            name=f"{stem.title()} {number}",
            domain=f"{stem}{number}.example.com",
            industry=rng.choice(INDUSTRIES),
            employees=int(math.exp(rng.uniform(math.log(5), math.log(5000)))),
            created_at=created_at,
        )
        self.companies.append(company)
        return company

    def _new_contact(self, created_at: datetime) -> Contact:
        rng = self.rng
        if self.companies and rng.random() < 0.3:
            company = rng.choice(self.companies[-40:])
        else:
            company = self._new_company(created_at)
        number = len(self.contacts) + 1
        first = rng.choice(("ana", "ben", "chloe", "dev", "emma", "farid", "grace", "hiro"))
        last = rng.choice(("smith", "garcia", "chen", "okafor", "novak", "silva", "berg"))
        contact = Contact(
            contact_id=str(100 + number),
            email=f"{first}.{last}{number}@{company.domain}",
            firstname=first.title(),
            lastname=last.title(),
            company=company,
            created_at=created_at,
        )
        self.contacts.append(contact)
        return contact

    def _build_offline_contacts(self) -> None:
        """Leads from trade shows and imports: contacts with no web analytics trail."""
        rng = self.rng
        span = (self.end - self.start).total_seconds()
        for _ in range(max(3, len(self.contacts) // 12)):
            self._new_contact(self.start + timedelta(seconds=rng.uniform(0, span * 0.95)))

    def _build_deals(self) -> None:
        rng = self.rng
        visits_by_visitor: dict[str, list[Visit]] = {}
        for visit in self.visits:
            visits_by_visitor.setdefault(visit.visitor_id, []).append(visit)
        colleagues_of: dict[str, list[Contact]] = {}
        for contact in self.contacts:
            colleagues_of.setdefault(contact.company.company_id, []).append(contact)
        for contact in self.contacts:
            trail = [v for vid in contact.visitor_ids for v in visits_by_visitor.get(vid, [])]
            contact.true_first_touch = min(
                (v for v in trail if v.started_at < contact.created_at),
                key=lambda v: (v.started_at, v.visitor_id),
                default=None,
            )
            channel = contact.true_first_touch.channel if contact.true_first_touch else "offline"
            pricing = sum(page in ("/pricing", "/demo") for v in trail for page in v.pages)
            logit = (
                -2.2
                + CHANNEL_LIFT[channel]
                + 0.35 * min(pricing, 5)
                + 0.25 * math.log10(contact.company.employees)
            )
            contact.true_conversion_probability = 1 / (1 + math.exp(-logit))
        for contact in self.contacts:
            p_won = contact.true_conversion_probability
            # An opportunity comes first; won deals follow the true probability exactly.
            if rng.random() >= min(1.0, p_won * 2.2 * self.profile.opportunity_share):
                continue
            created_at = contact.created_at + timedelta(days=rng.uniform(2, 40))
            if created_at >= self.end:
                continue
            will_win = rng.random() < 1 / 2.2
            closed_at = created_at + timedelta(days=rng.uniform(10, 90))
            colleagues = [
                c.contact_id
                for c in colleagues_of[contact.company.company_id]
                if c is not contact and c.created_at < created_at
            ]
            contact_ids = [contact.contact_id] + colleagues[: rng.randint(0, 2)]
            amount = round(rng.uniform(4_000, 60_000), 2)
            if closed_at < self.end:
                stage = "closedwon" if will_win else "closedlost"
                modified = closed_at
            else:
                stage, closed_at = rng.choice(DEAL_STAGES_OPEN), None
                modified = created_at
            self.deals.append(
                Deal(
                    str(900_000 + len(self.deals) + 1),
                    f"{contact.company.name} - new business",
                    amount,
                    created_at,
                    stage,
                    closed_at,
                    contact_ids,
                    modified,
                )
            )

    def _build_sales_verdicts(self) -> None:
        """Lifecycle dates, lead status and lost reasons; a separate stream of randomness so that
        the company's visits, contacts and deals do not depend on it."""
        rng = random.Random(self.seed * 31 + 1)
        for deal in self.deals:
            if deal.stage == "closedlost":
                deal.closed_lost_reason = rng.choice(LOST_REASONS)
        for contact in self.contacts:
            deals = self.deals_by_contact.get(contact.contact_id, [])
            first_deal = min((d.created_at for d in deals), default=None)
            if first_deal is not None or rng.random() < contact.true_conversion_probability * 1.5:
                mql_at = contact.created_at + timedelta(hours=rng.uniform(1, 72))
                contact.mql_at = min(mql_at, first_deal) if first_deal else mql_at
                if first_deal is not None:
                    contact.sql_at = contact.mql_at + (first_deal - contact.mql_at) / 2
            if contact.mql_at and contact.mql_at >= self.end:
                contact.mql_at = None
            if deals:
                contact.lead_status = "OPEN_DEAL"
            elif rng.random() < 1 - contact.true_conversion_probability:
                contact.lead_status = rng.choice(("UNQUALIFIED", "BAD_TIMING", "UNQUALIFIED"))
                if contact.lead_status == "UNQUALIFIED":
                    contact.disqualification_reason = rng.choice(DISQUALIFICATION_REASONS)
            else:
                contact.lead_status = rng.choice(("NEW", "ATTEMPTED_TO_CONTACT", "CONNECTED"))

    def _build_deleted_records(self) -> None:
        """Spam leads and mistaken duplicate deals that sales deleted; their own stream of
        randomness, so that the live company does not depend on them."""
        rng = random.Random(self.seed * 53 + 5)
        span = (self.end - self.start).total_seconds()
        for number in range(max(2, len(self.contacts) // 50)):
            created_at = self.start + timedelta(seconds=rng.uniform(0, span * 0.9))
            self.archived_contacts.append(
                Contact(
                    contact_id=str(90_000_000 + number),
                    email=f"spam{number}@mailinator.example",
                    firstname="Spam",
                    lastname=str(number),
                    company=self.companies[rng.randrange(len(self.companies))],
                    created_at=created_at,
                    archived_at=created_at + timedelta(days=rng.uniform(0.1, 10)),
                )
            )
        for number, original in enumerate(rng.sample(self.deals, max(1, len(self.deals) // 40))):
            created_at = original.created_at + timedelta(hours=rng.uniform(1, 48))
            if created_at >= self.end - timedelta(days=1):
                continue
            stage = rng.choice(("closedwon", *DEAL_STAGES_OPEN))
            self.archived_deals.append(
                Deal(
                    deal_id=str(990_000_000 + number),
                    name=f"{original.name} (duplicate)",
                    amount=original.amount,
                    created_at=created_at,
                    stage=stage,
                    closed_at=created_at if stage == "closedwon" else None,
                    contact_ids=list(original.contact_ids),
                    modified_at=created_at,
                    archived_at=created_at + timedelta(hours=rng.uniform(1, 24)),
                )
            )

    # ---- ground truth -----------------------------------------------------------------
    def won_deals(self) -> list[Deal]:
        return [d for d in self.deals if d.stage == "closedwon"]

    def closed_won_revenue(self) -> float:
        return round(sum(d.amount for d in self.won_deals()), 2)

    def contact(self, contact_id: str) -> Contact:
        return self.contacts_by_id[contact_id]

    @cached_property
    def contacts_by_id(self) -> dict[str, Contact]:
        """Live contacts by id (built once the company is)."""
        return {c.contact_id: c for c in self.contacts}

    @cached_property
    def deals_by_contact(self) -> dict[str, list[Deal]]:
        """Live deals of each contact id (built once the deals are)."""
        deals_of: dict[str, list[Deal]] = {}
        for deal in self.deals:
            for contact_id in deal.contact_ids:
                deals_of.setdefault(contact_id, []).append(deal)
        return deals_of

    def true_first_touch_channel(self, contact_id: str) -> str:
        touch = self.contact(contact_id).true_first_touch
        return touch.channel if touch else "offline"

    def open_lead_ids(self) -> set[str]:
        """Contacts not associated with any closed (won or lost) deal."""
        closed = {
            cid
            for d in self.deals
            if d.stage in ("closedwon", "closedlost")
            for cid in d.contact_ids
        }
        return {c.contact_id for c in self.contacts} - closed
