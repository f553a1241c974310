"""Geometry of the trajectory chart, drawn as inline SVG by the template (no chart library).

Severity bands come from the instrument's own bands (the core's data); this module only maps
dates and totals to coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ketacare.clinical.instruments import Instrument
from ketacare.kernel import clock
from ketacare.kernel.bounds import in_range

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 34
# Background shades from the mildest band to the most severe (colour only; the bands are data).
BAND_FILLS = ("#e6f4ea", "#f1f6dc", "#fff4dc", "#fde6d2", "#fbd9d6", "#f7cbc7")


@dataclass(frozen=True)
class ChartPoint:
    """A score placed on the chart."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class ChartBand:
    """A severity band as a background rectangle."""

    name: str
    y: float
    height: float
    fill: str
    label_y: float


@dataclass(frozen=True)
class ChartMarker:
    """A session or booster, as a vertical line."""

    x: float
    kind: str
    label: str


@dataclass(frozen=True)
class ChartTick:
    """An axis label."""

    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    bands: tuple[ChartBand, ...]
    points: tuple[ChartPoint, ...]
    line: str
    baseline_y: float | None
    baseline_label: str
    markers: tuple[ChartMarker, ...]
    y_ticks: tuple[ChartTick, ...]
    x_ticks: tuple[ChartTick, ...]

    @property
    def plot_width(self) -> int:
        """Width of the plotting area."""
        return self.plot_right - self.plot_left

    @property
    def axis_label_y(self) -> int:
        """Baseline of the date labels under the plot."""
        return self.plot_bottom + 18


@dataclass(frozen=True)
class Score:
    """One total at one time (input to the chart)."""

    at: datetime
    total: int
    band: str


@dataclass(frozen=True)
class Event:
    """A session or a booster (input to the chart)."""

    at: datetime
    kind: str
    label: str


def trajectory_chart(
    instrument: Instrument,
    scores: Sequence[Score],
    *,
    baseline: int | None,
    events: Sequence[Event] = (),
) -> Chart:
    """Lay out one instrument's scores over time with its bands, baseline and markers."""
    # A point stored outside 1900-2100 (before input bounds existed) is left off, not fatal.
    scores = [s for s in scores if in_range(s.at)]
    events = [e for e in events if in_range(e.at)]
    times = [s.at for s in scores] + [e.at for e in events]
    start, end = (min(times), max(times)) if times else (clock.now(), clock.now())
    if end - start < timedelta(days=14):
        middle = start + (end - start) / 2
        start, end = middle - timedelta(days=7), middle + timedelta(days=7)
    pad = (end - start) * 0.04
    start, end = start - pad, end + pad
    plot_right = WIDTH - RIGHT
    plot_bottom = HEIGHT - BOTTOM
    span = (end - start).total_seconds()
    low, high = instrument.min_total, instrument.max_total

    def x_of(at: datetime) -> float:
        return round(LEFT + (at - start).total_seconds() / span * (plot_right - LEFT), 1)

    def y_of(total: float) -> float:
        clipped = min(max(total, low), high)
        return round(plot_bottom - (clipped - low) / (high - low) * (plot_bottom - TOP), 1)

    bands = []
    numeric = [
        (b.name, b.min, b.max) for b in instrument.bands if b.min is not None and b.max is not None
    ]
    for index, (name, band_min, band_max) in enumerate(numeric):
        top = y_of(band_max + 0.5)
        bottom = y_of(band_min - 0.5)
        fill = BAND_FILLS[min(round(index * (len(BAND_FILLS) - 1) / max(len(numeric) - 1, 1)), 5)]
        bands.append(
            ChartBand(name, top, round(bottom - top, 1), fill, round((top + bottom) / 2 + 4, 1))
        )
    points = tuple(
        ChartPoint(x_of(s.at), y_of(s.total), f"{s.at:%Y-%m-%d}: {s.total} ({s.band})")
        for s in sorted(scores, key=lambda s: s.at)
    )
    line = " ".join(f"{p.x},{p.y}" for p in points)
    y_ticks = tuple(
        ChartTick(y_of(value), str(value))
        for value in sorted({low, high, *(band_min for _, band_min, _ in numeric)})
    )
    x_ticks = (
        ChartTick(x_of(start + pad), f"{start + pad:%d %b %Y}"),
        ChartTick(x_of(end - pad), f"{end - pad:%d %b %Y}"),
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        bands=tuple(bands),
        points=points,
        line=line,
        baseline_y=y_of(baseline) if baseline is not None else None,
        baseline_label=f"baseline {baseline}" if baseline is not None else "",
        markers=tuple(
            ChartMarker(x_of(e.at), e.kind, f"{e.label} {e.at:%Y-%m-%d}")
            for e in sorted(events, key=lambda e: e.at)
        ),
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )
