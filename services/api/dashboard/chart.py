"""Outcomes over the day as a stacked bar chart, drawn on the server as SVG: no script, no
chart library, nothing fetched from elsewhere; it prints and reads without JavaScript."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from markupsafe import Markup

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 150, 16, 28
HOURS = 24
# Colour-blind-safe palette (Okabe and Ito); codes beyond it repeat the colours in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000")


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def hourly_bars(
    counts: Mapping[tuple[int, str], int], *, day_start: datetime, tz: ZoneInfo
) -> Markup:
    """`counts` per (hour since `day_start`, outcome code): one bar per hour of the day."""
    codes = sorted({code for _, code in counts})
    colour = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}
    # 25 bars on the day the clocks go back.
    hours = max([HOURS, *(h + 1 for h, _ in counts)])
    slots = [day_start + timedelta(hours=h) for h in range(hours)]
    totals = [sum(counts.get((h, c), 0) for c in codes) for h in range(hours)]
    top = _nice_top(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / hours
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" class="chart" aria-label="Outcomes per hour today">',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for h, slot in enumerate(slots):
        x = LEFT + h * bar_w
        y: float = TOP + plot_h
        for code in codes:
            n = counts.get((h, code), 0)
            if not n:
                continue
            height = plot_h * n / top
            y -= height
            label = escape(f"{slot.astimezone(tz):%H:%M} {code}: {n}")
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{height:.1f}" fill="{colour[code]}"><title>{label}</title></rect>'
            )
        if h % 3 == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{slot.astimezone(tz):%H}</text>"
            )
    for i, code in enumerate(codes):
        y = TOP + 14 * i
        parts.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="10" height="10" '
            f'fill="{colour[code]}"/>'
            f'<text x="{WIDTH - RIGHT + 28}" y="{y + 9}">{escape(code or "(none)")}</text>'
        )
    if not codes:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">'
            "No outcomes yet today</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
