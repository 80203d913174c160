"""A published night's outreach folder is delivered whole to an fsspec destination."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import fsspec
import pytest
from test_outreach import LISTS, NIGHT

from next_steps.errors import NightFailed
from next_steps.publish import outreach
from next_steps.publish.delivery import deliver_night, nights_to_deliver


@pytest.fixture
def published(settings):
    outreach.publish_night(
        LISTS, settings.outreach_dir, NIGHT, "run-1", settings.export_folder(NIGHT)
    )
    return settings.outreach_folder(NIGHT)


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_night_lands_in_a_local_folder_byte_for_byte(settings, published, tmp_path):
    result = deliver_night(NIGHT, settings, destination=str(tmp_path / "delivered"))
    assert _files(tmp_path / "delivered" / "2025-06-30") == _files(published)
    assert result == {
        "destination": f"{tmp_path / 'delivered'}/2025-06-30",
        "files": 2,
        "rows": 3,
    }


def test_the_default_destination_is_the_delivered_folder_under_the_data_dir(settings, published):
    deliver_night(NIGHT, settings)
    assert _files(settings.data_dir / "delivered" / "2025-06-30") == _files(published)


def test_success_is_written_last_and_a_new_delivery_replaces_the_old(
    settings, published, monkeypatch
):
    memory = fsspec.filesystem("memory")
    memory.pipe_file("/outbox/2025-06-30/stale.csv", b"from an earlier delivery")
    written = []
    memory_class = type(memory)
    put_file, pipe_file = memory_class.put_file, memory_class.pipe_file

    def record_put(self, local, remote, *args, **kwargs):
        written.append(remote)
        return put_file(self, local, remote, *args, **kwargs)

    def record_pipe(self, remote, value, *args, **kwargs):
        written.append(remote)
        return pipe_file(self, remote, value, *args, **kwargs)

    monkeypatch.setattr(memory_class, "put_file", record_put)
    monkeypatch.setattr(memory_class, "pipe_file", record_pipe)
    deliver_night(NIGHT, settings, destination="memory://outbox")
    names = sorted(memory.find("/outbox/2025-06-30"))
    assert names == [
        "/outbox/2025-06-30/_SUCCESS",
        "/outbox/2025-06-30/manifest.json",
        "/outbox/2025-06-30/referral/referral__11+.csv",
        "/outbox/2025-06-30/second_order/second_order__1.csv",
    ]
    assert written[-1].endswith("/2025-06-30/_SUCCESS")
    assert written[-2].endswith("/2025-06-30/manifest.json")
    memory.rm("/outbox", recursive=True)


def test_a_file_changed_after_publishing_stops_the_delivery(settings, published, tmp_path):
    (published / "referral" / "referral__11+.csv").write_text("tampered\n")
    with pytest.raises(NightFailed, match=r"referral__11\+\.csv does not match the checksum"):
        deliver_night(NIGHT, settings, destination=str(tmp_path / "delivered"))
    assert not (tmp_path / "delivered").exists()


def test_a_night_that_was_not_published_is_not_delivered(settings, tmp_path):
    with pytest.raises(NightFailed, match="has no _SUCCESS"):
        deliver_night(NIGHT, settings, destination=str(tmp_path / "delivered"))


def _delivery_connection(monkeypatch, settings, extra):
    monkeypatch.setenv("AIRFLOW_CONN_NEXT_STEPS_OUTREACH_SHARE", json.dumps(extra))
    return replace(settings, delivery_conn_id="next_steps_outreach_share")


def test_an_airflow_connection_says_where_to_deliver(settings, published, tmp_path, monkeypatch):
    share = tmp_path / "share"
    connected = _delivery_connection(
        monkeypatch, settings, {"conn_type": "fs", "extra": {"url": f"file://{share}"}}
    )
    result = deliver_night(NIGHT, connected)
    assert _files(share / "2025-06-30") == _files(published)
    assert result["destination"] == f"file://{share}/2025-06-30"
    assert not (settings.data_dir / "delivered").exists()  # the URL setting is not used


def test_a_scheme_no_provider_serves_goes_through_fsspec_with_the_connections_options(
    settings, published, monkeypatch
):
    connected = _delivery_connection(
        monkeypatch,
        settings,
        {"conn_type": "fs", "extra": {"url": "memory://share", "storage_options": {}}},
    )
    deliver_night(NIGHT, connected)
    memory = fsspec.filesystem("memory")
    assert memory.cat_file("/share/2025-06-30/_SUCCESS") == b""
    memory.rm("/share", recursive=True)


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        (None, "'next_steps_outreach_share', which does not exist"),
        ({"conn_type": "fs", "extra": {}}, "has no extra 'url'"),
    ],
)
def test_a_missing_or_incomplete_connection_fails_for_good_and_says_what_to_add(
    settings, published, monkeypatch, connection, message
):
    if connection is None:
        monkeypatch.delenv("AIRFLOW_CONN_NEXT_STEPS_OUTREACH_SHARE", raising=False)
        connected = replace(settings, delivery_conn_id="next_steps_outreach_share")
    else:
        connected = _delivery_connection(monkeypatch, settings, connection)
    with pytest.raises(NightFailed, match=message):
        deliver_night(NIGHT, connected)


def test_the_nights_built_and_the_nights_their_builds_rewrote_are_delivered():
    events = [
        {"night": "2025-06-30", "republished": []},
        {"night": "2025-06-28", "republished": ["2025-06-29", "2025-06-30"]},
        {"night": "2025-06-27"},  # an event written before republished nights were named
    ]
    assert nights_to_deliver(events) == [
        date(2025, 6, 27),
        date(2025, 6, 28),
        date(2025, 6, 29),
        date(2025, 6, 30),
    ]
