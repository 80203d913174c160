"""One night at a time between load and publish: the warehouse lease, and what the DAG
makes of each kind of failure (final, a lock to wait for, a retry)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from airflow.sdk.exceptions import AirflowFailException

from next_steps import nightly
from next_steps.airflow.dag_defaults import give_back_warehouse, run_step, warehouse_sensor
from next_steps.build import warehouse_lease
from next_steps.errors import ExportFileError, NightFailed, WarehouseBusy, WarehouseLeaseLost

from conftest import account, order, write_export

D1, D2 = date(2025, 6, 29), date(2025, 6, 30)
HOURS = timedelta(hours=6)


@pytest.fixture
def lease(tmp_path):
    return tmp_path / ".warehouse.duckdb.lease"


def test_a_second_night_waits_until_the_first_has_published(lease):
    warehouse_lease.take(lease, D1, HOURS)
    with pytest.raises(WarehouseBusy, match=f"held by night {D1}"):
        warehouse_lease.take(lease, D2, HOURS)
    warehouse_lease.check(lease, D1)
    with pytest.raises(WarehouseLeaseLost):
        warehouse_lease.check(lease, D2)
    assert warehouse_lease.give_back(lease, D2) is False  # not D2's to give
    assert warehouse_lease.give_back(lease, D1) is True
    warehouse_lease.take(lease, D2, HOURS)
    assert json.loads(lease.read_text())["night"] == D2.isoformat()
    assert oct(lease.stat().st_mode & 0o777) == "0o640"


def test_the_same_night_loading_again_takes_its_lease_over(lease):
    warehouse_lease.take(lease, D1, HOURS)
    warehouse_lease.take(lease, D1, HOURS)
    warehouse_lease.check(lease, D1)


def test_a_lease_left_by_a_stopped_run_fails_the_next_night_with_what_to_do(lease):
    lease.write_text(
        json.dumps(
            {"night": D1.isoformat(), "taken_at": (datetime.now(UTC) - 2 * HOURS).isoformat()}
        )
    )
    with pytest.raises(NightFailed, match=f"Re-run night {D1} from load_warehouse.*delete"):
        warehouse_lease.take(lease, D2, HOURS)


def test_steps_between_load_and_publish_hold_the_lease(settings):
    for night in (D1, D2):
        write_export(
            settings.export_folder(night),
            [account("A1")],
            [order("O1", "A1", "2025-06-01 10:00:00")],
        )
        nightly.find_export(night, settings)
        nightly.validate_export(night, settings)
    nightly.load_export(D1, settings)
    with pytest.raises(WarehouseBusy):
        nightly.load_export(D2, settings)
    with pytest.raises(WarehouseLeaseLost):
        nightly.build_models(D2, settings)
    with pytest.raises(WarehouseLeaseLost):
        nightly.write_outreach_files(D2, "run-d2", settings)
    with pytest.raises(WarehouseLeaseLost):
        nightly.publish_night(D2, settings)
    assert nightly.give_back_warehouse(D1, settings)  # as publish_night does
    assert not settings.warehouse_lease.exists()
    nightly.load_export(D2, settings)  # D1 is done: D2 may load now


def test_a_night_that_failed_for_good_gives_the_warehouse_back(settings):
    warehouse_lease.take(settings.warehouse_lease, D1, HOURS)
    give_back_warehouse({"ds": D2.isoformat()})
    assert settings.warehouse_lease.exists()  # D2's failure does not free D1's lease
    give_back_warehouse({"ds": D1.isoformat()})
    assert not settings.warehouse_lease.exists()


def test_the_sensor_pokes_until_its_night_holds_the_warehouse(settings):
    warehouse_lease.take(settings.warehouse_lease, D1, HOURS)
    assert nightly.take_warehouse(D2, settings) is False
    assert nightly.take_warehouse(D1, settings) is True  # its own lease: taken over
    nightly.give_back_warehouse(D1, settings)
    assert nightly.take_warehouse(D2, settings) is True


def test_the_sensor_waits_in_poke_mode_out_of_the_pool(monkeypatch):
    monkeypatch.setenv("NEXT_STEPS_WAREHOUSE_WAIT_SECONDS", "10")
    monkeypatch.setenv("NEXT_STEPS_WAREHOUSE_LEASE_HOURS", "2")
    # waiting is bounded by the lease, not by NEXT_STEPS_TASK_TIMEOUT_MINUTES
    assert warehouse_sensor() == {
        "mode": "poke",
        "poke_interval": 10.0,
        "execution_timeout": None,
        "timeout": 9000.0,
    }


def _raise(exc):
    raise exc


def test_bad_input_is_final_anything_else_is_retried():
    assert run_step(lambda night: night, D1) == D1
    with pytest.raises(AirflowFailException, match="wrong columns"):
        run_step(_raise, ExportFileError("orders.csv: wrong columns"))
    # DuckDB's lock on a file, a full disk, a destination that does not answer, a night
    # holding the warehouse past the sensor: Airflow retries them (they go through as is)
    with pytest.raises(OSError, match="Could not set lock"):
        run_step(_raise, OSError("Could not set lock on file"))
    with pytest.raises(WarehouseBusy):
        run_step(_raise, WarehouseBusy("held by night 2025-06-29"))
