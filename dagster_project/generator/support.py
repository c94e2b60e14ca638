"""Support: tickets (HubSpot) and calls (Aircall) with opening hours, queues, agents and repeat contacts.

Tickets move through CDC versions (new, replied, maybe waiting on the
contact, closed) with first-response and resolution times drawn per channel,
answered in the team's office hours, slower when the team is understaffed.
Calls meet the line's opening hours, an IVR and a queue whose waits grow with
the hour's load and shrink with staffing; a missed call leads to callbacks and
repeat calls, an unresolved one to a repeat within days.
"""

from __future__ import annotations

import math
from typing import Any

from dagster_project.generator import entities as E
from dagster_project.generator import people
from dagster_project.generator import settings as S
from dagster_project.generator.catalog import Agent
from dagster_project.generator.clock import DAY, SUPPORT_HOURS
from dagster_project.generator.model import SUPPORT_HOUR_MEAN, SUPPORT_MEAN, Customer, Order, SimulatorBase, weighted

_TICKET_CHANNELS = tuple(S.TICKET_CHANNELS.items())
_PRIORITIES = tuple(S.PRIORITY_WEIGHTS.items())
_MARKET_CHOICES = tuple(S.MARKET_WEIGHTS.items())
# Survey channels after a closed ticket (chat tickets are surveyed in the chat).
_CSAT_CHANNELS = (("EMAIL", 0.7), ("SMS", 0.15), ("WEB", 0.15))
_CES_CHANNELS = (("WEB", 0.4), ("EMAIL", 0.4), ("SMS", 0.2))
_CALL_TAGS = {"order": "order_status", "refund": "refund", "general": "question", "complaint": "complaint"}


class Support(SimulatorBase):
    """Tickets and calls of one chunk's customers, and calls from unknown numbers."""

    def _contact_support(self, c: Customer, t: float, category: str, order: Order | None, reason: str) -> None:
        """A customer reaches out: a ticket in some channel, or a phone call."""
        t = self._daytime(c, t, t - 6 * 3600.0)
        if t >= c.stop or t < self.t0:
            return
        rng = self.rng
        if order is not None and order.store in ("amazon", "ebay") and rng.random() < S.MARKETPLACE_TICKET_SHARE:
            self._ticket(c, t, category, "MARKETPLACE", order)
            return
        if rng.random() < S.CALL_NOT_TICKET_SHARE:
            self._call_chain(c, t, reason)
            return
        channel = weighted(rng, _TICKET_CHANNELS)
        if channel == "PHONE":
            self._call_chain(c, t, reason, ticket_category=category)
            return
        self._ticket(c, t, category, channel, order)

    def _general_support(self, c: Customer) -> None:
        """Questions not tied to an order: billing, sizes, accounts; by ticket or by phone."""
        rng, ctx = self.rng, self.ctx
        start = max(c.created, self.t0)
        end = c.stop
        rate = (S.GENERAL_CONTACTS_PER_YEAR + S.GENERAL_CALLS_PER_YEAR) / 365.0 / SUPPORT_MEAN
        active = c.alive_until > self.t0
        if not active:
            rate *= 0.3
        position = (start - self.t0) / DAY
        call_share = S.GENERAL_CALLS_PER_YEAR / (S.GENERAL_CONTACTS_PER_YEAR + S.GENERAL_CALLS_PER_YEAR)
        while True:
            nxt = ctx.support.next_day(position, rate, rng)
            if nxt is None:
                return
            position = nxt
            t = self.clock.local_day_start(c.offsets, int(math.floor(nxt))) + ctx.support_hours.draw(rng)
            if t >= end:
                return
            if t <= start:
                continue
            if rng.random() < call_share:
                self._call_chain(c, t, "general")
            else:
                category = "BILLING_ISSUE" if rng.random() < S.BILLING_SHARE_OF_QUESTIONS else "GENERAL_INQUIRY"
                order = c.orders[-1] if c.orders and rng.random() < 0.5 else None
                channel = weighted(rng, _TICKET_CHANNELS)
                if channel == "PHONE":
                    channel = "EMAIL"
                self._ticket(c, t, category, channel, order)

    def _owner(self, line: int, t: float) -> Agent:
        team = self.cat.team_on(line, self.clock.day_of(t))
        return team[int(self.rng.random() * len(team))]

    def _ticket(
        self, c: Customer, t: float, category: str, channel: str, order: Order | None, agent: Agent | None = None
    ) -> None:
        """A ticket and its CDC versions: new -> replied (waiting) -> closed, with realistic delays."""
        rng, clock, sink, cat = self.rng, self.clock, self.sink, self.cat
        if t >= self.t_end or t < self.t0:
            return
        t = float(int(t))  # HubSpot ticket times are whole seconds
        if channel == "CHAT" and not self._is_open(c.line, t):
            channel = "FORM"  # chat is offline out of hours: the widget becomes a form
        tid = str(self._next_id("ticket", S.TICKET_ID_BASE))
        day = clock.day_of(t)
        if category == "BILLING_ISSUE":
            priority = "HIGH" if rng.random() < 0.6 else "URGENT"
        elif category == "RETURN_REQUEST":
            priority = "LOW" if rng.random() < 0.5 else "MEDIUM"
        else:
            priority = weighted(rng, _PRIORITIES)
        subject, content = people.ticket_text(c.language, category, order.ext if order is not None else None)
        owner = agent or self._owner(c.line, t)
        assigned_now = agent is not None or rng.random() < S.ASSIGNED_AT_CREATION_SHARE
        staffing = cat.staffing[c.line][day]
        median, sigma = S.FIRST_RESPONSE_MINUTES[channel]
        first_minutes = median * math.exp(sigma * rng.gauss(0.0, 1.0)) / min(1.0, staffing) ** 1.5
        reply: float | None = t + max(20.0, first_minutes * 60.0)
        if channel in ("EMAIL", "FORM", "MARKETPLACE", "SOCIAL"):
            reply = self._next_open(c.line, reply)  # type: ignore[arg-type]
        if rng.random() < S.NEVER_ANSWERED_SHARE:
            reply = None
        closed: float | None = None
        if reply is not None and rng.random() >= S.NEVER_CLOSED_SHARE:
            median_h, sigma_h = S.RESOLUTION_HOURS[channel]
            closed = reply + max(60.0, median_h * 3600.0 * math.exp(sigma_h * rng.gauss(0.0, 1.0)))
        created = clock.iso(t)

        def version(at: float, stage: str, replied: float | None, done: float | None, assigned: bool) -> None:
            if at >= self.t_end:
                return  # not exported yet
            record = {
                "id": tid,
                "createdAt": created,
                "updatedAt": clock.iso(at),
                "archived": False,
                "properties": {
                    "subject": subject,
                    "content": content,
                    "hs_pipeline_stage": stage,
                    "hs_ticket_priority": priority,
                    "hs_ticket_category": category,
                    "source_type": channel,
                    "createdate": created,
                    "first_agent_reply_date": clock.iso(replied) if replied is not None else None,
                    "closed_date": clock.iso(done) if done is not None else None,
                    "hubspot_owner_id": owner.owner_id if assigned else None,
                },
                "associations": {"contacts": {"results": [{"id": c.cid}]}},
            }
            sink.emit(E.TICKETS, clock.day_of(at), record)

        version(t, "1", None, None, assigned_now)
        sla = S.SLA_RETURN_HOURS if category == "RETURN_REQUEST" else S.SLA_HOURS[channel]
        if reply is None:
            self._shock(c, t + sla * 3600.0, S.MOOD_TICKET_NEVER_ANSWERED)
            return
        waiting = rng.random() < S.WAITING_ON_CONTACT_SHARE
        version(reply, "2" if waiting else "3", reply, None, True)
        if reply - t > sla * 3600.0:
            self._shock(c, t + sla * 3600.0, S.MOOD_TICKET_SLA_BREACH)
        else:
            self._shock(c, reply, S.MOOD_TICKET_FAST)
        if closed is None:
            return
        if waiting and closed - reply > 7200.0:
            back = reply + (closed - reply) * (0.2 + 0.5 * rng.random())
            version(back, "3", reply, None, True)
        version(closed, "4", reply, closed, True)
        if rng.random() < S.TICKET_REOPEN_SHARE:
            # A reopening: a version back at "waiting on us" without a close date, a mood shock, and a
            # second close; the survey follows the last close.
            reopened = closed + (S.TICKET_REOPEN_DAYS[0] + rng.random() * S.TICKET_REOPEN_DAYS[1]) * DAY
            version(reopened, "3", reply, None, True)
            self._shock(c, reopened, S.MOOD_TICKET_REOPENED)
            again_h, again_sigma = S.RESOLUTION_HOURS[channel]
            closed = reopened + max(3600.0, again_h * 3600.0 * math.exp(again_sigma * rng.gauss(0.0, 1.0)))
            version(closed, "4", reply, closed, True)
        u = rng.random()
        if u < S.TICKET_CSAT_SHARE:
            survey_channel = "CHAT" if channel == "CHAT" else weighted(rng, _CSAT_CHANNELS)
            c.surveys.append((closed + 600.0 + rng.random() * DAY, "CSAT", "Support CSAT", survey_channel, tid))
        elif u < S.TICKET_CSAT_SHARE + S.TICKET_CES_SHARE:
            survey_channel = "CHAT" if channel == "CHAT" else weighted(rng, _CES_CHANNELS)
            c.surveys.append((closed + 600.0 + rng.random() * DAY, "CES", "Support CES", survey_channel, tid))
        elif u < S.TICKET_CSAT_SHARE + S.TICKET_CES_SHARE + S.SUPPORT_NPS_SHARE:
            c.surveys.append(
                (
                    closed + 1800.0 + rng.random() * 2 * DAY,
                    "NPS",
                    "Support NPS",
                    "CHAT" if channel == "CHAT" else "EMAIL",
                    tid,
                )
            )

    def _is_open(self, line: int, t: float) -> bool:
        offsets = self.cat.line_offsets[line]
        hours = self.cat.lines[line].hours[self.clock.local_weekday(t, offsets)]
        if hours is None:
            return False
        h = self.clock.local_hour(t, offsets)
        return hours[0] <= h < hours[1]

    def _next_open(self, line: int, t: float) -> float:
        """``t`` if the line is open then, else its next opening time (agents answer tickets in office hours)."""
        clock = self.clock
        offsets = self.cat.line_offsets[line]
        spec = self.cat.lines[line].hours
        local_day = int((t + clock.offset(offsets, t) - clock.t0) // DAY)
        for step in range(8):
            day = local_day + step
            hours = spec[clock.weekday(day)]
            if hours is None:
                continue
            begin = clock.local_day_start(offsets, day) + hours[0] * 3600.0
            end = clock.local_day_start(offsets, day) + hours[1] * 3600.0
            if t < end:
                return max(t, begin) + (self.rng.random() * 1800.0 if t < begin else 0.0)
        return t + 7 * DAY

    def _daytime(self, c: Customer, t: float, not_before: float) -> float:
        """A time on ``t``'s local day at an hour people contact support (not before ``not_before``)."""
        day = int((t + self.clock.offset(c.offsets, t) - self.t0) // DAY)
        weekday = self.clock.weekday(day)
        if weekday >= 5 and self.rng.random() < S.WEEKEND_TO_MONDAY_SHARE:
            day += 7 - weekday
        moved = self.clock.local_day_start(c.offsets, day) + self.ctx.support_hours.draw(self.rng)
        return moved if moved > not_before else not_before + 60.0 + self.rng.random() * 3600.0

    def _call_chain(self, c: Customer, t: float, reason: str, ticket_category: str | None = None) -> None:
        """A customer calls; missed or unresolved calls lead to callbacks and repeat calls."""
        rng = self.rng
        number = c.alt_phone if rng.random() < S.UNKNOWN_NUMBER_SHARE else c.phone
        for attempt in range(4):
            if t >= c.stop or t >= self.t_end or t < self.t0:
                return
            outcome = self._inbound_call(c, t, number, reason, ticket_category if attempt == 0 else None)
            if outcome == "resolved":
                return
            if outcome == "closed":
                if rng.random() > S.RETRY_AFTER_CLOSED_SHARE:
                    return
                t = self._next_open(c.line, t + 600.0) + rng.random() * 4 * 3600
            elif outcome == "missed":
                if rng.random() < S.CALLBACK_SHARE:
                    self._outbound_call(c, self._next_open(c.line, t + (0.2 + rng.random() * 5.0) * 3600), reason)
                if rng.random() > S.REPEAT_AFTER_MISSED_SHARE:
                    return
                t = self._daytime(c, t + rng.random() * 2.0 * DAY, t + 120.0)
            else:  # answered but not resolved
                if rng.random() > S.REPEAT_AFTER_UNRESOLVED_SHARE:
                    return
                t = self._daytime(c, t + (0.2 + rng.random() * 6.3) * DAY, t + 3600.0)

    def _call_record(
        self,
        call_id: int,
        direction: str,
        started: float,
        answered: float | None,
        ended: float,
        reason: str | None,
        digits: str,
        agent: Agent | None,
        line: int,
        tags: list[str],
        voicemail: bool,
    ) -> dict[str, Any]:
        s = int(started)
        a = int(answered) if answered is not None else None
        e = max(int(ended), a if a is not None else s)
        return {
            "id": call_id,
            "direction": direction,
            "status": "done",
            "started_at": s,
            "answered_at": a,
            "ended_at": e,
            "duration": e - s,
            "missed_call_reason": reason,
            "raw_digits": digits,
            "user": agent.user if agent is not None else None,
            "number": self.cat.lines[line].payload(),
            "tags": [{"name": tag} for tag in tags],
            "voicemail": f"https://voicemail.aircall.example/{call_id}.mp3" if voicemail else None,
            "recording": None,
            "archived": False,
        }

    def _fit_in_day(self, started: float, ended: float) -> tuple[float, float]:
        """Shift a call that would end after midnight UTC back into its start day (export = start day)."""
        day_end = self.clock.day_start(self.clock.day_of(started) + 1) - 1.0
        if ended > day_end:
            shift = ended - day_end
            return started - shift, shift
        return started, 0.0

    def _inbound_call(
        self, c: Customer | None, t: float, number: people.PhoneNumber, reason: str, ticket_category: str | None
    ) -> str:
        """One inbound call through opening hours, IVR and queue; returns closed/missed/unresolved/resolved."""
        rng, cat, clock = self.rng, self.cat, self.clock
        line = c.line if c is not None else self.ctx.line_of_market.get(number.region, 0)
        day = clock.day_of(t)
        digits = people.caller_digits(rng, number, cat.lines[line].country)
        call_id = self._next_id("call", S.CALL_ID_BASE)
        ivr = cat.lines[line].ivr_seconds * (0.7 + 0.6 * rng.random())
        answered: float | None = None
        agent: Agent | None = None
        tags: list[str] = []
        voicemail = False
        if not self._is_open(line, t):
            missed: str | None = "out_of_opening_hours"
            ended = t + 8.0 + rng.random() * 35.0
            voicemail = rng.random() < S.VOICEMAIL_SHARE
            if voicemail:
                ended += 20.0 + rng.random() * 40.0
            outcome = "closed"
        else:
            staffing = cat.staffing[line][day]
            offsets = cat.line_offsets[line]
            hour = int(clock.local_hour(t, offsets))
            demand = SUPPORT_HOURS[hour] / SUPPORT_HOUR_MEAN * cat.support_load[day]
            load = demand**S.QUEUE_LOAD_EXPONENT / staffing
            rho = min(S.QUEUE_MAX_UTILISATION, S.QUEUE_BASE_UTILISATION * load)
            base_f = S.QUEUE_BASE_UTILISATION / (1.0 - S.QUEUE_BASE_UTILISATION)
            mean_wait = S.BASE_WAIT_SECONDS * (rho / (1.0 - rho)) / base_f
            wait = rng.expovariate(1.0 / mean_wait)
            patience = rng.expovariate(1.0 / S.PATIENCE_SECONDS)
            u = rng.random()
            missed = None
            if u < S.SHORT_ABANDON_SHARE:
                missed, ended = "short_abandoned", t + 1.0 + rng.random() * 8.0
            elif ivr and u < S.SHORT_ABANDON_SHARE + S.IVR_ABANDON_SHARE:
                missed, ended = "abandoned_in_ivr", t + 3.0 + ivr * rng.random()
            elif rng.random() < S.NO_AGENT_SHARE + max(0.0, rho - S.NO_AGENT_UTILISATION) * S.NO_AGENT_SLOPE:
                missed, ended = "no_available_agent", t + ivr + 5.0 + rng.random() * 25.0
                voicemail = rng.random() < S.VOICEMAIL_SHARE
            elif patience < min(wait, S.MAX_QUEUE_SECONDS):
                missed, ended = "abandoned_in_classic", t + ivr + patience
            elif wait > S.MAX_QUEUE_SECONDS or rng.random() < S.AGENTS_DID_NOT_ANSWER_SHARE / min(1.0, staffing):
                missed = "agents_did_not_answer"
                ended = t + ivr + min(wait, S.MAX_QUEUE_SECONDS) + 15.0 + rng.random() * 30.0
            else:
                answered = t + ivr + wait
                agent = self._owner(line, t)
                talk = S.TALK_SECONDS[0] * math.exp(S.TALK_SECONDS[1] * rng.gauss(0.0, 1.0)) * agent.speed
                ended = answered + talk
            if answered is None:
                outcome = "missed"
            else:
                resolved = rng.random() < S.FIRST_CALL_RESOLUTION_SHARE
                outcome = "resolved" if resolved else "unresolved"
                tags = [_CALL_TAGS.get(reason, "question"), "resolved" if resolved else "follow_up"]
        t, shift = self._fit_in_day(t, ended)
        ended -= shift
        if answered is not None:
            answered -= shift
        self.sink.emit(
            E.CALLS,
            day,
            self._call_record(call_id, "inbound", t, answered, ended, missed, digits, agent, line, tags, voicemail),
        )
        if c is not None:
            if outcome == "missed" and missed != "short_abandoned":
                self._shock(c, ended, S.MOOD_CALL_ABANDONED)
            elif outcome == "resolved":
                self._shock(c, ended, S.MOOD_CALL_RESOLVED)
            if agent is not None and answered is not None:
                if ticket_category is not None or rng.random() < S.PHONE_TICKET_SHARE:
                    self._ticket(
                        c,
                        ended + 5.0 + rng.random() * 120.0,
                        ticket_category or "GENERAL_INQUIRY",
                        "PHONE",
                        c.orders[-1] if c.orders else None,
                        agent,
                    )
                if rng.random() < S.CALL_CSAT_SHARE:
                    c.surveys.append((ended + 300.0 + rng.random() * 3600.0, "CSAT", "Call CSAT", "SMS", None))
        return outcome

    def _outbound_call(self, c: Customer, t: float, reason: str) -> None:
        """An agent calls the customer back (Aircall logs outbound calls without a missed reason)."""
        rng = self.rng
        if t >= c.stop or t >= self.t_end:
            return
        agent = self._owner(c.line, t)
        call_id = self._next_id("call", S.CALL_ID_BASE)
        answered = t + 6.0 + rng.random() * 20.0 if rng.random() < S.CALLBACK_ANSWERED_SHARE else None
        if answered is not None:
            ended = answered + S.TALK_SECONDS[0] * math.exp(S.TALK_SECONDS[1] * rng.gauss(0.0, 1.0)) * agent.speed
            tags = ["callback", "resolved" if rng.random() < 0.8 else "follow_up"]
        else:
            ended = t + 25.0 + rng.random() * 20.0
            tags = ["callback", "no_answer"]
        t, shift = self._fit_in_day(t, ended)
        ended -= shift
        if answered is not None:
            answered -= shift
        digits = people.format_international(c.phone)
        self.sink.emit(
            E.CALLS,
            self.clock.day_of(t),
            self._call_record(call_id, "outbound", t, answered, ended, None, digits, agent, c.line, tags, False),
        )
        if answered is not None:
            self._shock(c, ended, S.MOOD_CALL_RESOLVED)

    def _stranger_calls(self) -> None:
        """Calls from numbers no contact has: prospects, wrong numbers."""
        rng, ctx = self.rng, self.ctx
        expected = self.count * S.STRANGER_CALLS_PER_CUSTOMER_YEAR * ctx.days / 365.0
        n = int(expected) + (rng.random() < expected - int(expected))
        for _ in range(n):
            market = weighted(rng, _MARKET_CHOICES)
            number = people.draw_phone(rng, market)
            day = ctx.support.sample(0.0, float(ctx.days), rng)
            offsets = self.cat.line_offsets[ctx.line_of_market[market]]
            t = self.clock.local_day_start(offsets, int(day)) + ctx.support_hours.draw(rng)
            if self.t0 <= t < self.t_end:
                self._inbound_call(None, t, number, "general", None)
