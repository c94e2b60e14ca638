"""The simulation: one chunk of customers living through the run, emitting vendor-shaped records.

Each customer is simulated on their own, from a random stream that depends
only on (seed, chunk), so chunks are independent and the output does not
depend on which process ran them. A customer's story, in order:

1. Identity: market, language, name, e-mail, phone, devices, segment.
2. The CRM contact: pre-existing contacts arrive in the initial sync on the
   first day with their last year of orders; new ones sign up during the run,
   often after browsing anonymously on the same device.
3. Purchases: an inhomogeneous Poisson process following the weekly and
   seasonal rhythm, with BG/NBD-style drop-out (made likelier by a bad mood).
   Web and app purchases come with their Segment cart sessions, some preceded
   by an abandoned cart that the purchase recovers; marketplace and phone
   orders exist only in the CRM. Each order moves through CDC versions
   (unfulfilled, fulfilled or cancelled, refunded) and has consequences:
   late deliveries, "where is my order" tickets and calls, returns.
4. Browsing and abandoned carts that lead nowhere; general questions to
   support; calls that meet the call centre's opening hours and queue.
5. Surveys and reviews, scored from the customer's mood at that moment: a
   latent score that bad experiences (late parcels, SLA breaches, abandoned
   calls, refunds) push down and time heals.

Anonymous prospects (carts of people who never sign up) and calls from unknown
numbers are added per chunk.

The parts live in their own modules (``commerce`` for 2-3, ``sessions`` for
the Segment visits of 2-4, ``support`` for 4, ``feedback`` for 5, on the
shared state of ``model``); this module ties them into one customer's story.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dagster_project.generator import entities as E
from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.clock import DAY
from dagster_project.generator.commerce import Commerce
from dagster_project.generator.feedback import Feedback
from dagster_project.generator.model import Context, Customer, SimulatorBase, chunk_size, seed_for, weighted
from dagster_project.generator.sessions import Sessions
from dagster_project.generator.support import Support

__all__ = ["ChunkSimulator", "Context", "chunk_size", "seed_for"]

_MARKETS = tuple(S.MARKET_WEIGHTS)
_SEGMENTS = tuple(S.SEGMENT_WEIGHTS)


class ChunkSimulator(Commerce, Sessions, Support, Feedback, SimulatorBase):
    """Simulates customers ``[first, first + count)`` of the run into ``sink``."""

    def run(self) -> None:
        if self.chunk == 0:
            self._reference_data()
        attributes = self._draw_attributes()
        for k in range(self.count):
            self._customer(k, attributes)
        self._prospects()
        self._stranger_calls()

    def _reference_data(self) -> None:
        """Products (first version and repricings) and owners snapshots; written once, by chunk 0."""
        clock, sink = self.clock, self.sink
        for p in self.cat.products:
            for t, _price in p.prices:
                sink.emit(E.PRODUCTS, clock.day_of(t), p.record(t, clock))
        days = sorted(set(self.cat.owner_snapshot_days()) | {a.hired_day for a in self.cat.agents})
        for day in days:
            for agent in self.cat.agents:
                if agent.hired_day <= day:
                    sink.emit(E.OWNERS, day, agent.owner_record(day))

    def _draw_attributes(self) -> dict[str, list[Any]]:
        """Per-customer attributes drawn in one vectorised pass (numpy) for the whole chunk."""
        n, g, ctx = self.count, self.np_rng, self.ctx
        weights = np.array(list(S.MARKET_WEIGHTS.values()))
        seg_weights = np.array(list(S.SEGMENT_WEIGHTS.values()))
        rate = g.gamma(S.ORDERS_PER_YEAR_SHAPE, S.ORDERS_PER_YEAR_SCALE, n) / 365.0
        segments = g.choice(len(_SEGMENTS), n, p=seg_weights / seg_weights.sum())
        rate *= np.array([S.SEGMENT_RATE[_SEGMENTS[s]] for s in segments]) if n else 1.0
        rate = np.where(g.random(n) < S.LEAD_SHARE, rate * S.LEAD_RATE_FACTOR, rate)
        new = g.random(n) < ctx.signup_share
        # Sign-up day position in the run follows the shopping rhythm; pre-existing contacts are older.
        signup = np.array([ctx.shop.sample(0.0, float(ctx.days), self.rng) for _ in range(int(new.sum()))])
        created = -1.0 - g.random(n) * (S.MAX_CONTACT_AGE_DAYS - 2)
        if new.any():
            created[new] = signup
        erase = g.random(n) < S.ERASURE_SHARE_PER_YEAR * ctx.days / 365.0
        return {
            "market": g.choice(len(_MARKETS), n, p=weights / weights.sum()).tolist(),
            "segment": segments.tolist(),
            "rate": rate.tolist(),
            "p_drop": g.beta(*S.DROPOUT_BETA, n).tolist(),
            "mood": g.normal(*S.MOOD_BASE, n).tolist(),
            "new": new.tolist(),
            "created": created.tolist(),
            "erase": erase.tolist(),
            "erase_at": g.random(n).tolist(),
            "devices": (1 + (g.random(n) < S.SECOND_DEVICE_SHARE) + (g.random(n) < S.THIRD_DEVICE_SHARE)).tolist(),
        }

    def _customer(self, k: int, a: dict[str, list[Any]]) -> None:
        rng, clock, ctx = self.rng, self.clock, self.ctx
        index = self.first + k
        market = _MARKETS[a["market"][k]]
        m = people.MARKETS[market]
        language = weighted(rng, m.languages)
        person = people.draw_person(rng, language)
        email = people.email_address(rng, person, index, m.email_domains)
        phone = people.draw_phone(rng, market, landline=rng.random() < people.LANDLINE_SHARE)
        zone = weighted(rng, m.time_zones)
        offsets = clock.offsets(zone)
        locale = f"{language}-{market}" if language != "en" or market == "US" else "en-GB"
        line = ctx.english_line if language == "en" and market != "US" else ctx.line_of_market[market]
        created_pos = a["created"][k]
        if a["new"][k]:
            day = int(created_pos)
            created = clock.local_day_start(offsets, day) + ctx.shop_hours.draw(rng)
            created = min(max(created, self.t0 + 3600.0), self.t_end - 3600.0)
        else:
            created = max(self.t0 + created_pos * DAY, ctx.earliest_t + (k % 997) * 61.0)
        segment = _SEGMENTS[a["segment"][k]]
        store_w = S.STORE_WEIGHTS[market]
        if segment in ("smb", "enterprise"):  # B2B orders by phone more often
            store_w = (store_w[0], store_w[1] * 0.5, store_w[2] * 0.5, store_w[3] * 0.3, store_w[4] + 0.15)
        cum = []
        acc = 0.0
        for w in store_w:
            acc += w
            cum.append(acc)
        categories = self.cat.categories
        favourites = tuple(categories[int(rng.random() * len(categories))] for _ in range(2))
        stop = self.t_end
        if a["erase"][k]:
            stop = max(created, self.t0) + a["erase_at"][k] * (self.t_end - max(created, self.t0))
        c = Customer(
            index=index,
            cid=str(S.CONTACT_ID_BASE + index),
            market=market,
            language=language,
            segment=segment,
            person=person,
            email=email,
            crm_email=people.crm_email(rng, email),
            phone=phone,
            crm_phone=people.crm_phone(rng, phone),
            alt_phone=people.draw_phone(rng, market),
            offsets=offsets,
            locale=locale,
            line=line,
            created=created,
            rate=a["rate"][k],
            p_drop=a["p_drop"][k],
            mood_base=a["mood"][k],
            store_cum=cum,
            favourites=favourites,
            stop=stop,
        )
        c.devices = [self._device(c.market, offsets, locale) for _ in range(a["devices"][k])]
        alive = True
        if a["new"][k]:
            self._signup(c)
        else:
            alive = self._history(c)
        c.alive_until = self._purchases(c) if alive else max(c.created, self.t0)
        self._browsing(c)
        self._general_support(c)
        self._relationship_nps(c)
        self._surveys_and_reviews(c)
        if c.segment is None and rng.random() < S.SEGMENT_BACKFILL_SHARE:
            t = max(c.last_contact_t, self.t0) + rng.random() * 30 * DAY
            if t < c.stop:
                c.segment = "consumer" if rng.random() < 0.8 else "smb"
                self._contact_version(c, t)
        if c.stop < self.t_end:
            self._contact_version(c, max(c.stop, c.last_contact_t + 1.0), archived=True)

    def _signup(self, c: Customer) -> None:
        """A new contact: maybe anonymous browsing first, then the sign-up session on the same device."""
        rng = self.rng
        device = c.devices[0]
        if rng.random() < S.PRE_SIGNUP_BROWSING_SHARE:
            for _ in range(1 + (rng.random() < S.SECOND_VISIT_SHARE)):
                t = c.created - (0.1 + rng.random() * 9.0) * DAY
                if t > self.t0:
                    kind = "abandon" if rng.random() < S.PRE_SIGNUP_CART_SHARE else "browse"
                    self._session(None, device, t, kind, self._basket(c, t, first=True), self._currency(c, "web", t))
        c.stage = "subscriber" if rng.random() < S.SUBSCRIBER_SHARE else "lead"
        if rng.random() < S.SIGNUP_PURCHASE_SHARE and c.rate > S.LEAD_RATE_FACTOR / 365.0:
            # The first order is placed in the sign-up session: log in (sign up) at checkout.
            self._contact_version(c, c.created)
            self._purchase(c, c.created - 240.0, signup_device=device)
        else:
            self._session(
                c,
                device,
                c.created - 180.0,
                "abandon",
                self._basket(c, c.created, first=True),
                self._currency(c, "web", c.created),
                login_at=c.created,
            )
            self._contact_version(c, c.created)
