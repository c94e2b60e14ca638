"""Feedback: survey answers (NPS, CSAT, CES) and reviews, scored from the customer's mood at that moment.

Runs after the rest of a customer's story (pass two), when every experience
that moves the mood is known. A latent score = mood + noise maps onto each
scale; the vendor's response group is sometimes wrong on purpose (CONTRACT:
untrusted). Reviews are more likely from angry customers.
"""

from __future__ import annotations

from dagster_project.generator import entities as E
from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.clock import DAY
from dagster_project.generator.model import Customer, Order, SimulatorBase, weighted

_REVIEW_SOURCES_OWN = (("trustpilot", 0.55), ("website", 0.25), ("google", 0.2))
_SURVEY_CHANNELS_RELATIONSHIP = (("EMAIL", 0.55), ("SMS", 0.15), ("IN_APP", 0.15), ("WEB", 0.15))


class Feedback(SimulatorBase):
    """Surveys and reviews of one chunk's customers."""

    def _relationship_nps(self, c: Customer) -> None:
        rng = self.rng
        every = S.RELATIONSHIP_NPS_EVERY_DAYS
        offset = int(rng.random() * every)  # the customer's day of the quarter
        for day in range(offset, self.ctx.days, every):
            t = self.clock.local_day_start(c.offsets, day + int(rng.random() * 3)) + self.ctx.shop_hours.draw(rng)
            if max(c.created, self.t0) < t < c.stop and rng.random() < S.RELATIONSHIP_NPS_SHARE:
                channel = weighted(rng, _SURVEY_CHANNELS_RELATIONSHIP)
                if channel == "IN_APP" and not any(d.app for d in c.devices):
                    channel = "EMAIL"
                c.surveys.append((t, "NPS", "Quarterly NPS", channel, None))

    def _surveys_and_reviews(self, c: Customer) -> None:
        """Answers and reviews scored from the mood of their moment (pass two: all shocks are known)."""
        rng, clock, sink = self.rng, self.clock, self.sink
        for t, kind, name, channel, ticket in c.surveys:
            if t >= c.stop or t >= self.t_end or t < self.t0:
                continue
            z = self._mood(c, t) + rng.gauss(0.0, 1.0)
            if kind == "NPS":
                value = min(10, max(0, round(7.6 + 1.9 * z)))
                group = "PROMOTER" if value >= 9 else ("PASSIVE" if value >= 7 else "DETRACTOR")
                share = value / 10
                if rng.random() < S.RESPONSE_GROUP_MISLABEL_SHARE:
                    # A vendor's off-by-one buckets: 7-8 as promoters, 9-10 as passives, 0-6 as passives.
                    group = "PROMOTER" if group == "PASSIVE" else "PASSIVE"
            elif kind == "CSAT":
                value = min(5, max(1, round(3.9 + 0.95 * z)))
                group = "SATISFIED" if value >= 4 else ("NEUTRAL" if value == 3 else "DISSATISFIED")
                share = (value - 1) / 4
                if rng.random() < S.RESPONSE_GROUP_MISLABEL_SHARE:
                    group = "SATISFIED" if group == "NEUTRAL" else "NEUTRAL"
            else:
                value = min(7, max(1, round(5.0 + 1.2 * z)))
                group = "EASY" if value >= 5 else ("NEUTRAL" if value == 4 else "DIFFICULT")
                share = (value - 1) / 6
                if rng.random() < S.RESPONSE_GROUP_MISLABEL_SHARE:
                    group = "EASY" if group == "NEUTRAL" else "NEUTRAL"
            text = (
                people.comment(rng, c.language, people.sentiment_of(share))
                if rng.random() < S.SURVEY_COMMENT_SHARE
                else None
            )
            fid = str(self._next_id("feedback", S.FEEDBACK_ID_BASE))
            stored = t + 1.0 + rng.random() * 30.0
            submitted = clock.iso(t)
            record = {
                "id": fid,
                "createdAt": clock.iso(stored),
                "updatedAt": clock.iso(stored),
                "archived": False,
                "properties": {
                    "hs_survey_type": kind,
                    "hs_survey_name": name,
                    "hs_survey_channel": channel,
                    "hs_value": str(value),
                    "hs_response_group": group,
                    "hs_content": text,
                    "hs_submission_timestamp": submitted,
                    "hs_contact_id": c.cid,
                    "hs_ticket_id": ticket,
                },
            }
            sink.emit(E.FEEDBACK, clock.day_of(stored), record)
            if (
                kind == "NPS"
                and value >= 9
                and c.stage == "customer"
                and t > c.last_contact_t
                and rng.random() < S.EVANGELIST_SHARE
            ):
                c.stage = "evangelist"
                self._contact_version(c, t + 3600.0)
        for order in c.orders:
            if order.delivered is None:
                continue
            t = order.delivered + (1.0 + rng.random() * 13.0) * DAY
            if t >= c.stop or t >= self.t_end:
                continue
            mood = self._mood(c, t)
            p = S.REVIEW_SHARE[order.store] + (S.REVIEW_SHARE_ANGRY_BONUS if mood < -0.3 else 0.0)
            if rng.random() >= p:
                continue
            z = mood + rng.gauss(0.0, 1.1)
            stars = min(5, max(1, round(3.8 + 1.5 * z)))
            self._review(c, order, t, stars)

    def _review(self, c: Customer, order: Order, t: float, stars: int) -> None:
        rng, clock = self.rng, self.clock
        source = order.store if order.store in ("amazon", "ebay") else weighted(rng, _REVIEW_SOURCES_OWN)
        if source in ("amazon", "ebay", "website"):
            reference: str | None = order.ext
        elif source == "trustpilot":
            reference = order.ext if rng.random() < S.REVIEW_REFERENCE_SHARE else None
        else:
            reference = None
        sku = order.items[0][0].sku if source in ("amazon", "ebay", "website") else None
        email = None
        if source in ("trustpilot", "website") and rng.random() < S.REVIEW_EMAIL_SHARE:
            email = people.checkout_email(rng, c.email)
        review_language = c.language
        title, text = people.review_text(rng, review_language, people.sentiment_of((stars - 1) / 4))
        record = {
            "id": f"rv-{self._hex(64)}",
            "source": source,
            "stars": stars,
            "title": title,
            "text": text,
            "language": review_language,
            "createdAt": clock.iso(t),
            "consumer": {"id": f"cons-{int(c.cid):x}", "displayName": people.display_name(c.person), "email": email},
            "referenceId": reference,
            "productSku": sku,
            "isVerified": reference is not None,
        }
        self.sink.emit(E.REVIEWS, clock.day_of(t), record)
