"""Segment sessions: visits to the web shop and the app, as e-commerce spec v2 track events.

A visit is a list of events built first (views, adds, removals, cart view,
checkout, order completed) and then timed and emitted: the visitor is
anonymous (only ``anonymousId``) until they log in, from which event on
``userId`` is set; a device that knows its user is identified from the start.
A session may be delivered days late (an offline app) as a batch.
"""

from __future__ import annotations

import math
from typing import Any

from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.catalog import Product
from dagster_project.generator.clock import DAY
from dagster_project.generator.model import Customer, Device, Order, SimulatorBase, pick, weighted

_MARKET_CHOICES = tuple(S.MARKET_WEIGHTS.items())
_CHECKOUT_EVENTS = frozenset({"Checkout Started", "Order Completed"})


class Sessions(SimulatorBase):
    """Cart and browsing sessions, of customers and of anonymous prospects."""

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
        """Emit one visit's track events from ``t``; returns the time of its last event.

        ``kind``: browse (views only), abandon (a cart that is left) or convert (ends
        in Order Completed for ``order``). The device's visitor is anonymous until
        they log in: from the start if the device knows them, at checkout when
        buying, now and then in an abandoned cart, or at ``login_at`` (sign-up).
        """
        rng = self.rng
        if order is not None:
            currency = order.currency
        rate = S.UNITS_PER_EUR[currency]
        events: list[tuple[str, dict[str, Any]]] = []
        cart_id = f"c-{self._hex(64)}" if kind != "browse" else None
        lines = order.items if order is not None else [(p, q, round(eur * rate, 2)) for p, q, eur in items]
        viewed = self._viewed
        for product, qty, price in lines:
            if kind == "browse" or rng.random() < S.VIEW_BEFORE_ADD_SHARE:
                key = (product.id, price, currency)
                props = viewed.get(key)
                if props is None:  # the same product view is the same payload: build it once per chunk
                    props = viewed[key] = _product_props(product, price, currency)
                events.append(("Product Viewed", props))
            if kind != "browse":
                props = _product_props(product, price, currency)
                props["cart_id"] = cart_id
                props["quantity"] = qty
                events.append(("Product Added", props))
        if kind == "browse":
            for _ in range(int(rng.random() * 3)):
                product = self.cat.products[int(rng.random() * len(self.cat.products))]
                events.append(
                    ("Product Viewed", _product_props(product, round(product.price_at(t) * rate, 2), currency))
                )
        else:
            if kind == "abandon" and rng.random() < S.PRODUCT_REMOVED_SHARE:
                product, qty, price = lines[0]
                props = _product_props(product, price, currency)
                props["cart_id"] = cart_id
                props["quantity"] = qty
                events.append(("Product Removed", props))
            products = [
                {
                    "product_id": p.id,
                    "sku": p.sku,
                    "name": p.name,
                    "price": price,
                    "quantity": q,
                    "category": p.category,
                }
                for p, q, price in lines
            ]
            if rng.random() < S.CART_VIEWED_SHARE:
                events.append(("Cart Viewed", {"cart_id": cart_id, "products": products}))
            checkout = kind == "convert" or rng.random() < S.ABANDONED_CHECKOUT_SHARE
            if checkout:
                value = round(sum(q * price for _, q, price in lines), 2)
                order_id = order.ext if order is not None else f"ord_{self._hex(64)}"
                events.append(
                    (
                        "Checkout Started",
                        {
                            "cart_id": cart_id,
                            "order_id": order_id,
                            "value": value,
                            "revenue": value,
                            "currency": currency,
                            "products": products,
                        },
                    )
                )
            if order is not None:
                events.append(
                    (
                        "Order Completed",
                        {
                            "cart_id": cart_id,
                            "checkout_id": f"co-{self._hex(48)}",
                            "order_id": order.ext,
                            "total": order.total,
                            "revenue": order.subtotal,
                            "shipping": order.shipping,
                            "currency": currency,
                            "products": products,
                        },
                    )
                )
        # Who is it? userId from the login event on.
        n = len(events)
        login = None
        if c is not None and not guest:
            if device.known:
                login = 0
            elif login_at is not None:
                login = max(0, n - 2) if order is not None else int(rng.random() * n)
            elif order is not None:
                login = next(i for i, (name, _) in enumerate(events) if name in ("Cart Viewed", "Checkout Started"))
            elif kind == "abandon" and c.created <= t and rng.random() < S.LOGIN_DURING_ABANDON_SHARE:
                login = int(rng.random() * n)
        traits = None
        if c is not None and order is not None and (guest or rng.random() < S.TRAITS_EMAIL_AT_CHECKOUT_SHARE):
            traits = dict(device.context)
            traits["traits"] = {"email": people.checkout_email(rng, c.email)}
        late = self.mess_rng.random() < self.late_rate
        delay = (S.LATE_DAYS[0] + self.mess_rng.random() * (S.LATE_DAYS[1] - S.LATE_DAYS[0])) * DAY if late else 0.0
        cid = c.cid if c is not None else None
        lat_low, lat_span = S.RECEIVE_LATENCY[0], S.RECEIVE_LATENCY[1] - S.RECEIVE_LATENCY[0]
        offsets, anon, context = device.offsets, device.anon, device.context
        emit, local_iso_ms, iso_ms = self.sink.emit_track, self.clock.local_iso_ms, self.clock.iso_ms
        random_, bits = rng.random, rng.getrandbits
        user = cid if login == 0 else None  # identified from the first event when the device knows them
        for i, (name, props) in enumerate(events):
            if i:
                t += 8.0 + random_() * (150.0 if name == "Order Completed" else 80.0)
                if i == login:
                    user = cid
            received = t + delay + lat_low + random_() * lat_span
            emit(
                {
                    "messageId": f"m-{bits(96):024x}",
                    "type": "track",
                    "event": name,
                    "anonymousId": anon,
                    "userId": user,
                    "timestamp": local_iso_ms(t, offsets),
                    "receivedAt": iso_ms(received),
                    "context": traits if traits is not None and name in _CHECKOUT_EVENTS else context,
                    "properties": props,
                },
                received,
                late,
            )
        if login is not None:
            device.known = True
        return t

    def _browsing(self, c: Customer) -> None:
        """Visits that lead nowhere: abandoned carts and product browsing, while the customer is active."""
        rng, ctx = self.rng, self.ctx
        start = max(c.created, self.t0)
        end = min(c.alive_until + 3 * DAY, c.stop)
        if end <= start:
            return
        web_share = (c.store_cum[1]) / c.store_cum[-1]
        rate = max(c.rate, 0.4 / 365.0) * web_share
        for kind, per_purchase in (
            ("abandon", S.ABANDON_CARTS_PER_PURCHASE),
            ("browse", S.BROWSE_SESSIONS_PER_PURCHASE),
        ):
            position = (start - self.t0) / DAY
            while True:
                nxt = ctx.shop.next_day(position, rate * per_purchase, rng)
                if nxt is None:
                    break
                position = nxt
                t = self.clock.local_day_start(c.offsets, int(math.floor(nxt))) + ctx.shop_hours.draw(rng)
                if t >= end:
                    break
                if t <= start:
                    continue
                device = c.devices[int(rng.random() * len(c.devices))]
                self._session(c, device, t, kind, self._basket(c, t), self._currency(c, "web", t))

    def _prospects(self) -> None:
        """Anonymous visitors who never sign up: browsing and abandoned carts of unknown people."""
        rng, ctx = self.rng, self.ctx
        expected = self.count * S.PROSPECTS_PER_CUSTOMER_YEAR * ctx.days / 365.0
        n = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(n):
            market = weighted(rng, _MARKET_CHOICES)
            m = people.MARKETS[market]
            language = weighted(rng, m.languages)
            offsets = self.clock.offsets(weighted(rng, m.time_zones))
            locale = f"{language}-{market}" if language != "en" or market == "US" else "en-GB"
            device = self._device(market, offsets, locale)
            for _ in range(1 + (rng.random() < S.SECOND_VISIT_SHARE)):
                day = ctx.shop.sample(0.0, float(ctx.days), rng)
                t = self.clock.local_day_start(offsets, int(day)) + ctx.shop_hours.draw(rng)
                if self.t0 <= t < self.t_end:
                    kind = "abandon" if rng.random() < S.PROSPECT_CART_SHARE else "browse"
                    category = self.cat.categories[int(rng.random() * len(self.cat.categories))]
                    product = pick(rng, self.cat.available(category, t)) or self.cat.products[0]
                    self._session(None, device, t, kind, [(product, 1, product.price_at(t))], S.MARKET_CURRENCY[market])


def _product_props(product: Product, price: float, currency: str) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "sku": product.sku,
        "category": product.category,
        "name": product.name,
        "price": price,
        "currency": currency,
    }
