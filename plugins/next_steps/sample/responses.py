"""Sample export nights in which people take their next step: the other half of the loop.

``generator`` writes a company's history. To see outreach work (cool-down, holdout, lift)
the exports that follow a listing night must show some people taking the step they were
listed for, and some others taking it anyway. ``write_response_night`` writes such a
night: the previous export's account snapshot with the changes the steps make, the new
accounts they bring, and only that night's new orders with their lines: one line each,
the whole order total. A person who was listed with an offer (``offers``, the
``offer_sku`` of their outreach row) and takes a step by ordering buys the offered product
with ``offered_take_rate``; anyone else who orders buys their offer (the one their step
would have carried) only with ``unoffered_take_rate``, and otherwise a product of
``OTHER_PRODUCTS`` other than it, so that people take an offered product more often than
others. Draws are seeded by the seed and the night, so the same arguments always give the
same bytes.

How a person takes each step (seed ``next_step_campaigns``, column ``conversion``):

==========================  ==========================================================
first_purchase,             a completed standard order on the night
second_order, reactivation,
at_risk
autoship                    ``autoship_active`` becomes true, and an autoship order
preferred_customer          the account becomes ``preferred``
referral, first_sale        a new retail account they sponsor, with a first order
first_sponsor               a new distributor they sponsor
build_depth                 enough of their frontline distributors each sponsor a
                            newcomer (``build_depth_sponsoring_fewer_than``)
leadership                  one of their frontline distributors reaches the
                            leadership rank (``leadership_min_rank``)
distributor_reactivation    an order of their own with volume
==========================  ==========================================================
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from next_steps.config import PROJECT_ROOT
from next_steps.ingest.contract import ACCOUNTS, ORDER_LINES, ORDERS, SUCCESS_MARKER


def _ladder_setting(column: str) -> int:
    """A threshold of the seed ``distributor_ladder_settings``, where the ladder reads it."""
    seed = PROJECT_ROOT / "dbt_project" / "seeds" / "distributor_ladder_settings.csv"
    with open(seed, newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    return int(row[column])


LEADERSHIP_RANK = _ladder_setting("leadership_min_rank")
BUILD_DEPTH_SPONSORING = _ladder_setting("build_depth_sponsoring_fewer_than")
#: what people buy in a response order when it is not their offer
OTHER_PRODUCTS = ("SKU-R001", "SKU-R002", "SKU-R003")


@dataclass
class Responses:
    """What a response night did: who took which step (account id -> campaign)."""

    taken: dict[str, str] = field(default_factory=dict)


def _read_accounts(folder: Path) -> list[dict[str, str]]:
    with open(folder / "accounts.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class _Night:
    def __init__(self, accounts: list[dict[str, str]], night: date) -> None:
        self.accounts = {row["account_id"]: row for row in accounts}
        self.night = night
        self.orders: list[dict[str, str]] = []
        self.lines: list[dict[str, str]] = []
        self.new_accounts: list[str] = []
        self.stamp = night.strftime("%Y%m%d")
        self.product = OTHER_PRODUCTS[0]  # of the next order (take() sets it)

    def order(self, account_id: str, order_type: str = "standard") -> None:
        number = len(self.orders) + 1
        moment = f"{self.night.isoformat()}T12:{number // 60 % 60:02d}:{number % 60:02d}Z"
        order_id = f"R{self.stamp}-{number:05d}"
        self.orders.append(
            {
                "order_id": order_id,
                "account_id": account_id,
                "order_date": moment,
                "order_type": order_type,
                "status": "completed",
                "currency": "USD",
                "order_total": "42.50",
                "volume": "30.00",
                "updated_at": moment,
            }
        )
        self.lines.append(
            {
                "order_id": order_id,
                "line_number": "1",
                "sku": self.product,
                "quantity": "1",
                "unit_price": "42.50",
            }
        )

    def newcomer(self, sponsor_id: str, account_type: str) -> str:
        account_id = f"N{self.stamp}-{len(self.new_accounts) + 1:05d}"
        sponsor = self.accounts[sponsor_id]
        self.accounts[account_id] = {
            "account_id": account_id,
            "account_type": account_type,
            "status": "active",
            "enrolled_at": self.night.isoformat(),
            "sponsor_id": sponsor_id,
            "first_name": "Nova",
            "email": f"{account_id.lower()}@example.com",
            "country": sponsor["country"],
            "language": sponsor["language"],
            "email_opt_in": "true",
            "autoship_active": "false",
            "rank": "0" if account_type == "distributor" else "",
        }
        self.new_accounts.append(account_id)
        return account_id

    def frontline_distributors(self, account_id: str) -> list[str]:
        return sorted(
            row["account_id"]
            for row in self.accounts.values()
            if row["sponsor_id"] == account_id
            and row["account_type"] == "distributor"
            and row["account_id"] != account_id
        )

    def take(self, account_id: str, campaign: str) -> bool:
        """Make ``account_id`` take the step of ``campaign``; False when it cannot."""
        account = self.accounts[account_id]
        if campaign in (
            "first_purchase",
            "second_order",
            "reactivation",
            "at_risk",
            "distributor_reactivation",
        ):
            self.order(account_id)
        elif campaign == "autoship":
            account["autoship_active"] = "true"
            self.order(account_id, "autoship")
        elif campaign == "preferred_customer":
            account["account_type"] = "preferred"
        elif campaign in ("referral", "first_sale"):
            self.order(self.newcomer(account_id, "retail"))
        elif campaign == "first_sponsor":
            self.newcomer(account_id, "distributor")
        elif campaign == "build_depth":
            shallow = [
                frontline
                for frontline in self.frontline_distributors(account_id)
                if not any(row["sponsor_id"] == frontline for row in self.accounts.values())
            ]
            if len(shallow) < BUILD_DEPTH_SPONSORING:
                return False
            for frontline in shallow[:BUILD_DEPTH_SPONSORING]:
                self.newcomer(frontline, "retail")
        elif campaign == "leadership":
            rising = [
                frontline
                for frontline in self.frontline_distributors(account_id)
                if int(self.accounts[frontline]["rank"] or 0) < LEADERSHIP_RANK
            ]
            if not rising:
                return False
            self.accounts[rising[0]]["rank"] = str(LEADERSHIP_RANK)
        else:
            raise ValueError(f"unknown campaign {campaign!r}")
        return True

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        with open(folder / "accounts.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ACCOUNTS.column_names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.accounts.values())
        with open(folder / "orders.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ORDERS.column_names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.orders)
        with open(folder / "order_lines.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ORDER_LINES.column_names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.lines)
        (folder / SUCCESS_MARKER).touch()


def write_response_night(
    landing_dir: Path,
    previous_export: date,
    night: date,
    steps: dict[str, str],
    listed: set[str],
    *,
    listed_take_rate: float = 0.5,
    others_take_rate: float = 0.1,
    offers: dict[str, str] | None = None,
    offered_take_rate: float = 0.8,
    unoffered_take_rate: float = 0.1,
    seed: int = 42,
) -> Responses:
    """Write ``<landing>/<night>/`` from the export of ``previous_export``.

    ``steps`` maps every person with a step to its campaign; those in ``listed`` (in an
    outreach file since the previous export) take it with ``listed_take_rate``, everyone
    else with ``others_take_rate`` (people who act without a nudge, the holdout among
    them). ``offers`` maps people to the product their step offers: an order of a
    listed person is of that product with ``offered_take_rate``, anyone else's with
    ``unoffered_take_rate``. Returns who took which step.
    """
    if night <= previous_export:
        raise ValueError(f"night {night} must come after the previous export {previous_export}")
    landing = Path(landing_dir)
    state = _Night(_read_accounts(landing / previous_export.isoformat()), night)
    draw = random.Random(f"{seed}:{night.isoformat()}")
    responses = Responses()
    offers = offers or {}
    for account_id, campaign in sorted(steps.items()):
        is_listed = account_id in listed
        rate = listed_take_rate if is_listed else others_take_rate
        offer = offers.get(account_id)
        others = [sku for sku in OTHER_PRODUCTS if sku != offer]
        # the same draws whether or not the person has an offer
        offer_u, other_index = draw.random(), draw.randrange(len(OTHER_PRODUCTS) - 1)
        buys_offer = offer is not None and offer_u < (
            offered_take_rate if is_listed else unoffered_take_rate
        )
        state.product = offer if buys_offer else others[other_index % len(others)]
        if draw.random() < rate and state.take(account_id, campaign):
            responses.taken[account_id] = campaign
    state.write(landing / night.isoformat())
    return responses
