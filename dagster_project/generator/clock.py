"""Time for the generator: the run's calendar, seasonal weights and fast timestamp formatting.

Times are floats of Unix seconds (UTC) throughout the simulation. Formatting
tens of millions of timestamps with ``datetime.strftime`` would dominate the
run time, so ``Clock`` precomputes each day's date string and each time zone's
UTC offset per day, and formats with plain string arithmetic.

Seasonality is a weight per calendar day (mean about 1): a weekly rhythm times a
yearly one with a Black-Friday-to-Christmas peak. Activity processes sample
their days from these weights, so a run that covers December shows the peak.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY = 86_400.0

# Weekday factors (Monday first) for shopping and for contacting support.
# Design choice after the usual e-commerce pattern: online shopping peaks on
# Sunday evening and Monday; support contacts are a working-week affair.
SHOP_WEEKDAY = (1.08, 1.0, 0.98, 0.97, 0.92, 0.9, 1.15)
SUPPORT_WEEKDAY = (1.3, 1.15, 1.05, 1.0, 0.95, 0.45, 0.35)

# Local hour-of-day weights (0..23). Shopping: evening peak; support: office hours
# with some evening and night demand (which meets closed phone lines).
SHOP_HOURS = (
    0.6,
    0.35,
    0.2,
    0.12,
    0.1,
    0.15,
    0.35,
    0.7,
    1.0,
    1.2,
    1.3,
    1.35,
    1.45,
    1.4,
    1.3,
    1.3,
    1.35,
    1.5,
    1.7,
    1.95,
    2.1,
    2.0,
    1.6,
    1.05,
)
SUPPORT_HOURS = (
    0.03,
    0.02,
    0.01,
    0.01,
    0.02,
    0.05,
    0.15,
    0.6,
    1.8,
    2.3,
    2.3,
    2.1,
    1.8,
    2.0,
    2.1,
    1.95,
    1.8,
    1.4,
    0.9,
    0.5,
    0.35,
    0.2,
    0.1,
    0.05,
)


_MMSS = [f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)]
_MILLIS = [f".{ms:03d}" for ms in range(1000)]


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def season(day: date) -> float:
    """Yearly shopping rhythm: January sales, a summer lull, the Black Friday to Christmas peak."""
    bf = black_friday(day.year)
    if bf - timedelta(days=1) <= day <= bf + timedelta(days=3):  # Black Friday weekend to Cyber Monday
        return 2.3
    if day.month == 12:
        if day.day <= 21:
            return 1.35 + 0.025 * day.day
        if day.day <= 26:
            return 0.7
        return 1.1
    if day.month == 11:
        return 1.12
    if day.month == 1 and day.day <= 14:
        return 1.15
    if day.month in (7, 8):
        return 0.88
    if day.month == 2:
        return 0.92
    return 1.0


def day_weights(first: date, days: int, weekday: Sequence[float], seasonal: bool = True) -> list[float]:
    return [
        weekday[(first + timedelta(days=k)).weekday()] * (season(first + timedelta(days=k)) if seasonal else 1.0)
        for k in range(days)
    ]


def cumulative(weights: Sequence[float]) -> list[float]:
    out = [0.0]
    for w in weights:
        out.append(out[-1] + w)
    return out


class DayProcess:
    """An inhomogeneous Poisson process over whole days, with rate proportional to day weights.

    ``next_day(position, rate, rng)`` returns the fractional day index of the next
    event after ``position`` for a process with ``rate`` events per weight-unit,
    or None past the end. Using the cumulative weights as a time change makes
    each step one exponential draw and one bisection.
    """

    def __init__(self, first_index: int, weights: Sequence[float]) -> None:
        self.first_index = first_index
        self.weights = list(weights)
        self.cum = cumulative(weights)
        self.end_index = first_index + len(weights)

    def _position_to_cum(self, position: float) -> float:
        k = int(position - self.first_index) if position >= self.first_index else 0
        if k >= len(self.weights):
            return self.cum[-1]
        frac = position - self.first_index - k if position >= self.first_index else 0.0
        return self.cum[k] + self.weights[k] * frac

    def next_day(self, position: float, rate: float, rng: random.Random) -> float | None:
        if rate <= 0:
            return None
        target = self._position_to_cum(position) + rng.expovariate(1.0) / rate
        if target >= self.cum[-1]:
            return None
        k = bisect.bisect_right(self.cum, target) - 1
        return self.first_index + k + (target - self.cum[k]) / self.weights[k]

    def expected(self, start: float, end: float, rate: float) -> float:
        return rate * (self._position_to_cum(end) - self._position_to_cum(start))

    def sample(self, start: float, end: float, rng: random.Random) -> float:
        """A day position in [start, end) drawn with density proportional to the weights."""
        low, high = self._position_to_cum(start), self._position_to_cum(end)
        target = low + rng.random() * (high - low)
        k = min(bisect.bisect_right(self.cum, target) - 1, len(self.weights) - 1)
        return self.first_index + k + (target - self.cum[k]) / self.weights[k]


class HourOfDay:
    """Draws a local second-of-day from 24 hourly weights."""

    def __init__(self, weights: Sequence[float]) -> None:
        self.cum = cumulative(weights)
        self.total = self.cum[-1]

    def draw(self, rng: random.Random) -> float:
        target = rng.random() * self.total
        hour = min(bisect.bisect_right(self.cum, target) - 1, 23)
        return hour * 3600.0 + rng.random() * 3600.0


class Clock:
    """The run's calendar: day indexes relative to ``start`` (index 0), from ``-back`` to ``days + ahead``."""

    def __init__(self, start: date, days: int, back: int, ahead: int = 40) -> None:
        self.start = start
        self.days = days
        self.back = back
        self.t0 = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
        self.t_end = self.t0 + days * DAY
        self._dates = [(start + timedelta(days=k)).isoformat() for k in range(-back, days + ahead)]
        self._zones: dict[str, list[int]] = {}
        self._zone_labels: dict[int, str] = {}
        # The calendar's first midnight, and 'YYYY-MM-DDTHH:' for every hour since then.
        self._base = self.t0 - back * DAY
        self._hours = [f"{d}T{h:02d}:" for d in self._dates for h in range(24)]

    # -- days ----------------------------------------------------------------

    def day_of(self, t: float) -> int:
        """Day index (0 = start_date) of a UTC time."""
        return int((t - self.t0) // DAY)

    def day_start(self, day: int) -> float:
        return self.t0 + day * DAY

    def date_str(self, day: int) -> str:
        return self._dates[day + self.back]

    def weekday(self, day: int) -> int:
        return (self.start + timedelta(days=day)).weekday()

    # -- time zones ------------------------------------------------------------

    def offsets(self, zone: str) -> list[int]:
        """UTC offset in seconds of ``zone`` at noon UTC of every day of the calendar."""
        found = self._zones.get(zone)
        if found is None:
            tz = ZoneInfo(zone)
            first = datetime(self.start.year, self.start.month, self.start.day, 12, tzinfo=UTC)
            found = [
                int((first + timedelta(days=k)).astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
                for k in range(-self.back, len(self._dates) - self.back)
            ]
            self._zones[zone] = found
            for seconds in set(found):
                self._offset_label(seconds)
        return found

    def offset(self, offsets: list[int], t: float) -> int:
        return offsets[int((t - self.t0) // DAY) + self.back]

    def local_day_start(self, offsets: list[int], day: int) -> float:
        """UTC time of local midnight starting the local calendar day ``day`` in that zone."""
        return self.t0 + day * DAY - offsets[day + self.back]

    def _offset_label(self, seconds: int) -> str:
        label = self._zone_labels.get(seconds)
        if label is None:
            sign = "+" if seconds >= 0 else "-"
            h, m = divmod(abs(seconds) // 60, 60)
            label = f"{sign}{h:02d}:{m:02d}"
            self._zone_labels[seconds] = label
        return label

    # -- formatting ------------------------------------------------------------
    # Timestamps are glued from precomputed pieces: 'YYYY-MM-DDTHH:' per hour of the
    # calendar, 'MM:SS' per second of an hour, '.mmm' per millisecond.

    def iso(self, t: float) -> str:
        """'2025-03-02T10:21:07Z' (HubSpot-style, whole seconds)."""
        hour, second = divmod(int(t - self._base), 3600)
        return self._hours[hour] + _MMSS[second] + "Z"

    def iso_ms(self, t: float) -> str:
        """'2025-01-14T09:12:44.120Z' (milliseconds)."""
        second, ms = divmod(int((t - self._base) * 1000), 1000)
        hour, second = divmod(second, 3600)
        return self._hours[hour] + _MMSS[second] + _MILLIS[ms] + "Z"

    def local_iso_ms(self, t: float, offsets: list[int]) -> str:
        """'2025-03-02T11:15:00.123+01:00': the device's local time with its UTC offset (Segment)."""
        off = offsets[int((t - self._base) // DAY)]
        second, ms = divmod(int((t + off - self._base) * 1000), 1000)
        hour, second = divmod(second, 3600)
        return self._hours[hour] + _MMSS[second] + _MILLIS[ms] + self._zone_labels[off]

    def local_hour(self, t: float, offsets: list[int]) -> float:
        off = offsets[int((t - self._base) // DAY)]
        return ((t + off - self.t0) % DAY) / 3600.0

    def local_weekday(self, t: float, offsets: list[int]) -> int:
        off = offsets[int((t - self._base) // DAY)]
        return (self.start.weekday() + int((t + off - self.t0) // DAY)) % 7
