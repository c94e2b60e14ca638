"""Reference data shared by every chunk: products, support agents (owners), phone lines, queue climate.

Built from the seed alone (never from a chunk), so every worker process builds
exactly the same objects and chunks can be simulated independently.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.clock import DAY, Clock

# Category -> product nouns (the catalogue is in English, as many shops' is).
_NOUNS: dict[str, tuple[str, ...]] = {
    "footwear": ("Trail shoe", "Running shoe", "Hiking boot", "Sandal", "Sneaker", "Winter boot"),
    "apparel": ("Rain jacket", "Hoodie", "T-shirt", "Fleece", "Chinos", "Down vest"),
    "outdoor": ("Tent", "Sleeping bag", "Backpack 30L", "Camping stove", "Trekking poles", "Headlamp"),
    "electronics": ("Headphones", "Action camera", "Smartwatch", "Bluetooth speaker", "Power bank", "E-reader"),
    "home": ("Desk lamp", "Throw blanket", "Wall clock", "Storage box", "Cushion", "Doormat"),
    "kitchen": ("Chef's knife", "Cast iron pan", "Coffee grinder", "Teapot", "Cutting board", "Water bottle"),
    "beauty": ("Face cream", "Shampoo", "Lip balm", "Perfume", "Hand cream", "Sun screen"),
    "sports": ("Yoga mat", "Dumbbell set", "Football", "Tennis racket", "Cycling helmet", "Jump rope"),
    "toys": ("Puzzle 1000", "Building blocks", "Plush bear", "Board game", "Kite", "Train set"),
    "books": ("Cookbook", "Travel guide", "Novel", "Atlas", "Sketchbook", "Field guide"),
}
_TIERS = ("Basic", "Classic", "Plus", "Pro", "Premium")


@dataclass
class Product:
    id: str
    sku: str
    name: str
    category: str
    launch: float  # Unix time it can be bought (0 = it existed before the run)
    prices: list[tuple[float, float]]  # (CRM version time, EUR price from then on), ascending

    def price_at(self, t: float) -> float:
        price = self.prices[0][1]
        for start, value in self.prices:
            if start <= t:
                price = value
        return price

    def record(self, t: float, clock: Clock) -> dict[str, Any]:
        return {
            "id": self.id,
            "updatedAt": clock.iso(t),
            "archived": False,
            "properties": {
                "name": self.name,
                "hs_sku": self.sku,
                "category": self.category,
                "price": f"{self.price_at(t):.2f}",
            },
        }


@dataclass(frozen=True)
class Line:
    """An Aircall number (a support line) and its opening hours in local time."""

    id: int
    name: str
    country: str
    time_zone: str
    hours: tuple[tuple[float, float] | None, ...]  # Monday..Sunday: (open hour, close hour) or closed
    ivr_seconds: float  # 0 = no IVR menu
    languages: tuple[str, ...]
    digits: str = ""

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "digits": self.digits,
            "country": self.country,
            "time_zone": self.time_zone,
        }


_WEEKDAYS_8_20 = ((8.0, 20.0),) * 5
# Opening hours per line: a design choice resembling real European support desks
# (weekday office hours, short Saturdays, CN and RU open longer).
LINES: tuple[Line, ...] = (
    Line(11, "Support PL", "PL", "Europe/Warsaw", (*_WEEKDAYS_8_20, (9.0, 15.0), None), 8.0, ("pl",)),
    Line(12, "Support DE", "DE", "Europe/Berlin", (((8.0, 18.0),) * 5) + ((10.0, 14.0), None), 10.0, ("de",)),
    Line(13, "Support BG", "BG", "Europe/Sofia", (((9.0, 18.0),) * 5) + (None, None), 8.0, ("bg",)),
    Line(14, "Support LV", "LV", "Europe/Riga", (((9.0, 17.0),) * 5) + (None, None), 8.0, ("lv", "ru")),
    Line(15, "Support RU", "RU", "Europe/Moscow", (((9.0, 21.0),) * 6) + (None,), 6.0, ("ru",)),
    Line(16, "Support CN", "CN", "Asia/Shanghai", ((9.0, 21.0),) * 7, 0.0, ("zh",)),
    Line(17, "Support US", "US", "America/New_York", (*_WEEKDAYS_8_20, (9.0, 17.0), None), 0.0, ("en",)),
    Line(18, "Support EN", "GB", "Europe/London", (((9.0, 17.0),) * 5) + (None, None), 5.0, ("en",)),
)


@dataclass
class Agent:
    owner_id: str
    user_id: int
    first: str
    last: str
    email: str  # as the CRM owner has it
    aircall_email: str  # as Aircall has it (sometimes capitalised: identity compares lower-cased)
    line: int  # index into LINES
    hired_day: int  # first day of work (0 = already employed)
    left_day: int | None  # first day no longer employed
    speed: float  # handle-time multiplier
    user: dict[str, Any] = field(default_factory=dict)

    def employed(self, day: int) -> bool:
        return self.hired_day <= day and (self.left_day is None or day < self.left_day)

    def owner_record(self, day: int) -> dict[str, Any]:
        return {
            "id": self.owner_id,
            "email": self.email,
            "firstName": self.first,
            "lastName": self.last,
            "archived": self.left_day is not None and day >= self.left_day,
        }


class Catalog:
    """Products, agents, lines and the call-centre climate for one (seed, options) pair."""

    def __init__(self, seed: int, customers: int, clock: Clock, support_load: list[float]) -> None:
        rng = random.Random(f"journey-catalog:{seed}")
        self.clock = clock
        self.products = self._products(rng, customers, clock)
        self.by_category: dict[str, list[Product]] = {}
        for p in self.products:
            self.by_category.setdefault(p.category, []).append(p)
        self.categories = tuple(self.by_category)
        self._available: dict[tuple[str, int], list[Product]] = {}
        self.lines = self._lines(rng)
        self.agents = self._agents(rng, customers, clock.days)
        self.teams: list[list[Agent]] = [[a for a in self.agents if a.line == k] for k in range(len(self.lines))]
        self.staffing = self._staffing(rng, clock.days)
        self.support_load = support_load
        self.line_offsets = [clock.offsets(line.time_zone) for line in self.lines]

    # -- products ------------------------------------------------------------

    @staticmethod
    def _products(rng: random.Random, customers: int, clock: Clock) -> list[Product]:
        count = min(S.MAX_PRODUCTS, max(S.MIN_PRODUCTS, round(customers * S.PRODUCTS_PER_CUSTOMER)))
        categories = list(S.CATEGORIES)
        products: list[Product] = []
        for k in range(count):
            category = categories[k % len(categories)]
            median, spread = S.CATEGORIES[category]
            z = rng.gauss(0.0, 1.0)
            tier = _TIERS[min(4, max(0, int((z + 2.0) / 0.8)))]
            noun = _NOUNS[category][int(rng.random() * len(_NOUNS[category]))]
            price = round(median * math.exp(spread * z), 0) - 0.05
            price = max(price, 2.95)
            if rng.random() < S.PRODUCT_LAUNCH_SHARE and clock.days > 7:
                launch = clock.t0 + (1 + rng.random() * (clock.days - 2)) * DAY
                first_version = launch
            else:  # in the catalogue already: first exported by the initial sync
                launch = 0.0
                first_version = clock.t0 + (S.INITIAL_SYNC_HOURS[0] + rng.random() * 0.5) * 3600
            prices = [(first_version, price)]
            if rng.random() < S.PRODUCT_REPRICE_SHARE:
                change = first_version + rng.random() * max(clock.t_end - first_version - 3600, 0)
                if change > first_version + 3600:
                    factor = 0.8 + 0.35 * rng.random()
                    prices.append((change, max(1.95, round(price * factor, 0) - 0.05)))
            products.append(Product(f"P-{k + 1}", f"SKU-{k + 1}", f"{noun} {tier}", category, launch, prices))
        return products

    def available(self, category: str, t: float) -> list[Product]:
        """Products of ``category`` on sale at ``t`` (launched before the start of t's day; cached per day)."""
        day = self.clock.day_of(t)
        key = (category, day)
        found = self._available.get(key)
        if found is None:
            day_start = self.clock.day_start(day)
            found = self._available[key] = [p for p in self.by_category[category] if p.launch <= day_start]
        return found

    # -- support -------------------------------------------------------------

    @staticmethod
    def _lines(rng: random.Random) -> tuple[Line, ...]:
        out = []
        for line in LINES:
            number = people.draw_phone(rng, line.country, landline=line.country not in ("US", "CN"))
            out.append(
                Line(
                    line.id,
                    line.name,
                    line.country,
                    line.time_zone,
                    line.hours,
                    line.ivr_seconds,
                    line.languages,
                    people.format_international(number),
                )
            )
        return tuple(out)

    @staticmethod
    def _agents(rng: random.Random, customers: int, days: int) -> list[Agent]:
        """Teams sized to the customer base: about one agent per 4,000 customers of the line's markets."""
        shares = {line.country: S.MARKET_WEIGHTS.get(line.country, 0.04) for line in LINES}
        agents: list[Agent] = []
        used: set[str] = set()
        owner = 301
        user = 91
        for k, line in enumerate(LINES):
            size = min(60, max(2, round(customers * shares[line.country] / 4000)))
            for _ in range(size + (1 if days > 60 else 0)):
                person = people.draw_person(rng, line.languages[0])
                base = f"{person.first_ascii}.{person.last_ascii}"
                local, n = base, 1
                while local in used:
                    n += 1
                    local = f"{base}{n}"
                used.add(local)
                email = f"{local}@shop.example"
                aircall = email if rng.random() < 0.7 else email[:1].upper() + email[1:]
                hired = 0 if rng.random() < 0.9 or days < 30 else int(rng.random() * days)
                left = int(hired + 10 + rng.random() * days) if rng.random() < 0.08 and days > 45 else None
                agent = Agent(
                    str(owner),
                    user,
                    person.first,
                    person.last,
                    email,
                    aircall,
                    k,
                    hired,
                    left if left is not None and left < days else None,
                    0.75 + 0.5 * rng.random(),
                )
                agent.user = {
                    "id": agent.user_id,
                    "name": f"{person.first} {person.last}",
                    "email": agent.aircall_email,
                }
                agents.append(agent)
                owner += 1
                user += 1
        return agents

    @staticmethod
    def _staffing(rng: random.Random, days: int) -> list[list[float]]:
        """Staffing factor per line and day: daily noise, and the understaffed incident week."""
        start, length, factor = S.UNDERSTAFFED
        out = []
        for _ in LINES:
            row = []
            for day in range(days):
                value = math.exp(rng.gauss(0.0, 0.12))
                if start <= day < start + length:
                    value *= factor
                row.append(value)
            out.append(row)
        return out

    def team_on(self, line: int, day: int) -> list[Agent]:
        team = [a for a in self.teams[line] if a.employed(day)]
        return team or self.teams[line]

    def owner_snapshot_days(self) -> list[int]:
        """Days the owners snapshot is exported: the first day, then the first of every month."""
        days = [0]
        for day in range(1, self.clock.days):
            if self.clock.date_str(day).endswith("-01"):
                days.append(day)
        return days
