"""The night's report: one self-contained ``report.html`` beside the outreach files.

For the people who use the night every morning and do not read SQL: the segment table
and its change against the same night a month earlier, charts (segment sizes and
revenue, the journey funnel, segment migration, campaign list sizes, lift per campaign
against its holdout), who was left out and why, the data-quality results and the run's
timings.  Everything is inline (CSS and SVG charts, no script, no font or image from
elsewhere), so it opens from a file share with no server and no internet.  It reports
counts and sums only, never a person.

Every number is one of the night's figures (:mod:`next_steps.publish.figures`, read from
the published warehouse and the night's run folder); this module only renders them.
Each chart's bars carry their value in ``data-value`` and each figure cell in
``data-value`` too, so a test can hold the rendered page against the warehouse.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from next_steps.publish.figures import (
    MODEL_NAMES,
    NightFigures,
    describe_lift,
    describe_model_fits,
    describe_offers,
    describe_programme,
    lift_reading,
)

OUTCOMES = ("listed", "holdout", "suppressed")
PALETTE = {"listed": "#2f6f9f", "holdout": "#e39b2d", "suppressed": "#b9b9b9"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1d;
margin:2rem auto;max-width:68rem;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;
border-bottom:1px solid #ddd;padding-bottom:.2rem}
.lede{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6rem 0}th,td{padding:.25rem .7rem;
border-bottom:1px solid #eee;text-align:right}th:first-child,td:first-child{text-align:left}
thead th{border-bottom:2px solid #ccc;font-weight:600}
.up{color:#23733b}.down{color:#a8322d}.muted{color:#777}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:.6rem 0}
figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font:12px system-ui,sans-serif;fill:#1d1d1d}
.legend span{display:inline-block;margin-right:1rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;
vertical-align:-.1rem}
@media print{body{margin:0}h2{break-after:avoid}figure,table{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return f"{float(value):,.{decimals}f}" if decimals else f"{int(value):,}"


def _percent(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{float(value) * 100:.{decimals}f} %"


def _cell(value: Any, text: str, css: str = "") -> str:
    data = "" if value is None else f' data-value="{_e(value)}"'
    klass = f' class="{css}"' if css else ""
    return f"<td{data}{klass}>{_e(text)}</td>"


def _change(now: Any, before: Any, decimals: int = 0, percent: bool = False) -> str:
    if now is None or before is None:
        return _cell(None, "–", "muted")
    delta = float(now) - float(before)
    css = "up" if delta > 0 else "down" if delta < 0 else "muted"
    text = (
        f"{delta * 100:+.1f} pp"
        if percent
        else f"{delta:+,.{decimals}f}"
        if decimals
        else f"{round(delta):+,}"
    )
    return _cell(round(delta, 6), text, css)


def bar_chart(
    chart_id: str,
    items: list[tuple[str, float]],
    *,
    title: str,
    decimals: int = 0,
    color: str = "#2f6f9f",
    width: int = 460,
) -> str:
    """A horizontal bar per item, its value written at the end of the bar."""
    label_width, row, top = 150, 26, 6
    plot = width - label_width - 90
    height = top * 2 + row * max(len(items), 1)
    largest = max((float(value) for _, value in items), default=0) or 1
    parts = []
    for index, (label, value) in enumerate(items):
        y = top + index * row
        length = max(float(value) / largest * plot, 0)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end">{_e(label)}</text>'
            f'<rect class="bar" data-label="{_e(label)}" data-value="{_e(value)}" '
            f'x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{color}"><title>{_e(label)}: {_number(value, decimals)}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 17}">'
            f"{_number(value, decimals)}</text>"
        )
    return _figure(chart_id, title, width, height, "".join(parts), len(items))


def _figure(chart_id: str, title: str, width: int, height: int, body: str, items: int) -> str:
    return (
        f'<figure class="chart" id="{chart_id}" data-items="{items}">'
        f"<figcaption>{_e(title)}</figcaption>"
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
        "</figure>"
    )


def funnel_chart(stages: list[tuple[str, int]]) -> str:
    """The journey funnel: one centred bar per stage, with its share of all accounts."""
    width, row, top = 520, 34, 6
    height = top * 2 + row * len(stages)
    largest = max((count for _, count in stages), default=0) or 1
    total = sum(count for _, count in stages) or 1
    parts = []
    for index, (stage, count) in enumerate(stages):
        y = top + index * row
        length = max(count / largest * 300, 1 if count else 0)
        x = 80 + (300 - length) / 2
        parts.append(
            f'<text x="70" y="{y + 21}" text-anchor="end">{_e(stage)}</text>'
            f'<rect class="bar" data-label="{_e(stage)}" data-value="{count}" x="{x:.1f}" '
            f'y="{y + 4}" width="{length:.1f}" height="{row - 8}" fill="#5b8c5a">'
            f"<title>{_e(stage)}: {count:,}</title></rect>"
            f'<text x="390" y="{y + 21}">{count:,} ({count / total:.0%})</text>'
        )
    return _figure(
        "chart-funnel",
        "Journey stages (accounts; share of all)",
        width,
        height,
        "".join(parts),
        len(stages),
    )


def migration_chart(moves: list[tuple[str, str, int]], order: list[str], month: date | None) -> str:
    """Segment migration as a grid: rows are where accounts came from, columns where
    they went; the darker the cell, the more accounts."""
    if not moves:
        return (
            '<p class="muted" id="chart-migration-empty">No account has moved between '
            "segments yet: a first night has no earlier night to compare with.</p>"
        )
    seen = {segment for move in moves for segment in move[:2]}
    segments = [s for s in order if s in seen] + sorted(seen - set(order))
    cell, left, top = 46, 110, 70
    width, height = left + cell * len(segments) + 10, top + cell * len(segments) + 10
    largest = max((n for _, _, n in moves), default=0) or 1
    counts = {(a, b): n for a, b, n in moves}
    parts = [
        f'<text x="{left - 8}" y="{top - 8}" text-anchor="end" class="muted">from \\ to</text>'
    ]
    for index, segment in enumerate(segments):
        parts.append(
            f'<text x="{left + index * cell + cell / 2}" y="{top - 8}" '
            f'text-anchor="middle">{_e(segment)}</text>'
            f'<text x="{left - 8}" y="{top + index * cell + cell / 2 + 4}" '
            f'text-anchor="end">{_e(segment)}</text>'
        )
    for row, source in enumerate(segments):
        for column, target in enumerate(segments):
            n = counts.get((source, target))
            if n is None:
                continue
            shade = 0.12 + 0.88 * n / largest
            x, y = left + column * cell, top + row * cell
            parts.append(
                f'<rect class="cell" data-from="{_e(source)}" data-to="{_e(target)}" '
                f'data-value="{n}" x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#2f6f9f" fill-opacity="{shade:.2f}">'
                f"<title>{_e(source)} → {_e(target)}: {n:,}</title></rect>"
                f'<text x="{x + cell / 2 - 1}" y="{y + cell / 2 + 3}" text-anchor="middle">'
                f"{n:,}</text>"
            )
    title = (
        f"Segment migration, {month:%B %Y} (accounts that moved)"
        if month
        else "Segment migration (no month yet)"
    )
    return _figure("chart-migration", title, width, height, "".join(parts), len(moves))


def campaign_chart(campaigns: list[dict[str, Any]]) -> str:
    """Per campaign, a bar split into listed, held out and suppressed people."""
    label_width, row, top, width = 170, 26, 6, 560
    plot = width - label_width - 80
    height = top * 2 + row * max(len(campaigns), 1)
    largest = max((sum(c[o] for o in OUTCOMES) for c in campaigns), default=0) or 1
    parts = []
    for index, campaign in enumerate(campaigns):
        y, x = top + index * row, float(label_width)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 17}" text-anchor="end">'
            f"{_e(campaign['campaign'])}</text>"
        )
        for outcome in OUTCOMES:
            length = campaign[outcome] / largest * plot
            parts.append(
                f'<rect class="bar" data-label="{_e(campaign["campaign"])}" '
                f'data-outcome="{outcome}" data-value="{campaign[outcome]}" x="{x:.1f}" '
                f'y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
                f'fill="{PALETTE[outcome]}"><title>{_e(campaign["campaign"])}, {outcome}: '
                f"{campaign[outcome]:,}</title></rect>"
            )
            x += length
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 17}">{campaign["listed"]:,}</text>')
    legend = "".join(f'<span><i style="background:{PALETTE[o]}"></i>{o}</span>' for o in OUTCOMES)
    figure = _figure(
        "chart-campaigns",
        "Campaign list sizes tonight (listed, held out, suppressed)",
        width,
        height,
        "".join(parts),
        len(campaigns),
    )
    return figure.replace("</figure>", f'<div class="legend">{legend}</div></figure>')


def lift_chart(lift: list[dict[str, Any]], window_days: int) -> str:
    """Conversion rate of the listed people against their holdout, per campaign."""
    label_width, row, top, width = 170, 40, 6, 560
    plot = width - label_width - 120
    height = top * 2 + row * max(len(lift), 1)
    largest = (
        max((r[k] or 0 for r in lift for k in ("listed_rate", "holdout_rate")), default=0) or 1
    )
    parts = []
    for index, campaign in enumerate(lift):
        y = top + index * row
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 22}" text-anchor="end">'
            f"{_e(campaign['campaign'])}</text>"
        )
        for offset, group in ((3, "listed"), (19, "holdout")):
            rate = campaign[f"{group}_rate"]
            length = (rate or 0) / largest * plot
            parts.append(
                f'<rect class="bar" data-label="{_e(campaign["campaign"])}" '
                f'data-group="{group}" data-value="{rate if rate is not None else ""}" '
                f'x="{label_width}" y="{y + offset}" width="{length:.1f}" height="14" '
                f'fill="{PALETTE[group]}"><title>{_e(campaign["campaign"])}, {group}: '
                f"{_percent(rate)} of {campaign[group]:,}</title></rect>"
                f'<text x="{label_width + length + 6:.1f}" y="{y + offset + 12}">'
                f"{_percent(rate)} of {campaign[group]:,}</text>"
            )
    legend = "".join(
        f'<span><i style="background:{PALETTE[g]}"></i>{g}</span>' for g in ("listed", "holdout")
    )
    figure = _figure(
        "chart-lift",
        f"Conversion within {window_days} days: listed against holdout",
        width,
        height,
        "".join(parts),
        len(lift),
    )
    return figure.replace("</figure>", f'<div class="legend">{legend}</div></figure>')


def _segment_table(data: NightFigures) -> str:
    before = data.earlier_segments or {}
    head = (
        "<thead><tr><th>segment</th><th>accounts</th><th>orders</th><th>revenue</th>"
        "<th>avg order value</th><th>revenue share</th><th>accounts vs month before</th>"
        "<th>revenue vs month before</th><th>share vs month before</th></tr></thead>"
    )
    body = []
    for row in data.segments:
        old = before.get(row["segment"], {})
        body.append(
            f'<tr data-segment="{_e(row["segment"])}"><td>{_e(row["segment"])}</td>'
            + _cell(row["accounts"], _number(row["accounts"]))
            + _cell(row["orders"], _number(row["orders"]))
            + _cell(row["revenue"], _number(row["revenue"], 2))
            + _cell(row["average_order_value"], _number(row["average_order_value"], 2))
            + _cell(row["revenue_share"], _percent(row["revenue_share"]))
            + _change(row["accounts"], old.get("accounts"))
            + _change(row["revenue"], old.get("revenue"), 2)
            + _change(row["revenue_share"], old.get("revenue_share"), percent=True)
            + "</tr>"
        )
    return f'<table id="segments">{head}<tbody>{"".join(body)}</tbody></table>'


def _simple_table(table_id: str, headers: list[str], rows: list[list[tuple[Any, str]]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + f"<td>{_e(rows_[0][1])}</td>"
        + "".join(_cell(value, text) for value, text in rows_[1:])
        + "</tr>"
        for rows_ in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>'
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render(data: NightFigures) -> str:
    night = data.night.isoformat()
    listed = sum(c["listed"] for c in data.campaigns)
    month_note = (
        f"Changes are against the night of {data.earlier.isoformat()}."
        if data.earlier_segments
        else f"The warehouse has no night {data.earlier.isoformat()} (a month earlier): "
        "no changes to show yet."
    )
    quality = _simple_table(
        "data-quality",
        [
            "file",
            "rows read",
            "loaded",
            "quarantined",
            "of which held",
            "flagged",
            "checks run",
            "checks failed",
        ],
        [
            [(f["file_name"], f["file_name"])]
            + [
                (f[k], _number(f[k]))
                for k in (
                    "rows_read",
                    "rows_loaded",
                    "rows_quarantined",
                    "rows_held",
                    "rows_flagged",
                    "checks_run",
                    "checks_failed",
                )
            ]
            for f in data.files
        ],
    )
    tests = ", ".join(f"{n:,} {status}" for status, n in sorted(data.tests.items())) or "no results"
    timings = _simple_table(
        "timings",
        ["step", "seconds"],
        [[(step, step), (round(seconds, 1), f"{seconds:,.1f}")] for step, seconds in data.timings],
    )
    left_out = _simple_table(
        "left-out", ["reason", "people"], [[(r, r), (n, f"{n:,}")] for r, n in data.left_out]
    )
    lift_table = _simple_table(
        "lift",
        [
            "campaign",
            "listing nights",
            "listed",
            "converted",
            "holdout",
            "converted",
            "listed rate",
            "holdout rate",
            "lift",
            "95 % interval",
            "reading",
            "revenue per person vs holdout (95 % interval)",
            "incremental revenue",
        ],
        [
            [
                (r["campaign"], r["campaign"]),
                (r["listing_nights"], _number(r["listing_nights"])),
                (r["listed"], _number(r["listed"])),
                (r["listed_converted"], _number(r["listed_converted"])),
                (r["holdout"], _number(r["holdout"])),
                (r["holdout_converted"], _number(r["holdout_converted"])),
                (r["listed_rate"], _percent(r["listed_rate"])),
                (r["holdout_rate"], _percent(r["holdout_rate"])),
                (r["lift"], "–" if r["lift"] is None else f"{r['lift'] * 100:+.1f} pp"),
                (
                    r["lift_low"],
                    "–"
                    if r["lift_low"] is None
                    else f"{r['lift_low'] * 100:+.1f} to {r['lift_high'] * 100:+.1f} pp",
                ),
                (lift_reading(r), lift_reading(r)),
                (
                    r.get("revenue_lift"),
                    "–"
                    if r.get("revenue_lift") is None
                    else f"{r['revenue_lift']:+,.2f}"
                    + (
                        ""
                        if r.get("revenue_lift_low") is None
                        else f" ({r['revenue_lift_low']:+,.2f} to {r['revenue_lift_high']:+,.2f})"
                    ),
                ),
                (
                    r.get("incremental_revenue"),
                    "–"
                    if r.get("incremental_revenue") is None
                    else f"{r['incremental_revenue']:,.2f}",
                ),
            ]
            for r in data.lift
        ],
    )
    p_alive_table = _simple_table(
        "p-alive",
        ["segment", "accounts scored", "mean", "10th percentile", "median", "90th percentile"],
        [
            [(r["segment"], r["segment"]), (r["accounts"], _number(r["accounts"]))]
            + [(r[k], f"{r[k]:.2f}") for k in ("mean", "p10", "median", "p90")]
            for r in data.p_alive
        ],
    )
    fits_table = _simple_table(
        "model-fits",
        ["model", "parameter", "estimate", "customers", "log-likelihood", "converged"],
        [
            [
                (f["model"], MODEL_NAMES.get(f["model"], f["model"])),
                (
                    f["parameter"],
                    f["parameter"] + (f" ({f['time_unit']}s)" if f["time_unit"] else ""),
                ),
                (f["value"], "–" if f["value"] is None else f"{f['value']:.4g}"),
                (f["customers"], _number(f["customers"])),
                (
                    f["log_likelihood"],
                    "–" if f["log_likelihood"] is None else f"{f['log_likelihood']:,.1f}",
                ),
                (f["converged"], "yes" if f["converged"] else "no"),
            ]
            for f in data.model_fits
        ],
    )
    offers_table = _simple_table(
        "offers",
        ["campaign", "listed", "with a product", "products", "most offered", "rules"],
        [
            [
                (r["campaign"], r["campaign"]),
                (r["listed"], _number(r["listed"])),
                (r["offered"], _number(r["offered"])),
                (r["products"], _number(r["products"])),
                (
                    r["top_product"],
                    "–"
                    if r["top_product"] is None
                    else f"{r['top_product']} ({r['top_product_people']:,})",
                ),
                (r["rules"], r["rules"] or "–"),
            ]
            for r in data.offers
        ],
    )
    evaluation_table = _simple_table(
        "offer-evaluation",
        ["rule", "repeat buyers", "with an offer", "hit at 1", "best seller", "hit at 3", "best 3"],
        [
            [
                (r["offer_rule"], r["offer_rule"]),
                (r["buyers_evaluated"], _number(r["buyers_evaluated"])),
                (r["buyers_with_offer"], _number(r["buyers_with_offer"])),
            ]
            + [
                (r[k], _percent(r[k]))
                for k in (
                    "hit_rate_at_1",
                    "baseline_hit_rate_at_1",
                    "hit_rate_at_3",
                    "baseline_hit_rate_at_3",
                )
            ]
            for r in data.offer_evaluation
        ],
    )
    sections = [
        f"<h1>Next steps: night {night}</h1>",
        f'<p class="lede">{listed:,} people listed in {len(data.campaigns)} campaigns. '
        "Figures are counts and sums; no person is named here.</p>",
        "<h2>Segments</h2>",
        f"<p>{_e(month_note)}</p>",
        _segment_table(data),
        '<div class="charts">',
        bar_chart(
            "chart-segment-accounts",
            [(r["segment"], r["accounts"]) for r in data.segments],
            title="Accounts per segment",
        ),
        bar_chart(
            "chart-segment-revenue",
            [(r["segment"], float(r["revenue"])) for r in data.segments],
            title="Revenue per segment (purchase window)",
            decimals=0,
            color="#5b8c5a",
        ),
        "</div>",
        "<h2>Journey and migration</h2>",
        '<div class="charts">',
        funnel_chart(data.funnel),
        migration_chart(data.migration, data.segment_order, data.migration_month),
        "</div>",
        "<h2>Campaigns</h2>",
        campaign_chart(data.campaigns),
        "<h2>Lift against the holdout</h2>",
        f"<p>Listing nights whose {data.lift_window_days}-day window has closed. The holdout "
        "is a stable share of each campaign's contactable people who are not listed.</p>"
        if data.lift_window_days
        else "<p>No conversion window is measured yet.</p>",
        lift_chart(data.lift, data.lift_window_days)
        if data.lift
        else '<p class="muted" id="chart-lift-empty">No listing night has a closed window yet.</p>',
        lift_table,
        f'<p id="lift-reading">{_e(describe_lift(data.lift))} A lift is read only when both '
        "groups hold at least the seed's minimum (<code>min_lift_group_size</code>) and its "
        "95 % interval (Newcombe's, from Wilson intervals) excludes 0.</p>"
        if data.lift
        else "",
        f'<p id="programme-lift">{_e(describe_programme(data.programme, data.lift_window_days))}</p>',
        "<h2>Purchase models</h2>",
        "".join(
            f'<p class="model-fit">{_e(sentence)}</p>'
            for sentence in describe_model_fits(data.model_fits)
        ),
        fits_table,
        "<p>Probability that a customer is still active (BG/NBD <code>p_alive</code>), per "
        "segment, of the accounts scored tonight:</p>",
        p_alive_table,
        "<h2>Offers</h2>",
        "<p>What the people listed tonight are offered (<code>offer_sku</code>, chosen by "
        "each campaign's rule in the seed <code>next_step_campaigns</code>):</p>",
        offers_table,
        f'<p id="offer-reading">{_e(describe_offers(data.offer_evaluation))}</p>',
        evaluation_table,
        "<h2>Who was left out, and why</h2>",
        left_out,
        "<h2>Data quality</h2>",
        quality,
        f'<p id="dbt-tests">dbt data tests: {_e(tests)}.</p>',
        "<h2>Timings</h2>",
        timings,
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Next steps: night {night}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )
