"""The simulation's shared state: the run's context, the simulated things, and the simulator's base.

``Context`` is everything chunks share (calendar, rhythms, catalogue, lines),
rebuilt identically in each worker process from the options. ``Customer``,
``Device`` and ``Order`` are what one chunk's simulation keeps about the
people it simulates. ``SimulatorBase`` holds a chunk's random streams, id
counters and the mood model, and declares the steps the parts of the
simulation (``commerce``, ``sessions``, ``support``, ``feedback``) call on each
other, so each part reads on its own.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from dagster_project.generator import entities as E
from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.catalog import Catalog, Product
from dagster_project.generator.clock import (
    DAY,
    SHOP_HOURS,
    SHOP_WEEKDAY,
    SUPPORT_HOURS,
    SUPPORT_WEEKDAY,
    Clock,
    DayProcess,
    HourOfDay,
    day_weights,
)
from dagster_project.generator.options import GeneratorOptions
from dagster_project.generator.sink import Sink

# Mean of the support weekday factors: the daily load is relative to an average day.
SUPPORT_MEAN = sum(SUPPORT_WEEKDAY) / 7
# Mean of the support hour weights over office hours (8-20): the hourly load is relative to it.
SUPPORT_HOUR_MEAN = sum(SUPPORT_HOURS[8:20]) / 12
# The loader quarantines timestamps before its business start (2015-01-01 by default);
# contacts and history may be this old at most.
EARLIEST_START = date(2015, 1, 1)


def seed_for(*parts: object) -> int:
    """A 64-bit seed from any parts, stable across processes and Python runs (no hash randomisation)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def chunk_size(o: GeneratorOptions) -> int:
    """Customers per chunk: about a fixed amount of customer-days, so memory per chunk is flat for any
    run length, and a multiple of SHARDS chunks of equal size, so the shards' workers finish together."""
    if o.chunk_customers is not None:
        return o.chunk_customers
    target = max(S.MIN_CHUNK_CUSTOMERS, min(S.MAX_CHUNK_CUSTOMERS, S.CUSTOMER_DAYS_PER_CHUNK // max(o.days, 1)))
    chunks = S.SHARDS * -(-o.customers // (S.SHARDS * target))
    return -(-o.customers // chunks)


class Context:
    """Everything chunks share, rebuilt identically in each worker from the options."""

    def __init__(self, o: GeneratorOptions) -> None:
        self.options = o
        self.days = o.days
        self.clock = Clock(o.start_date, o.days, back=S.MAX_CONTACT_AGE_DAYS + 2, ahead=S.CALENDAR_AHEAD_DAYS)
        start = o.start_date
        history_start = start - timedelta(days=S.HISTORY_DAYS)
        self.shop = DayProcess(-S.HISTORY_DAYS, day_weights(history_start, S.HISTORY_DAYS + o.days, SHOP_WEEKDAY))
        support_weights = day_weights(start, o.days, SUPPORT_WEEKDAY)
        self.support = DayProcess(0, support_weights)
        self.support_load = [w / SUPPORT_MEAN for w in support_weights]
        self.shop_hours = HourOfDay(SHOP_HOURS)
        self.support_hours = HourOfDay(SUPPORT_HOURS)
        self.catalog = Catalog(o.seed, o.customers, self.clock, self.support_load)
        self.chunk_customers = chunk_size(o)
        # Nothing is older than the loader's default business start (2015-01-01): it quarantines older times.
        self.earliest_t = max(
            self.clock.t0 - (S.MAX_CONTACT_AGE_DAYS - 1) * DAY,
            self.clock.t0 - ((start - EARLIEST_START).days - 1) * DAY,
        )
        years = o.days / 365.0
        self.signup_share = min(S.MAX_SIGNUP_SHARE, S.SIGNUP_SHARE_PER_YEAR * years)
        bg_euro = date.fromisoformat(S.BG_EURO_DATE)
        self.bg_euro_t = self.clock.t0 + (bg_euro - start).days * DAY
        self.carrier_window = (
            self.clock.t0 + S.CARRIER_DELAY[0] * DAY,
            self.clock.t0 + (S.CARRIER_DELAY[0] + S.CARRIER_DELAY[1]) * DAY,
        )
        self.line_of_market = {line.country: k for k, line in enumerate(self.catalog.lines)}
        self.english_line = next(k for k, line in enumerate(self.catalog.lines) if line.country == "GB")

    @property
    def chunks(self) -> int:
        return -(-self.options.customers // self.chunk_customers)


@dataclass(slots=True)
class Device:
    """A browser or phone of a customer (or prospect): its Segment anonymousId and context."""

    anon: str
    kind: str
    app: bool
    known: bool
    offsets: list[int]
    context: dict[str, Any]


@dataclass(slots=True)
class Order:
    """An order as the simulation knows it (amounts in the order currency)."""

    oid: str
    cid: str
    ext: str
    store: str
    t: float
    currency: str
    items: list[tuple[Product, int, float]]  # product, quantity, unit price in the order currency
    subtotal: float
    shipping: float
    total: float
    delivered: float | None = None


@dataclass(slots=True)
class Customer:
    """One CRM contact and what their story needs to remember."""

    index: int
    cid: str
    market: str
    language: str
    segment: str | None
    person: people.Person
    email: str  # canonical lower-case address
    crm_email: str
    phone: people.PhoneNumber
    crm_phone: str
    alt_phone: people.PhoneNumber
    offsets: list[int]
    locale: str
    line: int
    created: float
    rate: float  # orders per weight-day while alive
    p_drop: float
    mood_base: float
    store_cum: list[float]
    favourites: tuple[str, ...]
    stop: float  # erasure time or end of run: nothing happens after it
    devices: list[Device] = field(default_factory=list)
    stage: str = "lead"
    last_contact_t: float = 0.0
    shocks: list[tuple[float, float]] = field(default_factory=list)
    bought: dict[str, float] = field(default_factory=dict)  # category -> highest EUR unit price paid
    orders: list[Order] = field(default_factory=list)
    surveys: list[tuple[float, str, str, str, str | None]] = field(default_factory=list)
    alive_until: float = 0.0
    first_order_done: bool = False


class SimulatorBase:
    """A chunk's random streams, id counters and mood model; the parts of the simulation build on it."""

    def __init__(self, ctx: Context, chunk: int, sink: Sink) -> None:
        self.ctx = ctx
        self.clock = ctx.clock
        self.cat = ctx.catalog
        self.chunk = chunk
        self.sink = sink
        self.rng = random.Random(seed_for("journey-chunk", ctx.options.seed, chunk))
        # Messiness draws come from their own stream: the rates never change the underlying story.
        self.mess_rng = random.Random(seed_for("journey-mess", ctx.options.seed, chunk))
        self.np_rng = np.random.default_rng(seed_for("journey-chunk-np", ctx.options.seed, chunk))
        self.first = chunk * ctx.chunk_customers
        self.count = min(ctx.chunk_customers, ctx.options.customers - self.first)
        self.late_rate = ctx.options.late_rate
        self._counters = {"order": 0, "ticket": 0, "feedback": 0, "call": 0}
        self._viewed: dict[tuple[str, float, str], dict[str, Any]] = {}
        self.t0 = self.clock.t0
        self.t_end = self.clock.t_end

    def _next_id(self, kind: str, base: int) -> int:
        n = self._counters[kind] = self._counters[kind] + 1
        if n >= S.ID_BLOCK:
            raise RuntimeError(f"more than {S.ID_BLOCK:,} {kind}s in one chunk")
        return base + self.chunk * S.ID_BLOCK + n

    def _hex(self, bits: int) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def _shock(self, c: Customer, t: float, delta: float) -> None:
        if delta:
            c.shocks.append((t, delta))

    def _mood(self, c: Customer, t: float) -> float:
        mood = c.mood_base
        for when, delta in c.shocks:
            if when <= t:
                mood += delta * math.exp(-(t - when) / (S.MOOD_DECAY_DAYS * DAY))
        return mood

    def _device(self, market: str, offsets: list[int], locale: str) -> Device:
        weights = S.DEVICE_WEIGHTS.get(market, S.DEVICE_WEIGHTS_DEFAULT)
        u = self.rng.random()
        kind = "desktop" if u < weights[0] else "mobile" if u < weights[0] + weights[1] else "tablet"
        app = kind != "desktop" and self.rng.random() < S.APP_INSTALLED_SHARE
        context = {"device": {"type": kind}, "locale": locale}
        return Device(f"a-{self._hex(64)}", kind, app, False, offsets, context)

    def _contact_version(self, c: Customer, t: float, archived: bool = False) -> None:
        clock = self.clock
        t = max(t, c.created + 1.0)
        created = clock.iso_ms(c.created)
        updated = clock.iso(t)
        props: dict[str, Any] = {
            "email": c.crm_email,
            "firstname": c.person.first,
            "lastname": c.person.last,
            "phone": c.crm_phone,
            "country": c.market,
            "hs_language": people.HS_LANGUAGE.get(c.language, c.language),
            "lifecyclestage": c.stage,
        }
        if c.segment is not None:
            props["customer_segment"] = c.segment
        props["createdate"] = created
        props["lastmodifieddate"] = updated
        record = {"id": c.cid, "createdAt": created, "updatedAt": updated, "archived": archived, "properties": props}
        self.sink.emit(E.CONTACTS, clock.day_of(t), record)
        c.last_contact_t = max(c.last_contact_t, t)

    # -- steps one part of the simulation asks of another ---------------------------

    def _basket(self, c: Customer, t: float, first: bool = False) -> list[tuple[Product, int, float]]:
        raise NotImplementedError  # commerce.Commerce

    def _currency(self, c: Customer, store: str, t: float) -> str:
        raise NotImplementedError  # commerce.Commerce

    def _purchase(self, c: Customer, t: float, signup_device: Device | None = None) -> None:
        raise NotImplementedError  # commerce.Commerce

    def _session(
        self,
        c: Customer | None,
        device: Device,
        t: float,
        kind: str,
        items: list[tuple[Product, int, float]],
        currency: str,
        *,
        order: Order | None = None,
        guest: bool = False,
        login_at: float | None = None,
    ) -> float:
        raise NotImplementedError  # sessions.Sessions

    def _contact_support(self, c: Customer, t: float, category: str, order: Order | None, reason: str) -> None:
        raise NotImplementedError  # support.Support

    def _call_chain(self, c: Customer, t: float, reason: str, ticket_category: str | None = None) -> None:
        raise NotImplementedError  # support.Support

    def _daytime(self, c: Customer, t: float, not_before: float) -> float:
        raise NotImplementedError  # support.Support


def pick(rng: random.Random, products: list[Product]) -> Product | None:
    return products[int(rng.random() * len(products))] if products else None


def weighted(rng: random.Random, choices: tuple[tuple[Any, float], ...]) -> Any:
    total = 0.0
    for _, w in choices:
        total += w
    u = rng.random() * total
    for value, w in choices:
        u -= w
        if u < 0:
            return value
    return choices[-1][0]
