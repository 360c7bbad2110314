"""Pushing lead scores to the CRM: only what changed since the CRM last acknowledged it."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import psycopg

from .sources.hubspot import HubSpotClient

log = logging.getLogger(__name__)

SCORE_PROPERTIES = [
    {
        "name": "closedloop_lead_score",
        "label": "closedloop lead score",
        "type": "number",
        "fieldType": "number",
        "groupName": "contactinformation",
        "description": "Probability (0-100) that this lead becomes closed won, refreshed nightly.",
    },
    {
        "name": "closedloop_lead_tier",
        "label": "closedloop lead tier",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "contactinformation",
        "options": [{"label": t, "value": t, "displayOrder": i} for i, t in enumerate("ABCD")],
        "description": "A (call first) to D, from the lead score.",
    },
    {
        "name": "closedloop_score_reasons",
        "label": "closedloop score reasons",
        "type": "string",
        "fieldType": "textarea",
        "groupName": "contactinformation",
        "description": "What raises this lead's score most, in plain words.",
    },
    {
        "name": "closedloop_scored_at",
        "label": "closedloop scored at",
        "type": "datetime",
        "fieldType": "date",
        "groupName": "contactinformation",
        "description": "When closedloop computed the lead score.",
    },
]


@dataclass
class PushStats:
    changed: int = 0
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    unchanged: int = 0
    batches: int = 0
    dry_run: bool = False


@dataclass(frozen=True)
class Change:
    contact_id: str
    score: int
    tier: str | None
    reasons: str | None
    scored_at: datetime
    old_score: int | None


def ensure_score_properties(client: HubSpotClient) -> list[str]:
    """Create the contact properties the scores go into when the CRM lacks them."""
    created = []
    for definition in SCORE_PROPERTIES:
        if not client.contact_property_exists(definition["name"]):
            client.create_contact_property(definition)
            created.append(definition["name"])
    if created:
        log.info("created CRM contact properties %s", created)
    return created


def changed_scores(conn: psycopg.Connection) -> tuple[list[Change], int]:
    """Scores whose value, tier or reasons differ from what the CRM last acknowledged, and how
    many are unchanged."""
    rows = conn.execute(
        """select s.contact_id, s.score, s.tier, s.reasons, s.scored_at, a.score,
                  (a.score, a.tier, a.reasons) is not distinct from (s.score, s.tier, s.reasons)
           from ops.lead_scores s
           left join ops.crm_sync_state a on a.contact_id = s.contact_id
           order by s.contact_id"""
    ).fetchall()
    changes = [Change(*row[:6]) for row in rows if not row[6]]
    return changes, len(rows) - len(changes)


def _failed_ids(body: dict) -> dict[str, str]:
    failed = {}
    for error in body.get("errors", []):
        for contact_id in error.get("context", {}).get("ids", []):
            failed[str(contact_id)] = f"{error.get('category')}: {error.get('message')}"
    return failed


def _properties(change: Change) -> dict[str, str]:
    return {
        "closedloop_lead_score": str(change.score),
        "closedloop_lead_tier": change.tier or "",
        "closedloop_score_reasons": change.reasons or "",
        "closedloop_scored_at": change.scored_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }


def _log(
    conn: psycopg.Connection, run_id: str, change: Change, status: str, error: str | None = None
) -> None:
    conn.execute(
        """insert into ops.crm_sync_log (run_id, contact_id, old_score, new_score, status, error)
           values (%s, %s, %s, %s, %s, %s)""",
        (run_id, change.contact_id, change.old_score, change.score, status, error),
    )


def _acknowledge(conn: psycopg.Connection, run_id: str, change: Change) -> None:
    conn.execute(
        """insert into ops.crm_sync_state (contact_id, score, tier, reasons, acknowledged_at,
               run_id)
           values (%s, %s, %s, %s, now(), %s)
           on conflict (contact_id) do update
           set score = excluded.score, tier = excluded.tier, reasons = excluded.reasons,
               acknowledged_at = excluded.acknowledged_at, run_id = excluded.run_id""",
        (change.contact_id, change.score, change.tier, change.reasons, run_id),
    )


def push_scores(
    conn: psycopg.Connection,
    client: HubSpotClient | None,
    run_id: str,
    batch_size: int = 100,
    dry_run: bool = False,
) -> PushStats:
    """Send changed scores in batches; record what the CRM acknowledged and what it refused.

    Args:
        conn: warehouse connection.
        client: HubSpot client with write scope on contacts (unused in a dry run).
        run_id: the Airflow run, for the sync log.
        batch_size: records per batch update request (HubSpot allows 100).
        dry_run: compute and log the diff, write nothing to the CRM.
    """
    started = time.monotonic()
    changes, unchanged = changed_scores(conn)
    stats = PushStats(changed=len(changes), unchanged=unchanged, dry_run=dry_run)
    if dry_run:
        with conn.transaction():
            for change in changes:
                _log(conn, run_id, change, "dry_run")
        log.info(
            "dry run: %d scores would be sent to the CRM, %d unchanged", len(changes), unchanged
        )
    elif not changes:
        log.info("no lead score changed: nothing sent to the CRM")
    else:
        ensure_score_properties(client)
        for offset in range(0, len(changes), batch_size):
            batch = changes[offset : offset + batch_size]
            body = client.batch_update_contacts(
                [{"id": c.contact_id, "properties": _properties(c)} for c in batch]
            )
            failed = _failed_ids(body)
            stats.batches += 1
            stats.sent += len(batch)
            with conn.transaction():
                for change in batch:
                    error = failed.get(change.contact_id)
                    _log(conn, run_id, change, "failed" if error else "succeeded", error)
                    if error:
                        stats.failed += 1
                    else:
                        stats.succeeded += 1
                        _acknowledge(conn, run_id, change)
    conn.execute(
        """insert into ops.crm_sync_runs (run_id, dry_run, changed, sent, succeeded, failed,
               unchanged, duration_seconds) values (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            run_id,
            dry_run,
            stats.changed,
            stats.sent,
            stats.succeeded,
            stats.failed,
            stats.unchanged,
            time.monotonic() - started,
        ),
    )
    log.info("CRM push: %s", asdict(stats))
    return stats
