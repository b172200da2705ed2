"""A bar chart of disclosures per day, computed here and drawn by the template as
inline SVG: no script, no inline style (colours come from the stylesheet), and a
text summary plus a data table as its alternative.

Its work is bounded whatever is stored: at most ``MAX_DAYS`` days, ending at the
last day with counts, never after ``until`` (a window stamped in year 9999 is not
charted, and one in year 1 is not reached by walking day after day)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .store import DayCount

__all__ = ["Bar", "Chart", "daily_chart"]

WIDTH = 640
HEIGHT = 200
_LEFT = 8
_TOP = 12
_BOTTOM = 28  # room for the first and last day under the axis
MAX_DAYS = 90


@dataclass(frozen=True, slots=True)
class Bar:
    day: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    days: tuple[DayCount, ...]  # every day of the period, zeros included
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - _BOTTOM
    truncated: bool = False

    @property
    def first(self) -> str:
        return self.days[0].day

    @property
    def last(self) -> str:
        return self.days[-1].day


def _every_day(series: Sequence[DayCount], start: date, end: date) -> list[DayCount]:
    """The days from ``start`` to ``end``, with the missing ones as zero."""
    known = {d.day: d for d in series}
    days = []
    for offset in range((end - start).days + 1):
        day = (start + timedelta(days=offset)).isoformat()
        days.append(known.get(day, DayCount(day, 0, 0)))
    return days


def daily_chart(
    series: Sequence[DayCount], *, until: date | None = None, earliest: str | None = None
) -> Chart | None:
    """The chart of the last ``MAX_DAYS`` days of ``series`` (sorted by day) up to
    ``until``; None if there is nothing to show. ``earliest`` is the first day with
    counts when ``series`` was cut short, so that the chart says it shows only part."""
    if until is not None:
        series = [d for d in series if d.day <= until.isoformat()]
    if not series:
        return None
    end = date.fromisoformat(series[-1].day)
    first = date.fromisoformat(series[0].day)
    # Never below ``first``, so never below year 1 either.
    start = first if (end - first).days < MAX_DAYS else end - timedelta(days=MAX_DAYS - 1)
    truncated = (earliest or series[0].day) < start.isoformat()
    days = _every_day(series, start, end)
    peak = max(d.count for d in days)
    plot_width = WIDTH - 2 * _LEFT
    plot_height = HEIGHT - _TOP - _BOTTOM
    slot = plot_width / len(days)
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, day in enumerate(days):
        height = 0.0 if peak == 0 else plot_height * day.count / peak
        if day.count and height < 1:
            height = 1.0  # a non-zero day stays visible
        bars.append(
            Bar(
                day=day.day,
                count=day.count,
                x=round(_LEFT + index * slot + gap / 2, 2),
                y=round(HEIGHT - _BOTTOM - height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(height, 2),
            )
        )
    return Chart(
        bars=tuple(bars),
        days=tuple(days),
        total=sum(d.count for d in days),
        peak=peak,
        truncated=truncated,
    )
