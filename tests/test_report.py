"""The night's report renders in headless Chromium with every chart and table, needs
nothing from the network, and draws what its figures say.  (That the figures are the
warehouse's is checked on a real night in test_end_to_end.py.)"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By

from next_steps.publish import figures, report

NIGHT = date(2025, 3, 31)


def _data() -> figures.NightFigures:
    segments = [
        {
            "segment": "1",
            "accounts": 40,
            "orders": 40,
            "revenue": Decimal("2000.00"),
            "average_order_value": Decimal("50.00"),
            "revenue_share": 0.2,
        },
        {
            "segment": "2-3",
            "accounts": 30,
            "orders": 75,
            "revenue": Decimal("8000.00"),
            "average_order_value": Decimal("106.67"),
            "revenue_share": 0.8,
        },
        {
            "segment": "lapsed",
            "accounts": 10,
            "orders": 0,
            "revenue": Decimal("0.00"),
            "average_order_value": None,
            "revenue_share": 0.0,
        },
    ]
    return figures.NightFigures(
        night=NIGHT,
        earlier=figures.month_earlier(NIGHT),
        segments=segments,
        earlier_segments={"1": {**segments[0], "accounts": 35, "revenue": Decimal("1500.00")}},
        funnel=[("try", 10), ("buy", 40), ("repeat", 30), ("refer", 5)],
        migration_month=date(2025, 3, 1),
        migration=[("1", "2-3", 7), ("2-3", "lapsed", 2), ("no_purchase", "1", 12)],
        segment_order=["1", "2-3", "lapsed", "no_purchase"],
        campaigns=[
            {"campaign": "autoship", "listed": 9, "holdout": 1, "suppressed": 3},
            {"campaign": "second_order", "listed": 27, "holdout": 3, "suppressed": 0},
        ],
        lift_window_days=30,
        lift=[
            {
                "campaign": "second_order",
                "listing_nights": 2,
                "listed": 50,
                "holdout": 6,
                "listed_converted": 10,
                "holdout_converted": 1,
                "listed_rate": 0.2,
                "holdout_rate": 1 / 6,
                "lift": 0.2 - 1 / 6,
                # Newcombe's interval for 10 of 50 against 1 of 6
                "lift_low": -0.3730,
                "lift_high": 0.2222,
                "too_small": True,
                "significant": False,
                "revenue_lift": 4.5,
                "revenue_lift_low": -1.25,
                "revenue_lift_high": 10.25,
                "incremental_revenue": 225.0,
            },
        ],
        left_out=[("opted_out", 4), ("holdout", 4)],
        files=[
            {
                "file_name": "orders.csv",
                "rows_read": 80,
                "rows_loaded": 79,
                "rows_quarantined": 1,
                "rows_held": 0,
                "rows_flagged": 0,
                "checks_run": 13,
                "checks_failed": 1,
            },
        ],
        tests={"pass": 270, "warn": 1},
        timings=[("validate_export", 6.8), ("build_models", 11.4)],
        model_fits=[
            {
                "model": "bg_nbd",
                "parameter": name,
                "value": value,
                "time_unit": "week" if name == "alpha" else None,
                "customers": 2349,
                "log_likelihood": -9550.1,
                "converged": True,
                "fit_note": None,
            }
            for name, value in (("a", 0.79), ("alpha", 4.42), ("b", 2.42), ("r", 0.24))
        ]
        + [
            {
                "model": "gamma_gamma",
                "parameter": name,
                "value": None,
                "time_unit": None,
                "customers": 3,
                "log_likelihood": None,
                "converged": False,
                "fit_note": "too few customers with a repeat purchase to fit order values: 3",
            }
            for name in ("p", "q", "v")
        ],
        p_alive=[
            {"segment": "1", "accounts": 40, "mean": 1.0, "p10": 1.0, "median": 1.0, "p90": 1.0},
            {"segment": "2-3", "accounts": 30, "mean": 0.8, "p10": 0.45, "median": 0.9, "p90": 1.0},
        ],
        offers=[
            {
                "campaign": "autoship",
                "listed": 9,
                "offered": 9,
                "products": 4,
                "top_product": "SKU-0017",
                "top_product_people": 5,
                "rules": "favourite, most_rebought",
            },
            {
                "campaign": "first_sponsor",
                "listed": 3,
                "offered": 0,
                "products": 0,
                "top_product": None,
                "top_product_people": None,
                "rules": "none",
            },
        ],
        offer_evaluation=[
            {
                "offer_rule": "bought_together",
                "buyers_evaluated": 1200,
                "buyers_with_offer": 800,
                "hit_rate_at_1": 0.05,
                "hit_rate_at_3": 0.12,
                "baseline_hit_rate_at_1": 0.15,
                "baseline_hit_rate_at_3": 0.35,
            },
            {
                "offer_rule": "favourite",
                "buyers_evaluated": 1200,
                "buyers_with_offer": 1150,
                "hit_rate_at_1": 0.3,
                "hit_rate_at_3": 0.44,
                "baseline_hit_rate_at_1": 0.15,
                "baseline_hit_rate_at_3": 0.36,
            },
        ],
    )


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report.render(_data()), encoding="utf-8")
    browser.get(path.as_uri())
    return browser


def _bars(page, chart_id: str) -> list:
    return page.find_elements(By.CSS_SELECTOR, f"#{chart_id} rect")


@pytest.mark.parametrize(
    ("chart_id", "shapes"),
    [
        ("chart-segment-accounts", 3),
        ("chart-segment-revenue", 3),
        ("chart-funnel", 4),
        ("chart-migration", 3),
        ("chart-campaigns", 6),  # listed, holdout, suppressed per campaign
        ("chart-lift", 2),  # listed and holdout
    ],
)
def test_every_chart_is_drawn_with_a_shape_per_figure(page, chart_id, shapes):
    figure = page.find_element(By.ID, chart_id)
    svg = figure.find_element(By.TAG_NAME, "svg")
    assert svg.size["width"] > 200 and svg.size["height"] > 40
    assert figure.find_element(By.TAG_NAME, "figcaption").text
    assert len(_bars(page, chart_id)) == shapes


def test_bars_are_as_long_as_their_values(page):
    bars = _bars(page, "chart-segment-accounts")
    values = [float(bar.get_attribute("data-value")) for bar in bars]
    widths = [float(bar.get_attribute("width")) for bar in bars]
    assert values == [40, 30, 10]
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[1] / widths[0] == pytest.approx(30 / 40, rel=0.01)
    # what the browser drew, not only the attribute
    drawn = [bar.rect["width"] for bar in bars]
    assert drawn[1] / drawn[0] == pytest.approx(30 / 40, rel=0.05)


def test_the_segment_table_shows_the_change_against_a_month_earlier(page):
    row = page.find_element(By.CSS_SELECTOR, 'tr[data-segment="1"]')
    cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
    assert cells[:6] == ["1", "40", "40", "2,000.00", "50.00", "20.0 %"]
    assert cells[6:8] == ["+5", "+500.00"]
    assert "night of 2025-02-28" in page.find_element(By.TAG_NAME, "body").text
    # a segment without a figure a month earlier shows a dash, not zero
    lapsed = page.find_element(By.CSS_SELECTOR, 'tr[data-segment="lapsed"]')
    assert lapsed.find_elements(By.TAG_NAME, "td")[6].text == "–"


def test_the_lift_table_and_the_other_tables_are_there(page):
    lift = page.find_element(By.ID, "lift").text
    assert "second_order" in lift and "20.0 %" in lift and "+3.3 pp" in lift
    assert "-37.3 to +22.2 pp" in lift and "groups too small to read" in lift
    assert "+4.50 (-1.25 to +10.25)" in lift and "225.00" in lift
    reading = page.find_element(By.ID, "lift-reading").text
    assert reading.startswith("No campaign shows a lift whose 95 % interval lies above 0 yet.")
    assert "opted_out" in page.find_element(By.ID, "left-out").text
    assert "orders.csv" in page.find_element(By.ID, "data-quality").text
    assert page.find_element(By.ID, "dbt-tests").text == "dbt data tests: 270 pass, 1 warn."
    assert "build_models" in page.find_element(By.ID, "timings").text


def test_the_purchase_models_show_their_fit_and_say_what_was_skipped(page):
    sentences = [element.text for element in page.find_elements(By.CLASS_NAME, "model-fit")]
    assert sentences == [
        "BG/NBD on 2,349 customers: a 0.79, alpha 4.42 weeks, b 2.42, r 0.24.",
        "Gamma-Gamma not used tonight, predictions skipped: too few customers with a repeat "
        "purchase to fit order values: 3.",
    ]
    fits = page.find_element(By.ID, "model-fits").text
    assert "alpha (weeks)" in fits and "-9,550.1" in fits and "no" in fits
    p_alive = page.find_element(By.ID, "p-alive").text
    assert "2-3 30 0.80 0.45 0.90 1.00" in p_alive


def test_the_offers_show_what_each_campaign_offers_and_how_well_the_rules_predict(page):
    offers = page.find_element(By.ID, "offers").text
    assert "autoship 9 9 4 SKU-0017 (5) favourite, most_rebought" in offers
    assert "first_sponsor 3 0 0 – none" in offers
    assert page.find_element(By.ID, "offer-reading").text == (
        "Checked on the last purchase of 1,200 repeat buyers, hidden from the offers: 1 of 2 "
        "rules name a product they bought among their first three more often than the three "
        "best sellers do (bought_together 12% against 35%; favourite 44% against 36%)."
    )
    evaluation = page.find_element(By.ID, "offer-evaluation").text
    assert "favourite 1,200 1,150 30.0 % 15.0 % 44.0 % 36.0 %" in evaluation


def test_the_page_loads_nothing_from_anywhere(page):
    assert page.execute_script("return performance.getEntriesByType('resource').length") == 0
    source = page.page_source
    assert "<script" not in source and "<link" not in source and "@import" not in source
    assert "http" not in source.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_month_earlier_is_the_same_day_or_the_months_last():
    assert figures.month_earlier(date(2025, 3, 31)) == date(2025, 2, 28)
    assert figures.month_earlier(date(2024, 3, 30)) == date(2024, 2, 29)
    assert figures.month_earlier(date(2025, 1, 15)) == date(2024, 12, 15)


def test_a_lift_is_read_from_its_interval_and_group_sizes():
    from next_steps.publish.figures import describe_lift, lift_reading

    def row(campaign, lift, low, high, too_small=False, significant=None, revenue_low=None):
        return {
            "campaign": campaign,
            "lift": lift,
            "lift_low": low,
            "lift_high": high,
            "too_small": too_small,
            "significant": significant,
            "revenue_lift_low": revenue_low,
            "incremental_revenue": 1234.5,
        }

    rows = [
        row("autoship", 0.10, 0.03, 0.17, significant=True, revenue_low=2.0),
        row("referral", -0.08, -0.15, -0.01, significant=True),
        row("second_order", 0.02, -0.04, 0.08, significant=False),
        row("at_risk", 0.30, 0.01, 0.50, too_small=True, significant=False, revenue_low=9.0),
        row("reactivation", None, None, None),
    ]
    assert [lift_reading(r) for r in rows] == [
        "adds conversions",
        "costs conversions",
        "no clear effect (the interval spans 0)",
        "groups too small to read",
        "not measured (no holdout, or nobody listed)",
    ]
    assert describe_lift(rows) == (
        "Adds conversions beyond its holdout (95 % interval above 0): autoship. "
        "Fewer conversions than its holdout: referral. Earns money (revenue per listed "
        "person above the holdout's, 95 % interval above 0; incremental revenue): "
        "autoship (1,234.50)."
    )


def test_the_programme_lift_is_described_with_its_interval():
    from next_steps.publish.figures import describe_programme

    assert "global control group is off" in describe_programme(None, 30)
    sentence = describe_programme(
        {
            "listing_nights": 3,
            "listed": 1200,
            "control": 64,
            "lift": 0.05,
            "lift_low": 0.01,
            "lift_high": 0.09,
            "too_small": False,
            "significant": True,
            "incremental_revenue": 3456.7,
        },
        30,
    )
    assert sentence == (
        "The whole programme against the global control group, 30-day window, 3 listing "
        "nights: 1,200 listed, 64 in control; lift +5.0 pp (+1.0 to +9.0 pp, significant); "
        "incremental revenue 3,456.70."
    )
