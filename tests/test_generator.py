"""The sample-export generator writes exports that follow the nightly export contract."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from next_steps.sample import generator
from next_steps.sample import orders as order_module
from next_steps.sample.generator import generate_export, generate_nights, main

EXPORT_DATE = date(2025, 3, 4)
FILES = ("accounts.csv", "orders.csv", "order_lines.csv")
ACCOUNT_COLUMNS = [
    "account_id",
    "account_type",
    "status",
    "enrolled_at",
    "sponsor_id",
    "first_name",
    "email",
    "country",
    "language",
    "email_opt_in",
    "autoship_active",
    "rank",
]
ORDER_COLUMNS = [
    "order_id",
    "account_id",
    "order_date",
    "order_type",
    "status",
    "currency",
    "order_total",
    "volume",
    "updated_at",
]
LINE_COLUMNS = ["order_id", "line_number", "sku", "quantity", "unit_price"]
CURRENCY_OF = {
    "US": "USD",
    "CA": "CAD",
    "GB": "GBP",
    "PL": "PLN",
    "DE": "EUR",
    "FR": "EUR",
    "RU": "RUB",
    "MX": "MXN",
}


def read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.exists():
        path = folder / f"{name}.gz"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    accounts, orders, lines = (read(folder, f) for f in FILES)
    orders["order_ts"] = pd.to_datetime(orders["order_date"], format="%Y-%m-%dT%H:%M:%SZ")
    orders["updated_ts"] = pd.to_datetime(orders["updated_at"], format="%Y-%m-%dT%H:%M:%SZ")
    orders["total"] = orders["order_total"].astype(float)
    return accounts, orders, lines


def latest_versions(orders: pd.DataFrame) -> pd.DataFrame:
    return orders.sort_values("updated_ts", kind="stable").groupby("order_id").tail(1)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict:
    landing = tmp_path_factory.mktemp("landing")
    stats = generate_export(landing, EXPORT_DATE, orders=20_000, seed=7)
    folder = landing / EXPORT_DATE.isoformat()
    accounts, orders, lines = load(folder)
    return {
        "landing": landing,
        "folder": folder,
        "stats": stats,
        "accounts": accounts,
        "orders": orders,
        "lines": lines,
    }


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict:
    landing = tmp_path_factory.mktemp("nights")
    stats = generate_nights(landing, EXPORT_DATE, nights=5, orders=20_000, seed=11)
    days = [EXPORT_DATE + timedelta(days=i) for i in range(5)]
    return {
        "landing": landing,
        "stats": stats,
        "days": days,
        "data": [load(landing / d.isoformat()) for d in days],
    }


# --- files ------------------------------------------------------------------------------


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    generate_export(tmp_path / "a", EXPORT_DATE, orders=3_000, seed=5)
    generate_export(tmp_path / "b", EXPORT_DATE, orders=3_000, seed=5)
    generate_export(tmp_path / "c", EXPORT_DATE, orders=3_000, seed=6)
    for name in FILES:
        first = (tmp_path / "a" / EXPORT_DATE.isoformat() / name).read_bytes()
        assert first == (tmp_path / "b" / EXPORT_DATE.isoformat() / name).read_bytes()
        assert first != (tmp_path / "c" / EXPORT_DATE.isoformat() / name).read_bytes()


def test_files_start_with_the_exact_contract_headers(export: dict) -> None:
    for name, columns in zip(FILES, (ACCOUNT_COLUMNS, ORDER_COLUMNS, LINE_COLUMNS)):
        with open(export["folder"] / name, "rb") as fh:
            assert fh.readline() == (",".join(columns) + "\n").encode()


def test_files_are_exactly_what_the_csv_module_writes(export: dict) -> None:
    for name in FILES:
        raw = (export["folder"] / name).read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
        assert out.getvalue().encode("utf-8") == raw
        assert len({len(r) for r in rows}) == 1


def test_success_marker_is_empty_and_the_newest_file(export: dict) -> None:
    marker = export["folder"] / "_SUCCESS"
    assert marker.stat().st_size == 0
    assert sorted(p.name for p in export["folder"].iterdir()) == [
        "_SUCCESS",
        *sorted(FILES),
    ]
    for name in FILES:
        assert marker.stat().st_mtime_ns >= (export["folder"] / name).stat().st_mtime_ns


def test_rerun_replaces_the_folder_contents_including_the_other_format(
    tmp_path: Path,
) -> None:
    generate_export(tmp_path, EXPORT_DATE, orders=1_000)
    folder = tmp_path / EXPORT_DATE.isoformat()
    generate_export(tmp_path, EXPORT_DATE, orders=1_000, gzip=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        "_SUCCESS",
        *sorted(f + ".gz" for f in FILES),
    ]


def test_failed_export_leaves_no_success_marker_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_export(tmp_path, EXPORT_DATE, orders=1_000)
    folder = tmp_path / EXPORT_DATE.isoformat()

    def broken(*args: object) -> bytes:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(order_module, "_render_lines", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate_export(tmp_path, EXPORT_DATE, orders=1_000)
    assert not (folder / "_SUCCESS").exists()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_gzip_export_holds_the_same_rows_and_is_deterministic(tmp_path: Path) -> None:
    generate_export(tmp_path / "plain", EXPORT_DATE, orders=2_000)
    generate_export(tmp_path / "gz1", EXPORT_DATE, orders=2_000, gzip=True)
    generate_export(tmp_path / "gz2", EXPORT_DATE, orders=2_000, gzip=True)
    for name in FILES:
        plain = (tmp_path / "plain" / EXPORT_DATE.isoformat() / name).read_bytes()
        packed = (tmp_path / "gz1" / EXPORT_DATE.isoformat() / f"{name}.gz").read_bytes()
        assert gzip.decompress(packed) == plain
        assert packed == (tmp_path / "gz2" / EXPORT_DATE.isoformat() / f"{name}.gz").read_bytes()
    accounts, orders, _ = load(tmp_path / "gz1" / EXPORT_DATE.isoformat())
    assert list(accounts.columns) == ACCOUNT_COLUMNS
    assert len(orders) > 0


def test_stats_count_what_was_written(export: dict) -> None:
    stats, orders = export["stats"], export["orders"]
    assert stats["accounts"] == len(export["accounts"]) == 2_000
    assert stats["order_rows"] == len(orders)
    assert stats["distinct_orders"] == orders["order_id"].nunique()
    assert stats["line_rows"] == len(export["lines"])
    assert stats["export_date"] == EXPORT_DATE.isoformat()


def test_order_row_count_is_close_to_the_requested_size(export: dict) -> None:
    assert abs(len(export["orders"]) - 20_000) <= 20_000 * 0.03


def test_default_account_count_is_a_tenth_of_the_orders_but_at_least_50(
    tmp_path: Path,
) -> None:
    assert generate_export(tmp_path / "a", EXPORT_DATE, orders=100)["accounts"] == 50
    assert generate_export(tmp_path / "b", EXPORT_DATE, orders=1_000, accounts=70)["accounts"] == 70


def test_zero_orders_writes_header_only_order_files(tmp_path: Path) -> None:
    stats = generate_export(tmp_path, EXPORT_DATE, orders=0)
    folder = tmp_path / EXPORT_DATE.isoformat()
    assert stats["order_rows"] == 0 and stats["accounts"] == 50
    assert (folder / "orders.csv").read_text() == ",".join(ORDER_COLUMNS) + "\n"


def test_invalid_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_export(tmp_path, EXPORT_DATE, orders=-1)
    with pytest.raises(ValueError):
        generate_export(tmp_path, EXPORT_DATE, orders=10, accounts=0)
    with pytest.raises(ValueError):
        generate_nights(tmp_path, EXPORT_DATE, nights=0, orders=10)


# --- accounts ---------------------------------------------------------------------------


def test_account_ids_are_unique_and_numbered(export: dict) -> None:
    ids = export["accounts"]["account_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(r"A\d{7}").all()


def test_every_sponsor_appears_earlier_in_the_file_and_is_a_distributor(
    export: dict,
) -> None:
    accounts = export["accounts"]
    position = {a: i for i, a in enumerate(accounts["account_id"])}
    kind = dict(zip(accounts["account_id"], accounts["account_type"]))
    enrolled = dict(zip(accounts["account_id"], accounts["enrolled_at"]))
    sponsored = accounts[accounts["sponsor_id"] != ""]
    for i, row in sponsored.iterrows():
        assert position[row["sponsor_id"]] < i
        assert kind[row["sponsor_id"]] == "distributor"
        assert enrolled[row["sponsor_id"]] <= row["enrolled_at"]
    company = (accounts["sponsor_id"] == "").mean()
    assert 0 < company < 0.06


def test_sponsor_tree_is_several_levels_deep_with_wide_and_empty_frontlines(
    export: dict,
) -> None:
    accounts = export["accounts"]
    depth: dict[str, int] = {}
    for account, sponsor in zip(accounts["account_id"], accounts["sponsor_id"]):
        depth[account] = 0 if sponsor == "" else depth[sponsor] + 1
    assert max(depth.values()) >= 5
    distributors = accounts[accounts["account_type"] == "distributor"]
    frontline = accounts[accounts["account_type"] == "distributor"].groupby("sponsor_id").size()
    assert (frontline >= 5).any()
    recruits = accounts.groupby("sponsor_id").size()
    assert (~distributors["account_id"].isin(recruits.index)).mean() > 0.2
    # distributors recruit distributors who recruit distributors
    sponsor_of = dict(zip(accounts["account_id"], accounts["sponsor_id"]))
    chain = [a for a in distributors["account_id"] if depth[a] >= 3]
    assert chain and all(
        accounts.set_index("account_id").loc[sponsor_of[a], "account_type"] == "distributor"
        for a in chain
    )


def test_account_shares_look_like_a_direct_selling_company(export: dict) -> None:
    a = export["accounts"]
    types = a["account_type"].value_counts(normalize=True)
    assert set(types.index) == {"retail", "preferred", "distributor"}
    assert 0.58 < types["retail"] < 0.72 and 0.12 < types["preferred"] < 0.22
    assert 0.13 < types["distributor"] < 0.23
    status = a["status"].value_counts(normalize=True)
    assert set(status.index) == {"active", "inactive", "terminated"}
    assert (
        status["active"] > 0.8
        and 0.05 < status["inactive"] < 0.15
        and 0.003 < status["terminated"] < 0.04
    )
    autoship = a.groupby("account_type")["autoship_active"].apply(lambda s: (s == "true").mean())
    assert 0.25 < autoship["preferred"] < 0.45
    assert 0.17 < autoship["distributor"] < 0.33
    assert 0.04 < autoship["retail"] < 0.12
    assert set(a["email_opt_in"]) == set(a["autoship_active"]) == {"true", "false"}
    assert 0.1 < (a["email_opt_in"] == "false").mean() < 0.2


def test_rank_is_empty_for_customers_and_mostly_low_for_distributors(
    export: dict,
) -> None:
    a = export["accounts"]
    assert (a.loc[a["account_type"] != "distributor", "rank"] == "").all()
    ranks = a.loc[a["account_type"] == "distributor", "rank"].astype(int)
    assert ranks.between(0, 8).all()
    assert (ranks <= 2).mean() > 0.6
    assert 0 < (ranks >= 5).mean() < 0.15


def test_enrolments_spread_over_about_three_years_and_never_after_the_export(
    export: dict,
) -> None:
    enrolled = pd.to_datetime(export["accounts"]["enrolled_at"], format="%Y-%m-%d")
    assert enrolled.max() <= pd.Timestamp(EXPORT_DATE)
    assert enrolled.min() < pd.Timestamp(EXPORT_DATE) - pd.DateOffset(months=30)
    assert enrolled.min() >= pd.Timestamp(EXPORT_DATE) - pd.DateOffset(years=3)


def test_countries_languages_and_names_come_in_matching_pairs(export: dict) -> None:
    a = export["accounts"]
    allowed = {
        "US": {"en", "es"},
        "CA": {"en", "fr"},
        "GB": {"en"},
        "PL": {"pl"},
        "DE": {"de"},
        "FR": {"fr"},
        "RU": {"ru"},
        "MX": {"es"},
    }
    for country, language in zip(a["country"], a["language"]):
        assert language in allowed[country]
    assert 0 < (a["first_name"] == "").mean() < 0.1
    assert a.loc[a["language"] == "ru", "first_name"].str.contains("[А-Яа-я]").any()


def test_emails_use_only_example_domains_and_some_are_empty_or_broken(
    export: dict,
) -> None:
    email = export["accounts"]["email"]
    present = email[email != ""]
    valid = present.str.fullmatch(r"[a-z]+\.\d+@example\.(com|org|net)")
    assert 0.01 < (email == "").mean() < 0.06
    assert 0.005 < (~valid).sum() / len(email) < 0.04
    domains = present.str.extract(r"@+(.*)$")[0].dropna()
    assert set(domains) <= {"example.com", "example.org", "example.net", "example", ""}


# --- orders -----------------------------------------------------------------------------


def test_nothing_is_dated_after_the_export_date(export: dict) -> None:
    end = pd.Timestamp(EXPORT_DATE) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    orders = export["orders"]
    assert orders["order_ts"].max() <= end and orders["updated_ts"].max() <= end
    assert orders["order_date"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    assert orders["updated_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()


def test_history_covers_more_than_two_years(export: dict) -> None:
    first = export["orders"]["order_ts"].min()
    assert first < pd.Timestamp(EXPORT_DATE) - pd.DateOffset(months=27)
    assert first >= pd.Timestamp(EXPORT_DATE) - pd.DateOffset(months=31)


def test_every_order_belongs_to_an_existing_account_enrolled_by_the_order_date(
    export: dict,
) -> None:
    orders = export["orders"]
    enrolled = pd.to_datetime(export["accounts"].set_index("account_id")["enrolled_at"])
    assert orders["account_id"].isin(enrolled.index).all()
    assert (
        orders["order_ts"].dt.normalize() >= enrolled.loc[orders["account_id"]].to_numpy()
    ).all()


def test_updated_at_is_never_before_the_order_date(export: dict) -> None:
    orders = export["orders"]
    assert (orders["updated_ts"] >= orders["order_ts"]).all()


def test_order_fields_hold_only_allowed_values(export: dict) -> None:
    orders = export["orders"]
    assert orders["order_id"].str.fullmatch(r"O\d{9}").all()
    assert set(orders["order_type"]) == {"standard", "autoship"}
    assert set(orders["status"]) == {"completed", "cancelled", "returned"}
    assert orders["order_total"].str.fullmatch(r"\d+\.\d\d").all()
    assert orders["volume"].str.fullmatch(r"\d+\.\d\d").all()
    country = export["accounts"].set_index("account_id")["country"]
    assert (
        orders["currency"] == country.loc[orders["account_id"]].map(CURRENCY_OF).to_numpy()
    ).all()


def test_status_shares_and_free_samples(export: dict) -> None:
    latest = latest_versions(export["orders"])
    status = latest["status"].value_counts(normalize=True)
    assert status["completed"] > 0.88
    assert 0.03 < status["cancelled"] < 0.07 and 0.015 < status["returned"] < 0.045
    free = latest["total"] == 0
    assert 0.001 < free.mean() < 0.01
    assert (latest.loc[free, "status"] == "completed").all()


def test_order_totals_are_plausible_for_their_currency(export: dict) -> None:
    paid = export["orders"][export["orders"]["total"] > 0]
    medians = paid.groupby("currency")["total"].median()
    assert 40 < medians["USD"] < 200
    assert 2_000 < medians["RUB"] < 20_000
    assert medians["PLN"] > medians["USD"] > medians["GBP"]


def test_reexported_orders_come_back_later_as_returned_or_cancelled(
    export: dict,
) -> None:
    orders = export["orders"].reset_index(drop=True)
    repeated = orders[orders["order_id"].duplicated(keep=False)]
    assert 0.01 < repeated["order_id"].nunique() / orders["order_id"].nunique() < 0.03
    for _, versions in repeated.groupby("order_id"):
        assert len(versions) == 2
        first, second = versions.iloc[0], versions.iloc[1]
        assert first.name < second.name
        assert first["status"] == "completed"
        assert second["status"] in {"returned", "cancelled"}
        assert second["updated_ts"] > first["updated_ts"]
        assert (
            first["order_date"] == second["order_date"]
            and first["order_total"] == second["order_total"]
        )


def test_autoship_accounts_get_monthly_autoship_orders(export: dict) -> None:
    orders, accounts = export["orders"], export["accounts"]
    autoship = latest_versions(orders)
    autoship = autoship[autoship["order_type"] == "autoship"]
    running = set(accounts.loc[accounts["autoship_active"] == "true", "account_id"])
    assert set(autoship["account_id"]) <= running
    months = autoship.groupby("account_id")["order_ts"].agg(lambda s: s.dt.to_period("M").is_unique)
    assert months.all()
    assert (autoship.groupby("account_id").size() >= 12).sum() > 50


def test_purchase_frequency_has_every_band_with_one_purchase_the_largest(
    export: dict,
) -> None:
    orders, accounts = export["orders"], export["accounts"]
    latest = latest_versions(orders)
    purchases = latest[(latest["status"] == "completed") & (latest["total"] > 0)]
    window_start = pd.Timestamp(EXPORT_DATE) + pd.Timedelta(days=1) - pd.DateOffset(months=12)
    recent = purchases[purchases["order_ts"] >= window_start].groupby("account_id").size()
    bands = pd.cut(
        recent,
        [0, 1, 3, 6, 10, float("inf")],
        labels=["1", "2-3", "4-6", "7-10", "11+"],
    )
    counts = bands.value_counts()
    assert (counts > 0).all()
    assert counts.idxmax() == "1"
    ever = set(purchases["account_id"])
    lapsed = ever - set(recent.index)
    never = set(accounts["account_id"]) - ever
    assert len(lapsed) > 0.15 * len(ever)
    assert 0.08 < len(never) / len(accounts) < 0.25
    # many buyers buy exactly once in their whole history
    assert (purchases.groupby("account_id").size() == 1).mean() > 0.25


def test_every_order_has_one_to_four_numbered_lines(export: dict) -> None:
    lines, orders = export["lines"], export["orders"]
    assert set(lines["order_id"]) == set(orders["order_id"])
    per_order = lines.groupby("order_id")["line_number"].agg(list)
    assert per_order.map(
        lambda n: [int(x) for x in n] == list(range(1, len(n) + 1)) and 1 <= len(n) <= 4
    ).all()
    assert lines["sku"].str.fullmatch(r"SKU-\d{4}").all()
    assert (lines["quantity"].astype(int) > 0).all()
    assert lines["unit_price"].str.fullmatch(r"\d+\.\d\d").all()
    assert lines["sku"].nunique() <= 50


def test_many_orders_per_account_are_produced_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in (order_module, generator):  # the modules that slice orders
        monkeypatch.setattr(module, "SLICE_ORDERS", 500)
    monkeypatch.setattr(order_module, "CHUNK_ACCOUNTS", 7)
    stats = generate_export(tmp_path, EXPORT_DATE, orders=8_000, accounts=20)
    accounts, orders, lines = load(tmp_path / EXPORT_DATE.isoformat())
    assert stats["order_rows"] == len(orders) and abs(len(orders) - 8_000) < 800
    assert stats["distinct_orders"] == orders["order_id"].nunique()
    assert not orders.duplicated(["order_id", "status"]).any()
    assert set(lines["order_id"]) == set(orders["order_id"])
    assert orders["account_id"].isin(accounts["account_id"]).all()


# --- delta nights -----------------------------------------------------------------------


def test_first_night_is_the_same_as_a_single_full_export(nights: dict, tmp_path: Path) -> None:
    generate_export(tmp_path, EXPORT_DATE, orders=20_000, seed=11)
    for name in FILES:
        assert (nights["landing"] / EXPORT_DATE.isoformat() / name).read_bytes() == (
            tmp_path / EXPORT_DATE.isoformat() / name
        ).read_bytes()


def test_every_night_is_complete_and_counted(nights: dict) -> None:
    for day, stats, (accounts, orders, lines) in zip(
        nights["days"], nights["stats"], nights["data"]
    ):
        assert (nights["landing"] / day.isoformat() / "_SUCCESS").exists()
        assert stats["export_date"] == day.isoformat()
        assert stats["accounts"] == len(accounts) and stats["order_rows"] == len(orders)
        assert stats["line_rows"] == len(lines)
        assert orders["account_id"].isin(accounts["account_id"]).all()


def test_delta_nights_only_contain_orders_created_or_changed_that_day(
    nights: dict,
) -> None:
    seen = set(nights["data"][0][1]["order_id"])
    changed = 0
    for day, (_, orders, lines) in zip(nights["days"][1:], nights["data"][1:]):
        assert len(orders) > 0
        assert (orders["updated_ts"].dt.date == day).all()
        new = orders["order_ts"].dt.date == day
        assert orders.loc[~new, "order_id"].isin(seen).all()
        assert not orders.loc[new, "order_id"].isin(seen).any()
        assert set(orders.loc[~new, "status"]) <= {"returned", "cancelled"}
        assert set(lines["order_id"]) == set(orders.loc[new, "order_id"])
        changed += int((~new).sum())
        seen |= set(orders["order_id"])
    assert changed > 0


def test_changed_orders_keep_their_order_fields_with_a_later_update(
    nights: dict,
) -> None:
    history = pd.concat([data[1] for data in nights["data"]], ignore_index=True)
    changed = history[history["order_id"].duplicated(keep=False)]
    assert changed["order_id"].nunique() > 0
    for _, v in changed.groupby("order_id"):
        # in export order, every version is newer than the one before
        assert v["updated_ts"].is_monotonic_increasing and v["updated_ts"].is_unique
        assert v["status"].iloc[0] == "completed"
        assert set(v["status"].iloc[1:]) <= {"returned", "cancelled"}
        assert (
            v["order_date"].nunique()
            == v["order_total"].nunique()
            == v["account_id"].nunique()
            == 1
        )


def test_delta_nights_keep_every_account_and_add_that_days_enrolments(
    nights: dict,
) -> None:
    previous = nights["data"][0][0]
    for day, (accounts, _, _) in zip(nights["days"][1:], nights["data"][1:]):
        assert list(accounts["account_id"][: len(previous)]) == list(previous["account_id"])
        fixed = [
            "account_id",
            "enrolled_at",
            "sponsor_id",
            "first_name",
            "email",
            "country",
            "language",
        ]
        assert accounts[fixed][: len(previous)].equals(previous[fixed])
        new = accounts[len(previous) :]
        assert len(new) >= 1 and (new["enrolled_at"] == day.isoformat()).all()
        kind = dict(zip(accounts["account_id"], accounts["account_type"]))
        assert all(kind[s] == "distributor" for s in new["sponsor_id"] if s)
        previous = accounts


def test_delta_nights_change_a_few_accounts(nights: dict) -> None:
    first, last = nights["data"][0][0], nights["data"][-1][0]
    mutable = ["account_type", "status", "email_opt_in", "autoship_active", "rank"]
    before = first.set_index("account_id")[mutable]
    after = last.set_index("account_id").loc[before.index, mutable]
    changed = (before != after).any(axis=1)
    assert 0 < changed.sum() < 0.05 * len(before)
    opted_out = (before["email_opt_in"] == "true") & (after["email_opt_in"] == "false")
    assert opted_out.any()
    assert ((before["email_opt_in"] == "false") & (after["email_opt_in"] == "true")).sum() == 0


def test_nights_are_deterministic(nights: dict, tmp_path: Path) -> None:
    generate_nights(tmp_path, EXPORT_DATE, nights=5, orders=20_000, seed=11)
    for day in nights["days"][1:]:
        for name in FILES:
            assert (tmp_path / day.isoformat() / name).read_bytes() == (
                nights["landing"] / day.isoformat() / name
            ).read_bytes()


def test_steady_nights_hold_the_active_and_autoship_accounts(tmp_path: Path) -> None:
    """--steady (the year bench): as many active accounts lapse as enrol, so every night
    has as many as night 1, and never more on autoship; without it both grow."""
    days = [EXPORT_DATE + timedelta(days=i) for i in range(0, 31, 10)]

    def counts(landing: Path) -> list[tuple[int, int, int]]:
        rows = []
        for day in days:
            accounts = pd.read_csv(landing / day.isoformat() / "accounts.csv", dtype=str)
            active = accounts["status"] == "active"
            autoship = active & (accounts["autoship_active"] == "true")
            rows.append((len(accounts), int(active.sum()), int(autoship.sum())))
        return rows

    generate_nights(
        tmp_path / "steady", EXPORT_DATE, nights=31, orders=20_000, seed=11, steady=True
    )
    generate_nights(tmp_path / "growing", EXPORT_DATE, nights=31, orders=20_000, seed=11)
    steady, growing = counts(tmp_path / "steady"), counts(tmp_path / "growing")
    assert steady[0] == growing[0]  # night 1 is the same history
    assert [n for n, _, _ in steady] == [n for n, _, _ in growing]  # the same enrolments
    assert steady[-1][0] > steady[0][0] + 20
    assert all(active == steady[0][1] for _, active, _ in steady)
    assert all(autoship <= steady[0][2] for _, _, autoship in steady)
    assert growing[-1][1] > growing[0][1] + 20 and growing[-1][2] > growing[0][2]


# --- command line -----------------------------------------------------------------------


def test_command_line_writes_an_export_and_prints_one_line_of_stats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "--landing",
                str(tmp_path),
                "--date",
                "2025-03-04",
                "--orders",
                "1000",
                "--seed",
                "3",
                "--accounts",
                "80",
                "--gzip",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("2025-03-04: 80 accounts,")
    assert (tmp_path / "2025-03-04" / "orders.csv.gz").exists()
    assert (tmp_path / "2025-03-04" / "_SUCCESS").exists()


def test_command_line_with_nights_prints_one_line_per_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "--landing",
            str(tmp_path),
            "--date",
            "2025-03-04",
            "--orders",
            "500",
            "--nights",
            "3",
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert [line[:10] for line in out] == ["2025-03-04", "2025-03-05", "2025-03-06"]


def test_command_line_rejects_a_bad_date(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--landing", str(tmp_path), "--date", "2025-13-01", "--orders", "10"])
    assert exit_info.value.code == 2
