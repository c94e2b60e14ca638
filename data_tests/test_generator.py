"""The synthetic landing-zone generator: shapes, identity links, messiness, determinism, option checks.

Every line is checked against the contract's record shapes by an independent
validator written here (field names, JSON types, enums, ranges, timestamps no
later than the end of their dt day). Lines the validator rejects must be
exactly the ones the generator reports as malformed, and the project's own
loader must quarantine exactly those too. Small runs keep the file fast.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import phonenumbers
import pytest

from dagster_project.generator import (
    GenerationSummary,
    GeneratorOptions,
    generate_landing_zone,
    people,
    run_generation,
    validate_options,
)
from dagster_project.lib.identity import normalise_email, normalise_phone

ENTITIES = (
    "crm/contacts",
    "crm/products",
    "crm/orders",
    "crm/tickets",
    "crm/feedback_submissions",
    "crm/owners",
    "calls/calls",
    "cart_events/tracks",
    "reviews/reviews",
)
BUSINESS_START = datetime(2015, 1, 1, tzinfo=UTC)
MISSED_REASONS = {
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_ivr",
    "abandoned_in_classic",
    "no_available_agent",
    "agents_did_not_answer",
}
CART_EVENTS = {"Product Added", "Product Removed", "Cart Viewed", "Checkout Started", "Order Completed"}
TRACK_EVENTS = CART_EVENTS | {"Product Viewed"}
FILE_NAME = re.compile(r"^part-\d{4}\.jsonl(\.gz)?$")


# --- reading a landing zone ---------------------------------------------------------


def read_lines(root: Path, entity: str) -> Iterator[tuple[str, bytes]]:
    """(dt, raw line) for every line of an entity, in a stable order."""
    for folder in sorted((root / entity).glob("dt=*")):
        for path in sorted(folder.iterdir()):
            assert FILE_NAME.match(path.name), path
            opener: Callable[..., Any] = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rb") as handle:
                for line in handle:
                    yield folder.name.removeprefix("dt="), line.rstrip(b"\n")


def parse_ts(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"timestamp should be a string, got {value!r}")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without offset: {value}")
    return moment


# --- the contract's shapes, independently of the generator -------------------------------


class Invalid(Exception):
    pass


def need(condition: bool, message: str) -> None:
    if not condition:
        raise Invalid(message)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def numeric_string(value: Any, name: str, minimum: float | None = 0.0) -> float:
    need(isinstance(value, str), f"{name} should be a string")
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} is not a number: {value!r}") from None
    need(minimum is None or number >= minimum, f"{name} below {minimum}")
    return number


def timestamps_ok(moments: list[datetime], dt: str) -> None:
    end = datetime.combine(date.fromisoformat(dt) + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for moment in moments:
        need(BUSINESS_START <= moment <= end, f"timestamp {moment} outside [2015-01-01, end of dt={dt}]")


def crm_common(r: dict[str, Any], dt: str, created: bool = True) -> list[datetime]:
    need(isinstance(r.get("id"), str) and r["id"] != "", "id should be a non-empty string")
    need(isinstance(r.get("archived"), bool), "archived should be a boolean")
    need(isinstance(r.get("properties"), dict), "properties should be an object")
    moments = [parse_ts(r["updatedAt"])]
    if created:
        moments.append(parse_ts(r["createdAt"]))
        need(moments[0] >= moments[1], "updatedAt before createdAt")
    return moments


def v_contacts(r: dict[str, Any], dt: str) -> None:
    moments = crm_common(r, dt)
    p = r["properties"]
    need(all(v is None or isinstance(v, str) for v in p.values()), "HubSpot properties are strings")
    need(isinstance(p.get("email"), str) and "@" in p["email"], "email")
    need(p.get("customer_segment") in (None, "consumer", "smb", "enterprise"), "customer_segment enum")
    need(p.get("country") in ("BG", "CN", "LV", "RU", "PL", "DE", "US"), "country")
    moments.append(parse_ts(p["createdate"]))
    timestamps_ok(moments, dt)


def v_products(r: dict[str, Any], dt: str) -> None:
    moments = crm_common(r, dt, created=False)
    p = r["properties"]
    numeric_string(p.get("price"), "price")
    need(all(isinstance(p.get(k), str) for k in ("name", "hs_sku", "category")), "product fields")
    timestamps_ok(moments, dt)


def v_orders(r: dict[str, Any], dt: str) -> None:
    moments = crm_common(r, dt)
    p = r["properties"]
    need(all(isinstance(v, str) for v in p.values()), "HubSpot properties are strings")
    money = {
        k: numeric_string(p.get(k), k)
        for k in ("hs_subtotal_price", "hs_shipping_cost", "hs_total_price", "hs_refund_amount")
    }
    need(money["hs_refund_amount"] <= money["hs_total_price"], "refund above total")
    need(re.fullmatch(r"[A-Z]{3}", p.get("hs_currency_code", "")) is not None, "currency code")
    need(p.get("hs_source_store") in ("web", "app", "amazon", "ebay", "phone"), "hs_source_store enum")
    need(p.get("hs_fulfillment_status") in ("unfulfilled", "fulfilled", "cancelled"), "fulfillment status")
    need(isinstance(p.get("hs_external_order_id"), str), "hs_external_order_id")
    need(isinstance(r["associations"]["contacts"]["results"][0]["id"], str), "order contact association")
    need(isinstance(r.get("line_items"), list) and r["line_items"], "line_items")
    for item in r["line_items"]:
        props = item["properties"]
        need(all(isinstance(v, str) for v in props.values()), "line item properties are strings")
        numeric_string(props["price"], "line price")
        need(props["quantity"].isdigit(), "quantity")
    timestamps_ok(moments, dt)


def v_tickets(r: dict[str, Any], dt: str) -> None:
    moments = crm_common(r, dt)
    p = r["properties"]
    need(all(v is None or isinstance(v, str) for v in p.values()), "HubSpot properties are strings")
    need(p.get("hs_pipeline_stage") in ("1", "2", "3", "4"), "stage")
    need(p.get("hs_ticket_priority") in ("LOW", "MEDIUM", "HIGH", "URGENT"), "priority")
    need(p.get("source_type") in ("EMAIL", "CHAT", "FORM", "PHONE", "MARKETPLACE", "SOCIAL"), "source_type enum")
    created = parse_ts(p["createdate"])
    moments.append(created)
    for key in ("first_agent_reply_date", "closed_date"):
        if p.get(key) is not None:
            moment = parse_ts(p[key])
            need(moment >= created, f"{key} before createdate")
            moments.append(moment)
    need(p["hs_pipeline_stage"] != "4" or p.get("closed_date") is not None, "closed without closed_date")
    need(isinstance(r["associations"]["contacts"]["results"][0]["id"], str), "ticket contact association")
    timestamps_ok(moments, dt)


SCALES = {"NPS": (0, 10), "CSAT": (1, 5), "CES": (1, 7)}


def v_feedback(r: dict[str, Any], dt: str) -> None:
    moments = crm_common(r, dt)
    p = r["properties"]
    need(p.get("hs_survey_type") in SCALES, "survey type enum")
    need(p.get("hs_survey_channel") in ("EMAIL", "WEB", "CHAT", "IN_APP", "SMS"), "survey channel enum")
    value = numeric_string(p.get("hs_value"), "hs_value", minimum=None)
    low, high = SCALES[p["hs_survey_type"]]
    need(value == int(value) and low <= value <= high, f"hs_value {value} outside the scale")
    need(isinstance(p.get("hs_contact_id"), str), "hs_contact_id")
    moments.append(parse_ts(p["hs_submission_timestamp"]))
    timestamps_ok(moments, dt)


def v_owners(r: dict[str, Any], dt: str) -> None:
    need(isinstance(r.get("id"), str) and r["id"] != "", "id should be a non-empty string")
    need(isinstance(r.get("email"), str), "email")
    need(isinstance(r.get("archived"), bool), "archived should be a boolean")
    need(isinstance(r.get("firstName"), str) and isinstance(r.get("lastName"), str), "names")


def v_calls(r: dict[str, Any], dt: str) -> None:
    need(is_int(r.get("id")), "call id should be an integer")
    need(r.get("direction") in ("inbound", "outbound"), "direction enum")
    need(all(is_int(r.get(k)) for k in ("started_at", "ended_at", "duration")), "Unix seconds are integers")
    need(r.get("answered_at") is None or is_int(r["answered_at"]), "answered_at")
    need(r.get("missed_call_reason") is None or r["missed_call_reason"] in MISSED_REASONS, "missed_call_reason enum")
    need(r["started_at"] <= (r["answered_at"] or r["started_at"]) <= r["ended_at"], "call times out of order")
    need(r["duration"] == r["ended_at"] - r["started_at"], "duration")
    need(isinstance(r.get("raw_digits"), str), "raw_digits")
    need(isinstance(r.get("number"), dict) and is_int(r["number"].get("id")), "number")
    need(isinstance(r.get("tags"), list), "tags")
    need(r.get("user") is None or isinstance(r["user"].get("email"), str), "user")
    # A call lands on the day it started (a re-sent copy on a later one).
    need(datetime.fromtimestamp(r["started_at"], UTC).date().isoformat() <= dt, "a call lands on its start day")
    timestamps_ok([datetime.fromtimestamp(r[k], UTC) for k in ("started_at", "ended_at")], dt)


def v_tracks(r: dict[str, Any], dt: str) -> None:
    need(isinstance(r.get("messageId"), str) and r["messageId"] != "", "messageId")
    need(r.get("type") == "track" and r.get("event") in TRACK_EVENTS, "event")
    need(isinstance(r.get("anonymousId"), str), "anonymousId")
    need(r.get("userId") is None or isinstance(r["userId"], str), "userId")
    need(r["context"]["device"]["type"] in ("desktop", "mobile", "tablet"), "device type enum")
    props = r["properties"]
    need(isinstance(props, dict), "properties")
    for key in ("price", "revenue", "total", "value"):
        need(key not in props or (is_number(props[key]) and props[key] >= 0), f"{key} should be a number")
    need("quantity" not in props or (is_int(props["quantity"]) and props["quantity"] >= 0), "quantity")
    if r["event"] in CART_EVENTS:
        need(isinstance(props.get("cart_id"), str), "cart_id on every cart event")
    need(not r["timestamp"].endswith("Z") and r["receivedAt"].endswith("Z"), "offset vs UTC")
    happened, received = parse_ts(r["timestamp"]), parse_ts(r["receivedAt"])
    need(happened <= received, "received before it happened")
    need(received.date().isoformat() == dt, "an event lands on its receivedAt day")
    timestamps_ok([happened, received], dt)


def v_reviews(r: dict[str, Any], dt: str) -> None:
    need(isinstance(r.get("id"), str) and r["id"] != "", "id")
    need(r.get("source") in ("trustpilot", "amazon", "ebay", "google", "website"), "source enum")
    need(is_int(r.get("stars")) and 1 <= r["stars"] <= 5, "stars")
    need(isinstance(r.get("consumer"), dict), "consumer")
    need(r.get("referenceId") is None or isinstance(r["referenceId"], str), "referenceId")
    need(isinstance(r.get("isVerified"), bool), "isVerified")
    timestamps_ok([parse_ts(r["createdAt"])], dt)


VALIDATORS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "crm/contacts": v_contacts,
    "crm/products": v_products,
    "crm/orders": v_orders,
    "crm/tickets": v_tickets,
    "crm/feedback_submissions": v_feedback,
    "crm/owners": v_owners,
    "calls/calls": v_calls,
    "cart_events/tracks": v_tracks,
    "reviews/reviews": v_reviews,
}


def check(entity: str, dt: str, line: bytes) -> dict[str, Any] | None:
    """The record if the line is valid, else None."""
    try:
        record = orjson.loads(line)
        need(isinstance(record, dict), "not an object")
        VALIDATORS[entity](record, dt)
    except (Invalid, ValueError, KeyError, TypeError, IndexError, AttributeError, orjson.JSONDecodeError):
        return None
    return record


class Zone:
    """A generated landing zone, parsed: valid records per entity (with their dt) and invalid line counts."""

    def __init__(self, root: Path, summary: GenerationSummary) -> None:
        self.root = root
        self.summary = summary
        self.records: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.invalid: Counter[str] = Counter()
        self.lines: Counter[str] = Counter()
        for entity in ENTITIES:
            for dt, line in read_lines(root, entity):
                self.lines[entity] += 1
                record = check(entity, dt, line)
                if record is None:
                    self.invalid[entity] += 1
                else:
                    self.records[entity].append((dt, record))

    def of(self, entity: str) -> list[dict[str, Any]]:
        return [r for _, r in self.records[entity]]

    def latest(self, entity: str) -> dict[str, dict[str, Any]]:
        """CDC: the latest version per id."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.of(entity):
            if r["id"] not in out or r["updatedAt"] >= out[r["id"]]["updatedAt"]:
                out[r["id"]] = r
        return out


def generate(tmp: Path, name: str, **kwargs: Any) -> Zone:
    options = GeneratorOptions(out=tmp / name, progress=False, **kwargs)
    return Zone(options.out, generate_landing_zone(options))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    """Default rates except no malformed lines: a mid-sized run spanning both incidents."""
    return generate(tmp_path_factory.mktemp("gen"), "clean", customers=2500, days=60, malformed_rate=0.0)


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Zone:
    """Messiness turned up, to measure it."""
    return generate(
        tmp_path_factory.mktemp("gen"),
        "messy",
        customers=1000,
        days=30,
        seed=7,
        late_rate=0.1,
        duplicate_rate=0.1,
        malformed_rate=0.05,
    )


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# --- shapes --------------------------------------------------------------------------------


def test_every_line_is_valid_without_malformed_rate(clean: Zone) -> None:
    assert sum(clean.lines.values()) == clean.summary.lines
    assert dict(clean.invalid) == {}
    assert clean.summary.malformed_lines == 0
    for entity in ENTITIES:
        assert clean.lines[entity] == clean.summary.rows[entity] > 0, entity


def test_layout_and_dt_rules(clean: Zone) -> None:
    start, days = date(2025, 1, 1), 60
    for entity in ENTITIES:
        dts = {dt for dt, _ in clean.records[entity]}
        assert all(start <= date.fromisoformat(dt) < start + timedelta(days=days) for dt in dts), entity
    # Snapshots on the first day; a CRM record lands in the dt of its updatedAt; a review on its createdAt day.
    assert "2025-01-01" in {dt for dt, _ in clean.records["crm/owners"]}
    assert "2025-01-01" in {dt for dt, _ in clean.records["crm/products"]}
    for entity in ("crm/contacts", "crm/orders", "crm/tickets", "crm/feedback_submissions"):
        firsts = {(r["id"], r["updatedAt"]): dt for dt, r in reversed(clean.records[entity])}
        assert all(parse_ts(u).astimezone(UTC).date().isoformat() == dt for (_, u), dt in firsts.items()), entity
    assert all(parse_ts(r["createdAt"]).date().isoformat() == dt for dt, r in clean.records["reviews/reviews"])


def test_types_as_the_vendors_send_them(clean: Zone) -> None:
    order = clean.of("crm/orders")[0]
    assert isinstance(order["id"], str) and isinstance(order["properties"]["hs_total_price"], str)
    call = clean.of("calls/calls")[0]
    assert is_int(call["id"]) and is_int(call["started_at"])
    track = clean.of("cart_events/tracks")[0]
    assert re.search(r"[+-]\d\d:\d\d$", track["timestamp"]) and track["receivedAt"].endswith("Z")
    offsets = {r["timestamp"][-6:] for r in clean.of("cart_events/tracks")}
    assert {"+01:00", "+08:00", "-05:00", "+03:00"} <= offsets  # Warsaw, Shanghai, New York, Moscow


# --- identity links --------------------------------------------------------------------------


def test_orders_completed_exist_in_the_crm(clean: Zone) -> None:
    crm = {r["properties"]["hs_external_order_id"]: r for r in clean.of("crm/orders")}
    completed = [r for r in clean.of("cart_events/tracks") if r["event"] == "Order Completed"]
    assert completed
    for event in completed:
        order = crm[event["properties"]["order_id"]]
        assert order["properties"]["hs_source_store"] in ("web", "app")
        assert order["properties"]["hs_currency_code"] == event["properties"]["currency"]
        assert float(order["properties"]["hs_total_price"]) == pytest.approx(event["properties"]["total"])
    reviewed = {r["referenceId"] for r in clean.of("reviews/reviews") if r["referenceId"] is not None}
    assert reviewed and reviewed <= set(crm)


def test_people_and_agents_link(clean: Zone) -> None:
    contacts = clean.latest("crm/contacts")
    owners = {r["id"]: r for r in clean.of("crm/owners")}
    owner_emails = {normalise_email(r["email"]) for r in owners.values()}
    agents = {normalise_email(r["user"]["email"]) for r in clean.of("calls/calls") if r["user"] is not None}
    assert agents and agents <= owner_emails
    assert {r["properties"]["hubspot_owner_id"] for r in clean.of("crm/tickets")} - {None} <= set(owners)
    for entity in ("crm/orders", "crm/tickets"):
        assert {r["associations"]["contacts"]["results"][0]["id"] for r in clean.of(entity)} <= set(contacts)
    feedback = clean.of("crm/feedback_submissions")
    assert {r["properties"]["hs_contact_id"] for r in feedback} <= set(contacts)
    tickets = {r["id"] for r in clean.of("crm/tickets")}
    assert {r["properties"]["hs_ticket_id"] for r in feedback} - {None} <= tickets
    users = {r["userId"] for r in clean.of("cart_events/tracks")} - {None}
    assert users and users <= set(contacts)


def test_anonymous_visitors_are_stitched_later(clean: Zone) -> None:
    seen: dict[str, set[bool]] = defaultdict(set)
    for r in clean.of("cart_events/tracks"):
        seen[r["anonymousId"]].add(r["userId"] is not None)
    both = sum(1 for flags in seen.values() if flags == {True, False})
    never = sum(1 for flags in seen.values() if flags == {False})
    assert both > 20 and never > 20  # devices that log in later, and visitors who never do
    emails = {normalise_email(r["properties"]["email"]) for r in clean.latest("crm/contacts").values()}
    traits = [r["context"]["traits"]["email"] for r in clean.of("cart_events/tracks") if "traits" in r["context"]]
    guests = [r for r in clean.of("cart_events/tracks") if "traits" in r["context"] and r["userId"] is None]
    assert guests, "e-mail-only checkouts"
    assert all(normalise_email(e) in emails for e in traits)
    assert any(e != normalise_email(e) for e in traits), "checkout e-mails differ in case or whitespace"


def test_callers_match_contacts_by_phone_in_another_format(clean: Zone) -> None:
    phones = {}
    for r in clean.latest("crm/contacts").values():
        key = normalise_phone(r["properties"]["phone"], r["properties"]["country"])
        assert key is not None, r["properties"]["phone"]
        phones[key] = r["properties"]["phone"]
    inbound = [r for r in clean.of("calls/calls") if r["direction"] == "inbound"]
    matched = [r for r in inbound if normalise_phone(r["raw_digits"], r["number"]["country"]) in phones]
    assert 0.6 < len(matched) / len(inbound) < 0.97  # most callers are known; some numbers are not
    different = [
        r for r in matched if phones[normalise_phone(r["raw_digits"], r["number"]["country"])] != r["raw_digits"]
    ]
    assert len(different) > len(matched) / 2


def test_generated_phone_numbers_are_valid_and_formatted_like_libphonenumber() -> None:
    import random

    rng = random.Random(3)
    for region in [*people.MARKETS, "GB"]:
        for landline in (False, True):
            for _ in range(60):
                number = people.draw_phone(rng, region, landline)
                parsed = phonenumbers.parse(number.e164)
                assert phonenumbers.is_valid_number(parsed), number
                assert people.format_international(number) == phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
                assert people.format_national(number) == phonenumbers.format_number(
                    parsed, phonenumbers.PhoneNumberFormat.NATIONAL
                )
                assert normalise_phone(people.crm_phone(rng, number), region) == number.e164


# --- realism: every mart has something to say --------------------------------------------------


def test_markets_languages_and_scripts(clean: Zone) -> None:
    contacts = list(clean.latest("crm/contacts").values())
    assert {r["properties"]["country"] for r in contacts} == {"BG", "CN", "LV", "RU", "PL", "DE", "US"}
    names = " ".join(r["properties"]["lastname"] for r in contacts)
    assert re.search("[а-яА-Я]", names) and re.search("[\u4e00-\u9fff]", names) and re.search("[łśżą]", names)
    texts = " ".join(str(r["properties"]["hs_content"]) for r in clean.of("crm/feedback_submissions"))
    assert re.search("[а-яА-Я]", texts) and re.search("[\u4e00-\u9fff]", texts)
    assert {r["properties"].get("customer_segment") for r in contacts} == {"consumer", "smb", "enterprise", None}
    assert any(r["archived"] for r in clean.of("crm/contacts")), "an erased contact"


def test_commerce_story(clean: Zone) -> None:
    orders = clean.latest("crm/orders")
    props = [r["properties"] for r in orders.values()]
    assert {p["hs_source_store"] for p in props} == {"web", "app", "amazon", "ebay", "phone"}
    assert {p["hs_currency_code"] for p in props} >= {"EUR", "PLN", "BGN", "USD", "CNY", "RUB", "GBP"}
    refunds = [p for p in props if float(p["hs_refund_amount"]) > 0]
    assert any(float(p["hs_refund_amount"]) < float(p["hs_total_price"]) for p in refunds)  # partial
    assert any(float(p["hs_refund_amount"]) == float(p["hs_total_price"]) for p in refunds)  # full
    assert any(p["hs_fulfillment_status"] == "cancelled" for p in props)
    buyers = Counter(r["associations"]["contacts"]["results"][0]["id"] for r in orders.values())
    assert sum(1 for n in buyers.values() if n > 1) > 100, "repeat customers"
    carts: dict[str, set[str]] = defaultdict(set)
    for r in clean.of("cart_events/tracks"):
        if "cart_id" in r["properties"]:
            carts[r["properties"]["cart_id"]].add(r["event"])
    started = [events for events in carts.values() if "Product Added" in events]
    abandoned = sum(1 for events in started if "Order Completed" not in events) / len(started)
    assert 0.6 < abandoned < 0.8  # ~70 % of carts abandoned (Baymard's average)


def test_call_centre_story(clean: Zone) -> None:
    calls = clean.of("calls/calls")
    assert {r["missed_call_reason"] for r in calls} == MISSED_REASONS | {None}
    assert {r["direction"] for r in calls} == {"inbound", "outbound"}
    assert len({r["number"]["name"] for r in calls}) >= 7

    def abandonment(first: int, last: int) -> float:
        lo = datetime(2025, 1, 1, tzinfo=UTC).timestamp() + first * 86400
        hi = lo + (last - first) * 86400
        window = [
            r
            for r in calls
            if r["direction"] == "inbound"
            and lo <= r["started_at"] < hi
            and r["missed_call_reason"] not in ("out_of_opening_hours", "short_abandoned")
        ]
        lost = [r for r in window if r["answered_at"] is None]
        return len(lost) / len(window)

    assert abandonment(18, 25) > 1.8 * abandonment(0, 18)  # the understaffed week


def test_support_and_feedback_story(clean: Zone) -> None:
    tickets = clean.latest("crm/tickets")
    props = [r["properties"] for r in tickets.values()]
    assert {p["source_type"] for p in props} == {"EMAIL", "CHAT", "FORM", "PHONE", "MARKETPLACE", "SOCIAL"}
    assert "RETURN_REQUEST" in {p["hs_ticket_category"] for p in props}
    assert any(p["first_agent_reply_date"] is None for p in props), "never answered"

    def median_minutes(channel: str) -> float:
        waits = sorted(
            (parse_ts(p["first_agent_reply_date"]) - parse_ts(p["createdate"])).total_seconds() / 60
            for p in props
            if p["source_type"] == channel and p["first_agent_reply_date"]
        )
        return waits[len(waits) // 2]

    assert median_minutes("CHAT") < 15 < 60 < median_minutes("EMAIL")
    stages = defaultdict(list)
    for r in sorted(clean.of("crm/tickets"), key=lambda r: r["updatedAt"]):
        stages[r["id"]].append(r["properties"]["hs_pipeline_stage"])
    assert any(s[0] == "1" and s[-1] == "4" and "3" in s for s in stages.values())
    feedback = [r["properties"] for r in clean.of("crm/feedback_submissions")]
    channels: dict[str, set[str]] = defaultdict(set)
    for p in feedback:
        channels[p["hs_survey_type"]].add(p["hs_survey_channel"])
    assert set(channels) == {"NPS", "CSAT", "CES"}
    assert all(len(found) >= 4 for found in channels.values()), channels  # surveys run on every channel
    assert set().union(*channels.values()) == {"EMAIL", "WEB", "CHAT", "IN_APP", "SMS"}
    nps = [p for p in feedback if p["hs_survey_type"] == "NPS"]

    def category(value: int) -> str:
        return "PROMOTER" if value >= 9 else "PASSIVE" if value >= 7 else "DETRACTOR"

    mislabelled = [p for p in nps if p["hs_response_group"] != category(int(p["hs_value"]))]
    assert 0 < len(mislabelled) < 0.15 * len(nps), "the vendor label sometimes disagrees with the score"
    values = Counter(int(p["hs_value"]) for p in nps)
    promoters = sum(n for v, n in values.items() if v >= 9) / len(nps)
    detractors = sum(n for v, n in values.items() if v <= 6) / len(nps)
    assert 0.1 < detractors < promoters < 0.7
    stars = Counter(r["stars"] for r in clean.of("reviews/reviews"))
    assert set(stars) == {1, 2, 3, 4, 5} and stars[5] > stars[1]


# --- messiness -------------------------------------------------------------------------------


def test_malformed_lines_are_exactly_the_reported_ones(messy: Zone) -> None:
    assert messy.summary.malformed_lines > 50
    for entity in ENTITIES:
        assert messy.invalid[entity] == messy.summary.malformed[entity], entity
    kinds = {k.split(":")[1] for k in messy.summary.malformed_kinds}
    assert kinds == {"truncated_json", "missing_id", "wrong_type", "out_of_range", "unknown_enum"}
    share = messy.invalid["cart_events/tracks"] / messy.lines["cart_events/tracks"]
    assert 0.03 < share < 0.06


def test_loader_quarantines_exactly_the_malformed_lines(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    from dagster_project.extract.loader import load_partition
    from dagster_project.lib.landing import ENTITIES as LANDING_ENTITIES
    from dagster_project.lib.landing import partitions_present

    zone = generate(
        tmp_path, "zone", customers=150, days=8, seed=11, malformed_rate=0.08, duplicate_rate=0.05, late_rate=0.05
    )
    con = duckdb.connect()
    quarantined: Counter[str] = Counter()
    for dt in partitions_present(zone.root):
        for e in LANDING_ENTITIES:
            if (zone.root / e.source / e.name / f"dt={dt}").is_dir():
                quarantined[f"{e.source}/{e.name}"] += load_partition(con, e, zone.root, dt).rows_quarantined
    assert sum(quarantined.values()) > 20
    assert {k: v for k, v in quarantined.items() if v} == {k: v for k, v in zone.summary.malformed.items() if v}


def test_duplicates_and_late_events_at_their_rates(messy: Zone) -> None:
    def resent_share(keys: list[Any]) -> float:
        return (len(keys) - len(set(keys))) / len(set(keys))

    tracks = messy.of("cart_events/tracks")
    calls = messy.of("calls/calls")
    for entity, keys in (
        ("cart_events/tracks", [r["messageId"] for r in tracks]),
        ("calls/calls", [r["id"] for r in calls]),
    ):
        assert len(keys) - len(set(keys)) == messy.summary.duplicates[entity], entity  # ids are unique otherwise
    assert 0.075 < resent_share([r["messageId"] for r in tracks]) < 0.125
    assert 0.02 < resent_share([r["id"] for r in calls]) < 0.2  # few calls: a loose band
    crm = [(r["id"], r["updatedAt"]) for e in ("crm/contacts", "crm/orders", "crm/tickets") for r in messy.of(e)]
    assert 0.08 < resent_share(crm) < 0.12
    # A re-sent record is identical, except a Segment retry's receivedAt.
    first: dict[str, dict[str, Any]] = {}
    for r in tracks:
        if r["messageId"] in first:
            assert {k: v for k, v in r.items() if k != "receivedAt"} == {
                k: v for k, v in first[r["messageId"]].items() if k != "receivedAt"
            }
        first.setdefault(r["messageId"], r)
    late = [r for r in first.values() if parse_ts(r["receivedAt"]) - parse_ts(r["timestamp"]) >= timedelta(days=1)]
    assert 0.06 < len(late) / len(first) < 0.14
    assert messy.summary.late_events > 0


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_same_bytes_for_any_worker_count(tmp_path: Path) -> None:
    options = GeneratorOptions(out=tmp_path / "a", customers=400, days=20, progress=False, chunk_customers=120)
    one = run_generation(options, workers=1)
    two = run_generation(replace(options, out=tmp_path / "b"), workers=2)
    assert one.rows == two.rows and one.bytes_written == two.bytes_written
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert {p.name for p in (tmp_path / "a").rglob("part-*")} == {"part-0001.jsonl", "part-0002.jsonl"}
    other = run_generation(replace(options, out=tmp_path / "c", seed=43), workers=1)
    assert other.rows != one.rows
    assert tree_digest(tmp_path / "c") != tree_digest(tmp_path / "a")


def test_gzip_holds_the_same_lines(tmp_path: Path) -> None:
    plain = GeneratorOptions(out=tmp_path / "plain", customers=200, days=15, progress=False, chunk_customers=80)
    packed = replace(plain, out=tmp_path / "packed", gzip=True)
    run_generation(plain, workers=1)
    summary = run_generation(packed, workers=1)
    assert all(p.name.endswith(".jsonl.gz") for p in packed.out.rglob("part-*"))
    for entity in ENTITIES:
        assert list(read_lines(plain.out, entity)) == list(read_lines(packed.out, entity))
    assert summary.bytes_written == sum(p.stat().st_size for p in packed.out.rglob("part-*"))
    again = run_generation(replace(packed, out=tmp_path / "again"), workers=1)
    assert again.bytes_written == summary.bytes_written
    assert tree_digest(packed.out) == tree_digest(tmp_path / "again")


def test_summary_reads_in_one_line(messy: Zone) -> None:
    text = str(messy.summary)
    assert "\n" not in text and f"{messy.summary.lines:,} lines" in text and "malformed" in text
    assert messy.summary.bytes_written == sum(p.stat().st_size for p in messy.root.rglob("part-*"))


# --- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customers": -5}, "--customers must be positive"),
        ({"customers": 0}, "--customers must be positive"),
        ({"days": 0}, "--days must be positive"),
        ({"late_rate": 1.5}, "--late-rate must be a share between 0 and 1"),
        ({"duplicate_rate": -0.1}, "--duplicate-rate must be a share between 0 and 1"),
        ({"malformed_rate": 2.0}, "--malformed-rate must be a share between 0 and 1"),
        ({"start_date": date(2014, 6, 1)}, "--start-date must be 2015-01-08 or later"),
    ],
)
def test_validate_options_rejects_bad_values(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_options(GeneratorOptions(out=tmp_path / "out", **change))


def test_validate_options_rejects_unusable_out_dirs(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        validate_options(GeneratorOptions(out=a_file))
    with pytest.raises(ValueError, match="cannot be created"):
        validate_options(GeneratorOptions(out=a_file / "landing"))
    existing = tmp_path / "landing"
    (existing / "crm" / "orders" / "dt=2025-01-01").mkdir(parents=True)
    with pytest.raises(ValueError, match="already holds a landing zone"):
        validate_options(GeneratorOptions(out=existing))
    validate_options(GeneratorOptions(out=tmp_path / "new" / "landing"))  # created when missing: fine
    assert not (tmp_path / "new").exists(), "validation writes nothing"


def test_validate_options_rejects_a_read_only_dir(tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes through permission bits: use a file system nobody may write to
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no read-only file system to try as root")
        with pytest.raises(ValueError, match="not writable"):
            validate_options(GeneratorOptions(out=Path("/sys/journey-landing")))
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            validate_options(GeneratorOptions(out=locked / "landing"))
    finally:
        locked.chmod(0o700)
        shutil.rmtree(locked)
