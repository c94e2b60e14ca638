"""The nine landing entities the generator writes, as small integers for the hot path."""

from __future__ import annotations

CONTACTS, PRODUCTS, ORDERS, TICKETS, FEEDBACK, OWNERS, CALLS, TRACKS, REVIEWS = range(9)

# entity -> (source folder, entity folder), CONTRACT §1.
FOLDERS: tuple[tuple[str, str], ...] = (
    ("crm", "contacts"),
    ("crm", "products"),
    ("crm", "orders"),
    ("crm", "tickets"),
    ("crm", "feedback_submissions"),
    ("crm", "owners"),
    ("calls", "calls"),
    ("cart_events", "tracks"),
    ("reviews", "reviews"),
)
NAMES: tuple[str, ...] = tuple(f"{source}/{entity}" for source, entity in FOLDERS)
# The record's identity key: a re-sent record repeats it.
ID_FIELD: tuple[str, ...] = ("id", "id", "id", "id", "id", "id", "id", "messageId", "id")
# CRM entities follow change data capture: a re-send repeats (id, updatedAt).
CDC = frozenset({CONTACTS, PRODUCTS, ORDERS, TICKETS, FEEDBACK})
