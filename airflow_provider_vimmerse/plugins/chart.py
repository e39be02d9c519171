"""
Draw the cost view's chart: an inline SVG the api-server renders, no JavaScript and nothing from the internet.

One stacked bar per day, a segment per DAG (its colour from :func:`dag_colours`, the same in the legend
and the tables), and the account's own daily credits from the usage statistics as a marker across the
day's bar (a day without account credits has none). A bar segment is ``<rect class="bar" data-dag="..."
data-date="..." data-credits="...">`` and a marker ``<g class="account-mark" data-date="..."
data-credits="...">``; each has a ``<title>`` (the browser's tooltip). Colours that follow the page's
light or dark scheme come from classes (``axis``, ``grid``, ``account-line``...) styled by the page,
since its Content-Security-Policy allows no ``style`` attribute.

Pure module: no Airflow imports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from airflow_provider_vimmerse.plugins.costs import CostReport, Credits

#: Colours of the DAGs' segments, in the order of the report's DAGs (most credits first); repeated past the end.
PALETTE = (
    "#6e56cf",
    "#12a594",
    "#e5484d",
    "#f76b15",
    "#0090ff",
    "#d6409f",
    "#46a758",
    "#ffc53d",
    "#8d8d8d",
    "#00a2c7",
)
WIDTH = 900
HEIGHT = 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 20, 16, 44
#: At most this many day labels on the x axis (every n-th day past that).
MAX_DAY_LABELS = 12


def dag_colours(report: CostReport) -> dict[str, str]:
    """
    Return the colour of each DAG that spent credits in the report, in the report's order.

    :param report: from :func:`~airflow_provider_vimmerse.plugins.costs.build_report`
    """
    priced = [dag["dag_id"] for dag in report["dags"] if dag["credits"] > 0]
    return {dag_id: PALETTE[index % len(PALETTE)] for index, dag_id in enumerate(priced)}


def number(value: Credits) -> str:
    """
    Return a figure as the view shows it: whole numbers without decimals, others with up to two.

    :param value: credits
    """
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def swatch(colour: str, *, line: bool = False) -> str:
    """
    Return a small inline SVG of a colour (a square), or of the account's line (``line=True``), for legends.

    :param colour: a ``#rrggbb`` colour (ignored for the line)
    :param line: draw the account's line and marker instead of a square
    """
    if line:
        shape = (
            '<line class="account-line" x1="0" y1="7" x2="14" y2="7"/>'
            '<circle class="account-point" cx="7" cy="7" r="3.5"/>'
        )
    else:
        shape = f'<rect x="1" y="1" width="12" height="12" rx="2" fill="{escape(colour)}"/>'
    return f'<svg class="swatch" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">{shape}</svg>'


def cost_chart(report: CostReport, colours: Mapping[str, str]) -> str:
    """
    Return the chart of a report as an ``<svg>`` element.

    :param report: from :func:`~airflow_provider_vimmerse.plugins.costs.build_report`
    :param colours: the colour of each DAG (:func:`dag_colours`)
    """
    days = report["days"]
    account = [day["account"] for day in days]
    highest = max([day["tasks"] for day in days] + [value or 0 for value in account] + [0])
    ticks = axis_ticks(highest)
    top = ticks[-1]
    plot_width, plot_height = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_width / max(1, len(days))
    bar_width = max(1.0, min(48.0, slot * 0.7))

    def y(value: float) -> float:
        return _TOP + plot_height - plot_height * value / top

    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="cost-chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'aria-labelledby="cost-chart-title cost-chart-desc">',
        '<title id="cost-chart-title">Credits per day and per DAG</title>',
        f'<desc id="cost-chart-desc">{escape(_description(report))}</desc>',
    ]
    for tick in ticks:
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>')
        parts.append(
            f'<text class="axis" x="{_LEFT - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{number(tick)}</text>'
        )
    middle = _TOP + plot_height / 2
    parts.append(
        f'<text class="axis axis-title" x="14" y="{middle:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {middle:.1f})">credits</text>'
    )
    every = math.ceil(len(days) / MAX_DAY_LABELS) or 1
    for index, day in enumerate(days):
        centre = _LEFT + slot * (index + 0.5)
        base = float(y(0))
        for dag_id, colour in colours.items():
            credits = day["by_dag"].get(dag_id, 0)
            if credits <= 0:
                continue
            height = y(0) - y(credits)
            tip = f"{dag_id}, {day['date']}: {number(credits)} credits"
            parts.append(
                f'<rect class="bar" x="{centre - bar_width / 2:.1f}" y="{base - height:.1f}" '
                f'width="{bar_width:.1f}" height="{height:.1f}" fill="{colour}" '
                f'data-dag="{escape(dag_id)}" data-date="{day["date"]}" data-credits="{credits}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            base -= height
        if index % every == 0:
            parts.append(
                f'<text class="axis" x="{centre:.1f}" y="{HEIGHT - _BOTTOM + 18}" text-anchor="middle">'
                f"{_short_day(day['date'])}</text>"
            )
    parts.append(f'<line class="baseline" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    for index, (day, value) in enumerate(zip(days, account, strict=True)):
        if not value:
            continue
        centre, level = _LEFT + slot * (index + 0.5), y(value)
        reach = bar_width / 2 + 6
        tip = f"Account (usage statistics), {day['date']}: {number(value)} credits"
        parts.append(
            f'<g class="account-mark" data-date="{day["date"]}" data-credits="{value}"><title>{escape(tip)}</title>'
            f'<line class="account-line" x1="{centre - reach:.1f}" x2="{centre + reach:.1f}" '
            f'y1="{level:.1f}" y2="{level:.1f}"/>'
            f'<circle class="account-point" cx="{centre:.1f}" cy="{level:.1f}" r="3.5"/></g>'
        )
    if not highest:
        parts.append(
            f'<text class="axis empty-chart" x="{_LEFT + plot_width / 2:.1f}" y="{middle:.1f}" '
            'text-anchor="middle">No credits in this range</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def axis_ticks(highest: float) -> list[float]:
    """
    Return the y axis's ticks from 0: round steps (1, 2 or 5 times a power of ten), the last at or above ``highest``.

    :param highest: the largest value drawn
    """
    if highest <= 0:
        return [0, 1]
    rough = highest / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(factor * power for factor in (1, 2, 5, 10) if factor * power >= rough)
    if step >= 1:
        step = int(step)
    count = math.ceil(highest / step)
    return [step * index for index in range(count + 1)]


def _short_day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day:%b} {day.day}"


def _description(report: CostReport) -> str:
    dags: Sequence[str] = [f"{dag['dag_id']} {number(dag['credits'])}" for dag in report["dags"] if dag["credits"]]
    spent = f"credits from the tasks' results: {', '.join(dags)}" if dags else "no credits in the tasks' results"
    account = report["account"]
    if account["available"] and account["total"] is not None:
        spent += f"; the account's usage statistics: {number(account['total'])} credits"
    return f"From {report['start']} to {report['end']}, {spent}."
