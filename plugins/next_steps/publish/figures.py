"""The night's figures, read once: :func:`gather` reads them from the published
warehouse (``marts.*``, ``ops.load_audit``) and the night's run folder (dbt run results,
step timings). The night's report (:mod:`next_steps.publish.report`) renders them and
the night summary (:func:`next_steps.nightly.night_summary`) prints them, so the two
never count differently.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from next_steps.build.dbt_build import read_run_results, run_results_path
from next_steps.config import Settings
from next_steps.publish.timings import read_timings

JOURNEY_STAGES = ("try", "buy", "repeat", "refer")


def month_earlier(night: date) -> date:
    """The same day a month earlier (the month's last day when it is shorter)."""
    year, month = (night.year, night.month - 1) if night.month > 1 else (night.year - 1, 12)
    return date(year, month, min(night.day, calendar.monthrange(year, month)[1]))


@dataclass
class NightFigures:
    night: date
    earlier: date
    segments: list[dict[str, Any]]
    earlier_segments: dict[str, dict[str, Any]] | None
    funnel: list[tuple[str, int]]
    migration_month: date | None
    migration: list[tuple[str, str, int]]
    segment_order: list[str]
    campaigns: list[dict[str, Any]]
    lift_window_days: int | None
    lift: list[dict[str, Any]]
    left_out: list[tuple[str, int]]
    files: list[dict[str, Any]]
    tests: dict[str, int]
    timings: list[tuple[str, float]]
    #: marts.purchase_model_fits of the night: one row per model parameter
    model_fits: list[dict[str, Any]]
    #: p_alive per segment (customer_predictions): accounts scored, mean, deciles 1, 5, 9
    p_alive: list[dict[str, Any]]
    #: the whole programme against the global control group (marts.programme_lift), at the
    #: shortest window; None while the group is off or no window has closed
    programme: dict[str, Any] | None = None
    #: per campaign, the people listed tonight and what they are offered (issue 17)
    offers: list[dict[str, Any]] = field(default_factory=list)
    #: marts.offer_evaluation of the night: each rule's hit rates beside the best sellers'
    offer_evaluation: list[dict[str, Any]] = field(default_factory=list)


def _rows(connection, query: str, parameters: list) -> list[dict[str, Any]]:
    cursor = connection.execute(query, parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def gather(connection, night: date, settings: Settings) -> NightFigures:
    """Read the night's figures from the warehouse (a read-only connection) and its run
    folder."""
    earlier = month_earlier(night)
    segment_query = (
        "select segment, accounts, orders, revenue, average_order_value, revenue_share "
        "from marts.segment_summary where as_of_date = ? order by segment_sort_order, segment"
    )
    segments = _rows(connection, segment_query, [night])
    earlier_rows = _rows(connection, segment_query, [earlier])
    stage_counts = dict(
        connection.execute(
            "select stage, count(*) from marts.journey_stages where as_of_date = ? group by 1",
            [night],
        ).fetchall()
    )
    month = connection.execute(
        "select max(as_of_month) from marts.segment_migration_monthly where as_of_month <= ?",
        [night],
    ).fetchall()[0][0]
    migration = connection.execute(
        "select from_segment, to_segment, accounts from marts.segment_migration_monthly "
        "where as_of_month = ? order by 1, 2",
        [month],
    ).fetchall()
    campaigns = _rows(
        connection,
        "select campaign, "
        "count(*) filter (where outcome = 'listed') as listed, "
        "count(*) filter (where outcome = 'holdout') as holdout, "
        "count(*) filter (where outcome = 'suppressed') as suppressed "
        "from marts.outreach_log where as_of_date = ? group by campaign order by campaign",
        [night],
    )
    # the shortest conversion window the warehouse measures (dbt var conversion_window_days),
    # pooled over the listing nights up to this one whose window has closed: rates and lift
    # as marts.campaign_lift_to_date computes them (dbt macro conversion_lift)
    (lift_window_days,) = connection.execute(
        "select min(window_days) from marts.campaign_performance"
    ).fetchone()
    lift = _rows(
        connection,
        "select campaign, listing_nights, listed, holdout, listed_converted, "
        "holdout_converted, listed_conversion_rate as listed_rate, "
        "holdout_conversion_rate as holdout_rate, absolute_lift as lift, "
        "absolute_lift_low as lift_low, absolute_lift_high as lift_high, "
        "is_group_too_small as too_small, is_lift_significant as significant, "
        "revenue_lift_per_person as revenue_lift, revenue_lift_low, revenue_lift_high, "
        "incremental_revenue "
        "from marts.campaign_lift_to_date "
        "where window_days = ? and through_listing_date <= ? "
        "qualify row_number() over (partition by campaign order by through_listing_date desc) = 1 "
        "order by campaign",
        [lift_window_days, night],
    )
    programme = _rows(
        connection,
        "select listing_nights, listed, control, absolute_lift as lift, "
        "absolute_lift_low as lift_low, absolute_lift_high as lift_high, "
        "is_group_too_small as too_small, is_lift_significant as significant, "
        "incremental_revenue from marts.programme_lift "
        "where window_days = ? and through_listing_date <= ? "
        "order by through_listing_date desc limit 1",
        [lift_window_days, night],
    )
    left_out = connection.execute(
        "select reason, count(*) from marts.suppression_audit where as_of_date = ? "
        "group by reason order by 2 desc, 1",
        [night],
    ).fetchall()
    files = _rows(
        connection,
        "select file_name, rows_read, rows_loaded, rows_quarantined, rows_held, rows_flagged, "
        "checks_run, checks_failed from ops.load_audit where export_date = ? order by file_name",
        [night],
    )
    model_fits = _rows(
        connection,
        "select model, parameter, value, time_unit, customers, log_likelihood, converged, "
        "fit_note from marts.purchase_model_fits where as_of_date = ? order by model, parameter",
        [night],
    )
    # the view computes only the columns read: p_alive is a closed form, no series
    p_alive = _rows(
        connection,
        "select segments.segment, count(*) as accounts, avg(predictions.p_alive) as mean, "
        "quantile_cont(predictions.p_alive, 0.1) as p10, "
        "quantile_cont(predictions.p_alive, 0.5) as median, "
        "quantile_cont(predictions.p_alive, 0.9) as p90 "
        "from marts.customer_predictions as predictions "
        "inner join marts.customer_segments as segments "
        "on predictions.account_id = segments.account_id "
        "and segments.as_of_date = predictions.as_of_date "
        "where predictions.as_of_date = ? and segments.as_of_date = ? "
        "and predictions.p_alive is not null "
        "group by segments.segment",
        [night, night],
    )
    offers = _rows(
        connection,
        "with listed as ("
        "select log.campaign, steps.offer_sku, steps.offer_rule from marts.outreach_log as log "
        "inner join marts.next_steps as steps on log.as_of_date = steps.as_of_date "
        "and log.account_id = steps.account_id "
        "where log.as_of_date = ? and steps.as_of_date = ? and log.outcome = 'listed'), "
        "top_products as (select campaign, offer_sku, count(*) as people from listed "
        "where offer_sku is not null group by campaign, offer_sku "
        "qualify row_number() over (partition by campaign order by count(*) desc, offer_sku) = 1) "
        "select listed.campaign, count(*) as listed, count(listed.offer_sku) as offered, "
        "count(distinct listed.offer_sku) as products, "
        "any_value(top_products.offer_sku) as top_product, "
        "any_value(top_products.people) as top_product_people, "
        "string_agg(distinct listed.offer_rule, ', ' order by listed.offer_rule) as rules "
        "from listed left join top_products on listed.campaign = top_products.campaign "
        "group by listed.campaign order by listed.campaign",
        [night, night],
    )
    offer_evaluation = _rows(
        connection,
        "select offer_rule, buyers_evaluated, buyers_with_offer, hit_rate_at_1, hit_rate_at_3, "
        "baseline_hit_rate_at_1, baseline_hit_rate_at_3 from marts.offer_evaluation "
        "where as_of_date = ? order by offer_rule",
        [night],
    )
    order = [
        name
        for (name,) in connection.execute(
            "select segment from reference.segment_bands order by sort_order"
        ).fetchall()
    ]
    return NightFigures(
        night=night,
        earlier=earlier,
        segments=segments,
        earlier_segments={row["segment"]: row for row in earlier_rows} or None,
        funnel=[(stage, int(stage_counts.get(stage, 0))) for stage in JOURNEY_STAGES],
        migration_month=month,
        migration=[(a, b, int(n)) for a, b, n in migration],
        segment_order=order,
        campaigns=campaigns,
        lift_window_days=lift_window_days,
        lift=lift,
        left_out=[(reason, int(n)) for reason, n in left_out],
        files=files,
        tests=_dbt_results(run_results_path(settings, night)),
        timings=read_timings(settings, night),
        model_fits=model_fits,
        programme=programme[0] if programme else None,
        offers=offers,
        offer_evaluation=offer_evaluation,
        p_alive=sorted(
            p_alive,
            key=lambda row: order.index(row["segment"]) if row["segment"] in order else len(order),
        ),
    )


MODEL_NAMES = {"bg_nbd": "BG/NBD", "gamma_gamma": "Gamma-Gamma"}


def describe_model_fits(fits: list[dict[str, Any]]) -> list[str]:
    """One sentence per purchase model: its estimates, or why the night has none (and so
    no predictions); the same words in the report and the night summary."""
    if not fits:
        return ["Purchase models: none fitted tonight (no purchase_model_fits rows)."]
    sentences = []
    for model in sorted({fit["model"] for fit in fits}):
        rows = [fit for fit in fits if fit["model"] == model]
        name, customers = MODEL_NAMES.get(model, model), rows[0]["customers"]
        if all(fit["converged"] for fit in rows):
            values = ", ".join(
                f"{fit['parameter']} {fit['value']:.4g}"
                + (f" {fit['time_unit']}s" if fit["time_unit"] else "")
                for fit in rows
            )
            sentences.append(f"{name} on {customers:,} customers: {values}.")
        else:
            note = rows[0]["fit_note"] or "not fitted"
            sentences.append(f"{name} not used tonight, predictions skipped: {note}.")
    return sentences


def describe_offers(evaluation: list[dict[str, Any]]) -> str:
    """In words: which offer rules predicted the hidden last purchase better than offering
    everyone the best sellers (at 3 products), on how many repeat buyers."""
    rated = [row for row in evaluation if row["hit_rate_at_3"] is not None]
    if not rated:
        return "Offers are not evaluated tonight: no repeat buyer with order lines."
    better = [row for row in rated if row["hit_rate_at_3"] > row["baseline_hit_rate_at_3"]]
    parts = [
        f"{row['offer_rule']} {row['hit_rate_at_3']:.0%} against {row['baseline_hit_rate_at_3']:.0%}"
        for row in rated
    ]
    return (
        f"Checked on the last purchase of {rated[0]['buyers_evaluated']:,} repeat buyers, "
        f"hidden from the offers: {len(better)} of {len(rated)} rules name a product they "
        "bought among their first three more often than the three best sellers do ("
        + "; ".join(parts)
        + ")."
    )


def _dbt_results(path: Path) -> dict[str, int]:
    """Data tests of the night's dbt build, by status."""
    if not path.exists():
        return {}
    counts: dict[str, int] = {}
    for result in read_run_results(path)["results"]:
        if result["unique_id"].startswith("test."):
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def lift_reading(row: dict[str, Any]) -> str:
    """What a campaign's pooled lift says, in words: the report's reading of
    ``campaign_lift_to_date`` (its 95 % interval, and whether the groups are large
    enough to read it)."""
    if row.get("lift") is None:
        return "not measured (no holdout, or nobody listed)"
    if row["too_small"]:
        return "groups too small to read"
    if not row["significant"]:
        return "no clear effect (the interval spans 0)"
    return "adds conversions" if row["lift_low"] > 0 else "costs conversions"


def describe_lift(lift: list[dict[str, Any]]) -> str:
    """One sentence: which campaigns add conversions beyond their holdout, with 95 %
    confidence, and which could not be read."""
    adds = [row["campaign"] for row in lift if lift_reading(row) == "adds conversions"]
    costs = [row["campaign"] for row in lift if lift_reading(row) == "costs conversions"]
    earns = [
        f"{row['campaign']} ({row['incremental_revenue']:,.2f})"
        for row in lift
        if not row["too_small"] and (row.get("revenue_lift_low") or 0) > 0
    ]
    parts = [
        "Adds conversions beyond its holdout (95 % interval above 0): " + ", ".join(adds) + "."
        if adds
        else "No campaign shows a lift whose 95 % interval lies above 0 yet."
    ]
    if costs:
        parts.append("Fewer conversions than its holdout: " + ", ".join(costs) + ".")
    parts.append(
        "Earns money (revenue per listed person above the holdout's, 95 % interval above 0; "
        "incremental revenue): " + ", ".join(earns) + "."
        if earns
        else "No campaign has earned money beyond its holdout with 95 % confidence yet."
    )
    return " ".join(parts)


def describe_programme(programme: dict[str, Any] | None, window_days: int | None) -> str:
    """One sentence on the whole programme against the global control group."""
    if programme is None:
        return (
            "No programme lift: the global control group is off (outreach_settings, "
            "global_control_percent) or none of its windows has closed yet."
        )
    if programme["lift"] is None:
        return "No programme lift yet: nobody listed or nobody in the control group."
    verdict = (
        "groups too small to read"
        if programme["too_small"]
        else "significant"
        if programme["significant"]
        else "not significant (the interval spans 0)"
    )
    return (
        f"The whole programme against the global control group, {window_days}-day window, "
        f"{programme['listing_nights']} listing nights: {programme['listed']:,} listed, "
        f"{programme['control']:,} in control; lift {programme['lift'] * 100:+.1f} pp "
        f"({programme['lift_low'] * 100:+.1f} to {programme['lift_high'] * 100:+.1f} pp, "
        f"{verdict}); incremental revenue {programme['incremental_revenue']:,.2f}."
    )
