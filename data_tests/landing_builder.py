"""Build tiny landing zones record by record, in the contract's shapes, for hand-worked tests.

Each factory returns one record exactly as the vendor would export it (HubSpot
strings, Aircall Unix seconds, Segment offsets); ``LandingBuilder`` writes them
into ``<root>/<source>/<entity>/dt=<day>/part-0001.jsonl``. Raw strings can be
added too, to exercise the quarantine.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def iso(ts: str) -> str:
    """'2025-03-02 10:00' -> '2025-03-02T10:00:00Z'."""
    return datetime.fromisoformat(ts).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unix(ts: str) -> int:
    return int(datetime.fromisoformat(ts).replace(tzinfo=UTC).timestamp())


class LandingBuilder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[tuple[str, str, str], list[str]] = defaultdict(list)

    def add(self, source: str, entity: str, dt: str, record: dict[str, Any] | str) -> LandingBuilder:
        line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
        self._lines[(source, entity, dt)].append(line)
        return self

    def write(self) -> Path:
        for (source, entity, dt), lines in self._lines.items():
            folder = self.root / source / entity / f"dt={dt}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "part-0001.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.root


def contact(
    cid: str,
    at: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    country: str = "PL",
    segment: str | None = "smb",
    created: str | None = None,
    archived: bool = False,
    first: str = "Ana",
    last: str = "Petrova",
    language: str = "pl",
) -> dict[str, Any]:
    created = created or at
    props = {
        "email": email,
        "firstname": first,
        "lastname": last,
        "phone": phone,
        "country": country,
        "hs_language": language,
        "lifecyclestage": "customer",
        "createdate": iso(created),
        "lastmodifieddate": iso(at),
    }
    if segment is not None:
        props["customer_segment"] = segment
    return {"id": cid, "createdAt": iso(created), "updatedAt": iso(at), "archived": archived, "properties": props}


def product(pid: str, at: str, *, category: str, price: str, sku: str | None = None) -> dict[str, Any]:
    return {
        "id": pid,
        "updatedAt": iso(at),
        "archived": False,
        "properties": {"name": f"Product {pid}", "hs_sku": sku or f"SKU-{pid}", "category": category, "price": price},
    }


def order(
    oid: str,
    contact_id: str | None,
    created: str,
    *,
    total: str,
    currency: str = "EUR",
    refund: str = "0",
    status: str = "fulfilled",
    updated: str | None = None,
    store: str = "web",
    external_id: str | None = None,
    items: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """items: (product_id, unit price, quantity) as strings."""
    return {
        "id": oid,
        "createdAt": iso(created),
        "updatedAt": iso(updated or created),
        "archived": False,
        "properties": {
            "hs_order_name": f"#{oid}",
            "hs_external_order_id": external_id or f"ord_{oid}",
            "hs_currency_code": currency,
            "hs_subtotal_price": total,
            "hs_shipping_cost": "0",
            "hs_total_price": total,
            "hs_refund_amount": refund,
            "hs_fulfillment_status": status,
            "hs_source_store": store,
        },
        "associations": {"contacts": {"results": [{"id": contact_id, "type": "order_to_contact"}]}}
        if contact_id
        else {},
        "line_items": [
            {
                "id": f"li_{oid}_{n}",
                "properties": {
                    "hs_product_id": pid,
                    "hs_sku": f"SKU-{pid}",
                    "name": pid,
                    "price": price,
                    "quantity": qty,
                },
            }
            for n, (pid, price, qty) in enumerate(items or [])
        ],
    }


def ticket(
    tid: str,
    contact_id: str | None,
    created: str,
    *,
    channel: str = "EMAIL",
    priority: str = "MEDIUM",
    category: str = "SHIPPING",
    replied: str | None = None,
    closed: str | None = None,
    updated: str | None = None,
    owner: str = "301",
) -> dict[str, Any]:
    stage = "4" if closed else ("3" if replied else "1")
    return {
        "id": tid,
        "createdAt": iso(created),
        "updatedAt": iso(updated or closed or replied or created),
        "archived": False,
        "properties": {
            "subject": "Where is my parcel?",
            "content": "...",
            "hs_pipeline_stage": stage,
            "hs_ticket_priority": priority,
            "hs_ticket_category": category,
            "source_type": channel,
            "createdate": iso(created),
            "first_agent_reply_date": iso(replied) if replied else None,
            "closed_date": iso(closed) if closed else None,
            "hubspot_owner_id": owner,
        },
        "associations": {"contacts": {"results": [{"id": contact_id}]}} if contact_id else {},
    }


def survey(
    sid: str,
    contact_id: str | None,
    at: str,
    *,
    kind: str = "NPS",
    value: str = "9",
    channel: str = "EMAIL",
    group: str | None = None,
) -> dict[str, Any]:
    return {
        "id": sid,
        "createdAt": iso(at),
        "updatedAt": iso(at),
        "archived": False,
        "properties": {
            "hs_survey_type": kind,
            "hs_survey_name": f"{kind} survey",
            "hs_survey_channel": channel,
            "hs_value": value,
            "hs_response_group": group,
            "hs_content": "Dzięki!",
            "hs_submission_timestamp": iso(at),
            "hs_contact_id": contact_id,
            "hs_ticket_id": None,
        },
    }


def owner(oid: str, email: str) -> dict[str, Any]:
    return {"id": oid, "email": email, "firstName": "Ola", "lastName": "Nowak", "archived": False}


def call(
    cid: int,
    started: str,
    *,
    caller: str = "+48 501 234 567",
    answered_after: int | None = 10,
    talk_seconds: int = 120,
    reason: str | None = None,
    direction: str = "inbound",
    agent_email: str = "ola@shop.example",
    line: str = "Support PL",
) -> dict[str, Any]:
    start = unix(started)
    answered = start + answered_after if answered_after is not None else None
    ended = (answered + talk_seconds) if answered is not None else start + 30
    return {
        "id": cid,
        "direction": direction,
        "status": "done",
        "started_at": start,
        "answered_at": answered,
        "ended_at": ended,
        "duration": ended - start,
        "missed_call_reason": reason,
        "raw_digits": caller,
        "user": {"id": 91, "name": "Ola Nowak", "email": agent_email} if answered else None,
        "number": {"id": 11, "name": line, "digits": "+48 22 100 20 30", "country": "PL", "time_zone": "Europe/Warsaw"},
        "tags": [],
        "voicemail": None,
        "recording": None,
        "archived": False,
    }


def track(
    mid: str,
    event: str,
    timestamp: str,
    *,
    anonymous_id: str = "a-1",
    user_id: str | None = None,
    received: str | None = None,
    device: str = "desktop",
    email: str | None = None,
    **properties: Any,
) -> dict[str, Any]:
    """timestamp: a full ISO string with offset, e.g. '2025-03-02T00:30:00+02:00'."""
    ctx: dict[str, Any] = {"device": {"type": device}, "locale": "pl-PL"}
    if email:
        ctx["traits"] = {"email": email}
    received_at = received or datetime.fromisoformat(timestamp).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "messageId": mid,
        "type": "track",
        "event": event,
        "anonymousId": anonymous_id,
        "userId": user_id,
        "timestamp": timestamp,
        "receivedAt": received_at,
        "context": ctx,
        "properties": properties,
    }


def review(
    rid: str, at: str, *, stars: int, source: str = "trustpilot", reference: str | None = None, email: str | None = None
) -> dict[str, Any]:
    return {
        "id": rid,
        "source": source,
        "stars": stars,
        "title": "Zu klein",
        "text": "...",
        "language": "de",
        "createdAt": iso(at),
        "consumer": {"id": "cons-9", "displayName": "K.", "email": email},
        "referenceId": reference,
        "productSku": "SKU-17",
        "isVerified": True,
    }
