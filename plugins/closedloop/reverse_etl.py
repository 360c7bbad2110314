"""Pushing lead scores to the CRM: only what changed since the CRM last acknowledged it."""

from __future__ import annotations

import logging
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
    batches: int = 0


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


def changed_scores(conn: psycopg.Connection) -> list[tuple[str, int, int | None, datetime]]:
    """(contact, new score, score the CRM acknowledged last, scored_at) for every changed score."""
    return conn.execute(
        """select s.contact_id, s.score, a.score, s.scored_at
           from ops.lead_scores s
           left join ops.crm_sync_state a on a.contact_id = s.contact_id
           where a.score is distinct from s.score
           order by s.contact_id"""
    ).fetchall()


def _failed_ids(body: dict) -> dict[str, str]:
    failed = {}
    for error in body.get("errors", []):
        for contact_id in error.get("context", {}).get("ids", []):
            failed[str(contact_id)] = f"{error.get('category')}: {error.get('message')}"
    return failed


def push_scores(
    conn: psycopg.Connection, client: HubSpotClient, run_id: str, batch_size: int = 100
) -> PushStats:
    """Send changed scores in batches; record what the CRM acknowledged and what it refused.

    Args:
        conn: warehouse connection.
        client: HubSpot client with write scope on contacts.
        run_id: the Airflow run, for the sync log.
        batch_size: records per batch update request (HubSpot allows 100).
    """
    changes = changed_scores(conn)
    stats = PushStats(changed=len(changes))
    if not changes:
        log.info("no lead score changed: nothing sent to the CRM")
        return stats
    ensure_score_properties(client)
    for offset in range(0, len(changes), batch_size):
        batch = changes[offset : offset + batch_size]
        inputs = [
            {
                "id": contact_id,
                "properties": {
                    "closedloop_lead_score": str(score),
                    "closedloop_scored_at": scored_at.astimezone(UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S.000Z"
                    ),
                },
            }
            for contact_id, score, _, scored_at in batch
        ]
        body = client.batch_update_contacts(inputs)
        failed = _failed_ids(body)
        stats.batches += 1
        stats.sent += len(batch)
        with conn.transaction():
            for contact_id, score, old_score, _ in batch:
                error = failed.get(contact_id)
                conn.execute(
                    """insert into ops.crm_sync_log (run_id, contact_id, old_score, new_score,
                           status, error) values (%s, %s, %s, %s, %s, %s)""",
                    (
                        run_id,
                        contact_id,
                        old_score,
                        score,
                        "failed" if error else "succeeded",
                        error,
                    ),
                )
                if error:
                    stats.failed += 1
                    continue
                stats.succeeded += 1
                conn.execute(
                    """insert into ops.crm_sync_state (contact_id, score, acknowledged_at, run_id)
                       values (%s, %s, now(), %s)
                       on conflict (contact_id) do update
                       set score = excluded.score, acknowledged_at = excluded.acknowledged_at,
                           run_id = excluded.run_id""",
                    (contact_id, score, run_id),
                )
    log.info("CRM push: %s", asdict(stats))
    return stats
