"""Commerce: the initial sync's order history, purchases and their CDC versions, and what follows an order.

A purchase picks a store, a basket (favourite categories, now and then a new
category: cross-sell; or a pricier product in a category bought before:
upsell) and a currency; web and app purchases come with their cart sessions,
some preceded by an abandoned cart that the purchase recovers. The order then
moves through HubSpot versions (unfulfilled, fulfilled or cancelled, maybe
refunded) and has consequences: late parcels, "where is my order" contacts,
returns, surveys.
"""

from __future__ import annotations

import math
from typing import Any

from dagster_project.generator import entities as E
from dagster_project.generator import settings as S
from dagster_project.generator.catalog import Product
from dagster_project.generator.clock import DAY
from dagster_project.generator.model import Customer, Device, Order, SimulatorBase, pick, weighted

_DELIVERY_CSAT_CHANNELS = (("EMAIL", 0.6), ("SMS", 0.2), ("WEB", 0.2))


class Commerce(SimulatorBase):
    """Orders and purchases of one chunk's customers."""

    def _history(self, c: Customer) -> bool:
        """The initial sync: the contact and its last year of orders, exported on the first day.

        Returns whether the customer is still alive (has not dropped out) at the start of the run.
        """
        rng, ctx = self.rng, self.ctx
        sync = self.t0 + (S.INITIAL_SYNC_HOURS[0] + rng.random() * (S.INITIAL_SYNC_HOURS[1] - 1.0)) * 3600
        position = max((c.created - self.t0) / DAY, -float(S.HISTORY_DAYS))
        alive = True
        orders = 0
        while True:
            nxt = ctx.shop.next_day(position, c.rate, rng)
            if nxt is None or nxt >= 0:
                break
            if orders and rng.random() < c.p_drop:
                alive = False
                break
            position = nxt
            t = self.clock.local_day_start(c.offsets, int(math.floor(nxt))) + ctx.shop_hours.draw(rng)
            if t >= self.t0 - 3600 or t <= c.created:
                continue
            orders += 1
            self._history_order(c, t, sync)
        c.stage = "customer" if orders else ("subscriber" if rng.random() < S.SUBSCRIBER_SHARE else "lead")
        c.first_order_done = orders > 0
        self._contact_version(c, sync)
        return alive

    def _history_order(self, c: Customer, t: float, sync: float) -> None:
        rng = self.rng
        store = self._store(c)
        items = self._basket(c, t)
        currency = self._currency(c, store, t)
        order = self._new_order(c, t, store, items, currency)
        status, refund = "fulfilled", 0.0
        u = rng.random()
        if u < S.CANCEL_SHARE:
            status = "cancelled"
        elif u < S.CANCEL_SHARE + self._refund_share(items):
            refund = order.total if rng.random() > S.PARTIAL_REFUND_SHARE else self._partial_refund(order)
        self._emit_order(order, sync, status, refund)
        for product, _qty, _price in items:
            eur = product.price_at(t)
            if eur > c.bought.get(product.category, 0.0):
                c.bought[product.category] = eur

    def _purchases(self, c: Customer) -> float:
        """Purchases during the run until the customer drops out; returns the time they go quiet."""
        rng, ctx = self.rng, self.ctx
        position = max((c.created - self.t0) / DAY, 0.0)
        last = max(c.created, self.t0)
        previous = bool(c.orders)
        while True:
            nxt = ctx.shop.next_day(position, c.rate, rng)
            if nxt is None:
                return c.stop
            position = nxt
            t = self.clock.local_day_start(c.offsets, int(math.floor(nxt))) + ctx.shop_hours.draw(rng)
            t = max(t, last + 600.0)
            if t >= c.stop - 3600.0:
                return c.stop
            if previous or c.first_order_done:
                p = c.p_drop + S.DROPOUT_PER_BAD_MOOD * max(0.0, -self._mood(c, t))
                if rng.random() < p:
                    return t
            self._purchase(c, t)
            previous = True
            last = t

    def _store(self, c: Customer) -> str:
        u = self.rng.random() * c.store_cum[-1]
        for store, edge in zip(S.STORES, c.store_cum, strict=True):
            if u < edge:
                return store
        return "web"

    def _currency(self, c: Customer, store: str, t: float) -> str:
        if (
            store in ("amazon", "ebay")
            and c.market in ("DE", "PL", "LV", "BG")
            and self.rng.random() < S.GBP_MARKETPLACE_SHARE
        ):
            return "GBP"
        if c.market == "BG" and t >= self.ctx.bg_euro_t:
            return "EUR"
        return S.MARKET_CURRENCY[c.market]

    def _basket(self, c: Customer, t: float, first: bool = False) -> list[tuple[Product, int, float]]:
        """Products for a cart: favourites, a new category now and then (cross-sell), or a pricier
        product in a category bought before (upsell). Prices are EUR here."""
        rng, cat = self.rng, self.cat
        n = 1 + (rng.random() < S.BASKET_SECOND_ITEM_SHARE) + (rng.random() < S.BASKET_THIRD_ITEM_SHARE)
        quantity = S.SEGMENT_QUANTITY[c.segment]
        items: list[tuple[Product, int, float]] = []
        for _ in range(n):
            product: Product | None = None
            u = rng.random()
            if c.bought and not first and u < S.CROSS_SELL_SHARE:
                fresh = [x for x in cat.categories if x not in c.bought]
                if fresh:
                    product = pick(rng, cat.available(fresh[int(rng.random() * len(fresh))], t))
            elif c.bought and not first and u < S.CROSS_SELL_SHARE + S.UPSELL_SHARE:
                category = list(c.bought)[int(rng.random() * len(c.bought))]
                ceiling = c.bought[category]
                pricier = [p for p in cat.available(category, t) if p.price_at(t) > ceiling]
                product = pick(rng, pricier)
            if product is None:
                category = (
                    c.favourites[int(rng.random() * 2)]
                    if rng.random() < S.FAVOURITE_CATEGORY_SHARE
                    else cat.categories[int(rng.random() * len(cat.categories))]
                )
                product = pick(rng, cat.available(category, t))
            if product is None or any(product is p for p, _, _ in items):
                continue
            qty = (
                quantity * (1 + (rng.random() < S.DOUBLE_QUANTITY_SHARE))
                if quantity > 1
                else 1 + (rng.random() < S.DOUBLE_QUANTITY_SHARE)
            )
            items.append((product, qty, product.price_at(t)))
        if not items:
            product = pick(rng, cat.available(cat.categories[0], t)) or cat.products[0]
            items.append((product, 1, product.price_at(t)))
        return items

    def _refund_share(self, items: list[tuple[Product, int, float]]) -> float:
        return max(S.REFUND_SHARE.get(p.category, S.REFUND_SHARE_DEFAULT) for p, _, _ in items)

    def _partial_refund(self, order: Order) -> float:
        _product, qty, price = order.items[int(self.rng.random() * len(order.items))]
        return (
            round(min(order.total, price * qty), 2) if len(order.items) > 1 or qty > 1 else round(order.total * 0.5, 2)
        )

    def _new_order(
        self,
        c: Customer,
        t: float,
        store: str,
        items: list[tuple[Product, int, float]],
        currency: str,
        ext: str | None = None,
    ) -> Order:
        rate = S.UNITS_PER_EUR[currency]
        priced = [(p, q, round(eur * rate, 2)) for p, q, eur in items]
        subtotal = round(sum(q * price for _, q, price in priced), 2)
        eur_subtotal = sum(q * eur for _, q, eur in items)
        shipping = (
            0.0
            if eur_subtotal >= S.FREE_SHIPPING_EUR or store in ("amazon", "ebay")
            else round(S.SHIPPING_EUR * rate, 2)
        )
        oid = str(self._next_id("order", S.ORDER_ID_BASE))
        if ext is None:
            if store == "amazon":
                r = self.rng.getrandbits(50)
                ext = f"{300 + r % 100:03d}-{(r >> 7) % 10**7:07d}-{(r >> 20) % 10**7:07d}"
            elif store == "ebay":
                r = self.rng.getrandbits(48)
                ext = f"{r % 100:02d}-{(r >> 7) % 10**5:05d}-{(r >> 24) % 10**5:05d}"
            elif store == "phone":
                ext = f"tel_{self._hex(48)}"
            else:
                ext = f"ord_{self._hex(64)}"
        return Order(oid, c.cid, ext, store, t, currency, priced, subtotal, shipping, round(subtotal + shipping, 2))

    def _emit_order(self, o: Order, t: float, status: str, refund: float) -> None:
        """One CDC version of an order, exported on the day of ``t`` (if that day is in the run)."""
        if t < self.t_end:
            self.sink.emit(E.ORDERS, self.clock.day_of(t), self._order_record(o, t, status, refund))

    def _order_record(self, o: Order, t: float, status: str, refund: float) -> dict[str, Any]:
        created = self.clock.iso(o.t)
        return {
            "id": o.oid,
            "createdAt": created,
            "updatedAt": self.clock.iso(max(t, o.t)),
            "archived": False,
            "properties": {
                "hs_order_name": f"#{int(o.oid) - S.ORDER_ID_BASE}",
                "hs_external_order_id": o.ext,
                "hs_currency_code": o.currency,
                "hs_subtotal_price": f"{o.subtotal:.2f}",
                "hs_shipping_cost": f"{o.shipping:.2f}",
                "hs_total_price": f"{o.total:.2f}",
                "hs_refund_amount": f"{refund:.2f}" if refund else "0",
                "hs_fulfillment_status": status,
                "hs_source_store": o.store,
            },
            "associations": {"contacts": {"results": [{"id": o.cid, "type": "order_to_contact"}]}},
            "line_items": [
                {
                    "id": f"li_{o.oid}_{n + 1}",
                    "properties": {
                        "hs_product_id": p.id,
                        "hs_sku": p.sku,
                        "name": p.name,
                        "price": f"{price:.2f}",
                        "quantity": str(q),
                    },
                }
                for n, (p, q, price) in enumerate(o.items)
            ],
        }

    def _purchase(self, c: Customer, t: float, signup_device: Device | None = None) -> None:
        """One order with everything around it: cart sessions, CDC versions, delivery and its fallout."""
        rng, ctx = self.rng, self.ctx
        store = "web" if signup_device is not None else self._store(c)
        device = signup_device
        if store == "app":
            apps = [d for d in c.devices if d.app]
            if apps:
                device = apps[0]
            else:
                store = "web"
        if store == "web" and device is None:
            device = c.devices[int(rng.random() * len(c.devices))]
        t = min(t, self.t_end - 3 * 3600.0)
        items = self._basket(c, t)
        currency = self._currency(c, store, t)
        ext = f"ord_{self._hex(64)}" if store in ("web", "app") else None
        order_t = t
        if device is not None:
            if signup_device is None and rng.random() < S.RECOVERED_CART_SHARE:
                before = t - (1.05 + rng.random() * 6.4) * DAY
                if before > max(self.t0, c.created - 3 * DAY):
                    self._session(c if before >= c.created else None, device, before, "abandon", items[:2], currency)
            guest = signup_device is None and not device.known and rng.random() < S.GUEST_CHECKOUT_SHARE
            order = self._new_order(c, t, store, items, currency, ext)
            end = self._session(
                c,
                device,
                t,
                "convert",
                items,
                currency,
                order=order,
                guest=guest,
                login_at=c.created if signup_device is not None else None,
            )
            order_t = end + 2.0 + rng.random() * 40.0
            order.t = order_t
        else:
            order = self._new_order(c, t, store, items, currency, ext)
        c.orders.append(order)
        # CDC: created (unfulfilled) -> fulfilled or cancelled -> maybe refunded.
        self._emit_order(order, order_t, "unfulfilled", 0.0)
        if not c.first_order_done:
            c.first_order_done = True
            if c.stage != "customer":
                c.stage = "customer"
                self._contact_version(c, order_t + 30.0 + rng.random() * 600.0)
        for product, _qty, _price in items:
            eur = product.price_at(t)
            if eur > c.bought.get(product.category, 0.0):
                c.bought[product.category] = eur
        if rng.random() < S.CANCEL_SHARE:
            cancel_t = order_t + (0.3 + rng.random() * 20.0) * 3600
            self._emit_order(order, cancel_t, "cancelled", 0.0)
            self._shock(c, cancel_t, S.MOOD_CANCELLED)
            return
        ship_t = order_t + DAY * math.exp(rng.gauss(-0.3, 0.5))
        delivery_days = 1.0 + rng.random() * 2.5
        if ctx.carrier_window[0] <= ship_t < ctx.carrier_window[1]:
            low, high = S.CARRIER_DELAY[2]
            delivery_days += low + rng.random() * (high - low)
        delivered = ship_t + delivery_days * DAY
        order.delivered = delivered
        self._emit_order(order, ship_t, "fulfilled", 0.0)
        late = delivered - order_t > 5.0 * DAY
        self._shock(
            c,
            delivered,
            S.MOOD_DELIVERY_LATE if late else (S.MOOD_DELIVERY_FAST if delivered - order_t < 2.5 * DAY else 0.0),
        )
        # "Where is my order?": a ticket or a call once the parcel is overdue.
        if rng.random() < (S.WISMO_SHARE_LATE if late else S.WISMO_SHARE):
            ask = order_t + (3.5 + rng.random() * 2.5) * DAY
            if late:
                ask = min(ask, delivered - 3600.0)
            self._contact_support(c, ask, "SHIPPING", order, "order")
        if rng.random() < S.ORDER_CALL_SHARE:
            self._call_chain(c, self._daytime(c, order_t + rng.random() * 2.0 * DAY, order_t), "order")
        # Returns and refunds.
        if rng.random() < self._refund_share(items):
            ask = delivered + (1.0 + rng.random() * 9.0) * DAY
            if rng.random() < S.RETURN_TICKET_SHARE:
                self._contact_support(c, ask, "RETURN_REQUEST", order, "refund")
            refund_t = ask + (3.0 + rng.random() * 9.0) * DAY
            refund = order.total if rng.random() > S.PARTIAL_REFUND_SHARE else self._partial_refund(order)
            self._emit_order(order, refund_t, "fulfilled", refund)
            self._shock(c, refund_t, S.MOOD_REFUND)
        elif rng.random() < S.PRODUCT_ISSUE_SHARE:
            self._contact_support(c, delivered + rng.random() * 5.0 * DAY, "PRODUCT_ISSUE", order, "complaint")
        # Surveys about this order (scored later, from the mood of that moment).
        if rng.random() < S.POST_PURCHASE_NPS_SHARE:
            channel = "IN_APP" if store == "app" and rng.random() < 0.5 else ("SMS" if rng.random() < 0.15 else "EMAIL")
            c.surveys.append((delivered + (2.0 + rng.random() * 8.0) * DAY, "NPS", "Post-purchase NPS", channel, None))
        if rng.random() < S.DELIVERY_CSAT_SHARE:
            channel = "IN_APP" if store == "app" else weighted(rng, _DELIVERY_CSAT_CHANNELS)
            c.surveys.append((delivered + (0.2 + rng.random() * 2.0) * DAY, "CSAT", "Delivery CSAT", channel, None))
        if store in ("web", "app") and rng.random() < S.CHECKOUT_CES_SHARE:
            c.surveys.append(
                (
                    order_t + 60.0 + rng.random() * 600.0,
                    "CES",
                    "Checkout CES",
                    "IN_APP" if store == "app" else "WEB",
                    None,
                )
            )
