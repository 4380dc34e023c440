"""The sale's chart as server-rendered SVG: admitted and sold (both cumulative) over time."""

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28
SERIES = (("admitted", "Admitted"), ("sold", "Sold"))


@dataclass
class Chart:
    """What the SVG template draws: one polyline per series, and the axes' ticks."""

    width: int
    height: int
    lines: list[dict]
    y_ticks: list[dict]
    x_ticks: list[dict]
    empty: bool


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above value, so the y-axis reads in round numbers."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if step * top >= value:
                return step * top
        top *= 10


def build(points: list[dict]) -> Chart:
    """Scale the samples into the chart's box; the x-axis runs from the first sample to the last."""
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    if len(points) < 2:
        return Chart(WIDTH, HEIGHT, [], [], [], True)
    t0, t1 = points[0]["t"], points[-1]["t"]
    span = max(t1 - t0, 1.0)
    top = _nice_top(max(max(p[name] for p in points) for name, _ in SERIES) or 1)

    def x(t: float) -> float:
        return round(PAD_LEFT + plot_w * (t - t0) / span, 1)

    def y(v: float) -> float:
        return round(PAD_TOP + plot_h * (1 - v / top), 1)

    lines = [
        {
            "name": name,
            "label": label,
            "points": " ".join(f"{x(p['t'])},{y(p[name])}" for p in points),
            "last": points[-1][name],
        }
        for name, label in SERIES
    ]
    step = _nice_top(math.ceil(top / 5))  # whole, round steps: 0 1 2 3 4 5, 0 2 4 ... 10, 0 50 ... 200
    y_ticks = [{"y": y(value), "label": f"{value:,}"} for value in range(0, top + 1, step)]
    x_ticks = [{"x": x(t0 + span * i / 4), "label": _elapsed(span * i / 4)} for i in range(5)]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, False)


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def since_opening(points: list[dict], state: str, opened_at: str | None) -> list[dict]:
    """The samples from the sale's opening on: an armed sale's flat hours before it would squash the run."""
    if opened_at:
        # to the millisecond, as samples are kept: the sample taken at the opening itself is the first
        opened = round(datetime.fromisoformat(opened_at).timestamp(), 3)
        return [point for point in points if point["t"] >= opened]
    return [] if state == "armed" else points  # not open yet; or closed, its Redis settings gone


CSV_COLUMNS = ("time_utc", "seconds_since_opening", "admitted", "sold", "waiting")


def as_csv(points: list[dict]) -> str:
    """The samples as CSV, one row each, oldest first; admitted and sold are cumulative."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    start = points[0]["t"] if points else 0
    for point in points:
        moment = datetime.fromtimestamp(point["t"], UTC).isoformat(timespec="seconds")
        row = [point.get("admitted", 0), point.get("sold", 0), point.get("waiting", 0)]
        writer.writerow([moment, round(point["t"] - start, 1), *row])
    return out.getvalue()
