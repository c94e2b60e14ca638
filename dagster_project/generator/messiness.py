"""Malformed lines: the kinds of broken record the loader must quarantine (CONTRACT §5).

A malformed line is written *in addition to* the good record it was derived
from (a corrupted re-delivery), so the valid lines alone stay complete and
consistent, and the marts do not depend on ``malformed_rate``. Each kind is
one the loader's row rules reject with a stable reason code:

``truncated_json``  the line is cut off (bad_json)
``missing_id``      the identity key is removed (missing_field)
``wrong_type``      a value of the wrong JSON type or an unparsable number (wrong_type)
``out_of_range``    NPS 11, stars 7, a negative amount or quantity, a call answered 25 h after it
                    started, a timestamp in the year 2999 (out_of_range / future_timestamp)
``unknown_enum``    a value outside the contract's vocabulary (unknown_enum)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import orjson

from dagster_project.generator import entities as E

Record = dict[str, Any]


def _truncate(line: bytes, rng: random.Random) -> bytes:
    text = line.decode("utf-8")
    cut = max(1, int(len(text) * (0.2 + 0.75 * rng.random())))
    return text[: min(cut, len(text) - 2)].encode("utf-8")


def _drop_id(entity: int) -> Callable[[Record, random.Random], None]:
    def apply(r: Record, rng: random.Random) -> None:
        r.pop(E.ID_FIELD[entity], None)

    return apply


# entity -> wrong_type mutations (each takes the parsed copy and edits it in place).
def _contacts_wrong(r: Record, rng: random.Random) -> None:
    r["createdAt"] = 1_700_000_000_000 + int(rng.random() * 10**10)  # epoch millis, HubSpot v1 style


def _products_wrong(r: Record, rng: random.Random) -> None:
    r["properties"]["price"] = r["properties"]["price"].replace(".", ",") + " EUR"


def _orders_wrong(r: Record, rng: random.Random) -> None:
    p = r["properties"]
    p["hs_total_price"] = p["hs_total_price"].replace(".", ",") + " " + p["hs_currency_code"]


def _tickets_wrong(r: Record, rng: random.Random) -> None:
    r["updatedAt"] = 1_700_000_000_000 + int(rng.random() * 10**10)


def _feedback_wrong(r: Record, rng: random.Random) -> None:
    r["properties"]["hs_value"] = ("nine", "n/a", "10/10", "five")[int(rng.random() * 4)]


def _owners_wrong(r: Record, rng: random.Random) -> None:
    r["archived"] = "false"


def _calls_wrong(r: Record, rng: random.Random) -> None:
    if rng.random() < 0.5:
        r["duration"] = str(r["duration"])
    else:
        r["started_at"] = str(r["started_at"])


def _tracks_wrong(r: Record, rng: random.Random) -> None:
    props = r["properties"]
    for key in ("price", "revenue"):
        if isinstance(props.get(key), float | int):
            props[key] = f"{props[key]:.2f}".replace(".", ",")
            return
    r["timestamp"] = 1_700_000_000 + int(rng.random() * 10**8)


def _reviews_wrong(r: Record, rng: random.Random) -> None:
    r["stars"] = str(r["stars"])


# entity -> out_of_range mutations.
# Nothing is rejected only for being old (a 1970 timestamp loads), so the time-based
# out_of_range mutations use what the loader's value table rejects instead.
def _far_future(path: tuple[str, ...]) -> Callable[[Record, random.Random], None]:
    def apply(r: Record, rng: random.Random) -> None:
        target = r
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = "2999-01-01T00:00:00Z"

    return apply


def _calls_range(r: Record, rng: random.Random) -> None:
    r["answered_at"] = r["started_at"] + 25 * 3600  # more than the 24 h a call may wait


def _tracks_range(r: Record, rng: random.Random) -> None:
    r["properties"]["quantity"] = -3


def _orders_range(r: Record, rng: random.Random) -> None:
    r["properties"]["hs_refund_amount"] = "-" + r["properties"]["hs_total_price"]


def _products_range(r: Record, rng: random.Random) -> None:
    r["properties"]["price"] = "-1.00"


def _feedback_range(r: Record, rng: random.Random) -> None:
    p = r["properties"]
    p["hs_value"] = {"NPS": "11", "CSAT": "6", "CES": "0"}[p["hs_survey_type"]]


def _reviews_range(r: Record, rng: random.Random) -> None:
    r["stars"] = 7 if rng.random() < 0.7 else 0


# entity -> unknown_enum mutations.
def _set(path: tuple[str, ...], values: tuple[str, ...]) -> Callable[[Record, random.Random], None]:
    def apply(r: Record, rng: random.Random) -> None:
        target = r
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = values[int(rng.random() * len(values))]

    return apply


_KINDS: dict[int, dict[str, Callable[[Record, random.Random], None]]] = {
    E.CONTACTS: {
        "wrong_type": _contacts_wrong,
        "out_of_range": _far_future(("updatedAt",)),
        "unknown_enum": _set(("properties", "customer_segment"), ("vip", "Enterprise ", "b2b")),
    },
    E.PRODUCTS: {"wrong_type": _products_wrong, "out_of_range": _products_range},
    E.ORDERS: {
        "wrong_type": _orders_wrong,
        "out_of_range": _orders_range,
        "unknown_enum": _set(("properties", "hs_source_store"), ("instagram", "pos", "WEB ")),
    },
    E.TICKETS: {
        "wrong_type": _tickets_wrong,
        "out_of_range": _far_future(("properties", "createdate")),
        "unknown_enum": _set(("properties", "source_type"), ("FAX", "WHATSAPP", "email")),
    },
    E.FEEDBACK: {
        "wrong_type": _feedback_wrong,
        "out_of_range": _feedback_range,
        "unknown_enum": _set(("properties", "hs_survey_channel"), ("PHONE", "KIOSK")),
    },
    E.OWNERS: {"wrong_type": _owners_wrong},
    E.CALLS: {
        "wrong_type": _calls_wrong,
        "out_of_range": _calls_range,
        "unknown_enum": _set(("missed_call_reason",), ("caller_hung_up", "busy", "voicemail")),
    },
    E.TRACKS: {
        "wrong_type": _tracks_wrong,
        "out_of_range": _tracks_range,
        "unknown_enum": _set(("context", "device", "type"), ("smart_tv", "console", "Mobile")),
    },
    E.REVIEWS: {
        "wrong_type": _reviews_wrong,
        "out_of_range": _reviews_range,
        "unknown_enum": _set(("source",), ("yelp", "facebook", "Trustpilot")),
    },
}

KINDS: tuple[str, ...] = ("truncated_json", "missing_id", "wrong_type", "out_of_range", "unknown_enum")


def kinds_for(entity: int) -> tuple[str, ...]:
    return ("truncated_json", "missing_id", *_KINDS[entity])


def corrupt(entity: int, line: bytes, rng: random.Random) -> tuple[str, bytes]:
    """A malformed variant of ``line`` (a valid record of ``entity``) and the kind of damage."""
    options = kinds_for(entity)
    kind = options[int(rng.random() * len(options))]
    if kind == "truncated_json":
        return kind, _truncate(line, rng)
    record = orjson.loads(line)
    if kind == "missing_id":
        _drop_id(entity)(record, rng)
    else:
        _KINDS[entity][kind](record, rng)
    return kind, orjson.dumps(record)
