"""The business rules as the dbt project holds them, for the tests that recompute a
night independently: they keep their own arithmetic (plain Python, no SQL) but read the
bands, the ladder and the thresholds from the seeds and ``dbt_project.yml``, so a rule
is edited in one place and these tests follow it."""

from __future__ import annotations

import calendar
import csv
from datetime import date
from functools import cache
from pathlib import Path

from next_steps.config import dbt_var_default

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"


@cache
def seed(name: str) -> tuple[dict[str, str], ...]:
    """The rows of ``seeds/<name>.csv``, as text."""
    with open(DBT_PROJECT / "seeds" / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def setting(seed_name: str, column: str) -> int:
    """A whole-number threshold of a one-row settings seed."""
    (row,) = seed(seed_name)
    return int(row[column])


def project_var(name: str):
    """The default of a dbt var (the ``vars:`` of ``dbt_project.yml``)."""
    return dbt_var_default(DBT_PROJECT, name)


def months_before(night: date, months: int) -> date:
    """``night - interval 'months' month`` as DuckDB computes it (the day is clamped to
    the end of a shorter month)."""
    month_index = night.year * 12 + night.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(night.day, calendar.monthrange(year, month)[1]))


def segment_of(purchases_in_window: int, purchased_before: bool) -> str:
    """The segment of an account with this many purchases in the purchase window
    (``purchased_before``: at least one purchase before the window), read from the
    ``segment_bands`` seed."""
    if purchases_in_window:
        history = "in_window"
    else:
        history = "before_window" if purchased_before else "never"
    (segment,) = [
        band["segment"]
        for band in seed("segment_bands")
        if band["purchase_history"] == history
        and (not band["min_purchases"] or purchases_in_window >= int(band["min_purchases"]))
        and (not band["max_purchases"] or purchases_in_window <= int(band["max_purchases"]))
    ]
    return segment


def customer_step(
    segment: str,
    account_type: str,
    autoship_active: str,
    p_alive: float | None = None,
    days_since_enrolment: int | None = None,
) -> str | None:
    """The customer ladder of the ``customer_next_step_rules`` seed: the matching rule
    with the lowest priority wins; an unknown autoship flag counts as no autoship; a rule
    on ``p_alive`` needs a prediction (``None``: no purchase or no usable fit), one on the
    enrolment an enrolment date."""
    autoship = "true" if autoship_active == "true" else "false"
    (history,) = {
        band["purchase_history"] for band in seed("segment_bands") if band["segment"] == segment
    }
    for rule in sorted(seed("customer_next_step_rules"), key=lambda rule: int(rule["priority"])):
        if (
            rule["segment"] in ("", segment)
            and rule["account_type_equals"] in ("", account_type)
            and rule["account_type_not_equals"] != account_type
            and rule["autoship_active_equals"] in ("", autoship)
            and rule["purchase_history_equals"] in ("", history)
            and (
                not rule["p_alive_below"]
                or (p_alive is not None and p_alive < float(rule["p_alive_below"]))
            )
            and (
                not rule["enrolled_within_days"]
                or (
                    days_since_enrolment is not None
                    and days_since_enrolment <= int(rule["enrolled_within_days"])
                )
            )
        ):
            return rule["next_step"]
    return None
