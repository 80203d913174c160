"""One night at a time between loading and publishing the warehouse.

A night is built in one working copy of the warehouse (``load_warehouse`` makes it,
``build_models`` builds on it, ``write_outreach_files`` writes the night's files from it,
``publish_night`` renames it over the warehouse).  Two
nights that interleave these steps would overwrite each other's working copy, and the
second publish would drop the first night without a word.  Airflow's ``max_active_runs``
does not prevent that (a backfill, or a cleared earlier night, runs beside the scheduled
runs), and the pool ``next_steps_warehouse`` only keeps two of these tasks from running
at the same moment, not a night's four steps together.

So a night takes the warehouse's lease, a small JSON file beside it, before it loads
(the sensor ``wait_for_warehouse``, then ``load_warehouse`` again), and gives it back
when it publishes (or when one of its steps fails for good):

- while another night holds the lease, taking it raises
  :class:`~next_steps.errors.WarehouseBusy`: the sensor pokes again later (a lock, not
  a failure);
- the same night taking it again (a retry, a cleared run) takes it over: its own
  earlier working copy is discarded anyway;
- ``build_models``, ``write_outreach_files`` and ``publish_night`` check that the lease is still their night's;
- a lease older than ``stale_after`` (its run was killed and never retried) is not taken
  over silently: the night fails and the message says which night held it and what to do.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from next_steps.errors import NightFailed, WarehouseBusy, WarehouseLeaseLost
from next_steps.private_files import write_private_json

log = logging.getLogger(__name__)


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:  # a lease being written right now, or a torn one
        return {"night": "unknown", "taken_at": datetime.now(UTC).isoformat()}


def _holder(lease: dict) -> str:
    return f"night {lease['night']} (since {lease['taken_at']}, {lease.get('host', '?')})"


def take(path: Path, night: date, stale_after: timedelta) -> None:
    """Take the warehouse for ``night`` or raise :class:`WarehouseBusy`."""
    record = {
        "night": night.isoformat(),
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    try:
        write_private_json(path, record, exclusive=True)
        return
    except FileExistsError:
        lease = _read(path)
    if lease is None:  # given back in the meantime: try once more
        return take(path, night, stale_after)
    if lease["night"] == night.isoformat():
        log.info("Taking over the warehouse lease of an earlier try of night %s", night)
        temporary = path.with_name(path.name + f".{os.getpid()}")
        write_private_json(temporary, record)
        os.replace(temporary, path)
        return
    age = datetime.now(UTC) - datetime.fromisoformat(lease["taken_at"])
    if age > stale_after:
        raise NightFailed(
            f"The warehouse has been held by {_holder(lease)} for {age}, longer than any "
            f"night takes: that night's run stopped between load_warehouse and "
            f"publish_night. Re-run night {lease['night']} from load_warehouse, or, if "
            f"no run of it is going on, delete {path}; then clear night {night}."
        )
    raise WarehouseBusy(
        f"The warehouse is held by {_holder(lease)}, which is between load_warehouse and "
        f"publish_night; night {night} loads when it has published."
    )


def check(path: Path, night: date) -> None:
    """Fail unless ``night`` holds the warehouse (before building on the working copy)."""
    lease = _read(path)
    if lease is None or lease["night"] != night.isoformat():
        holder = "nobody" if lease is None else _holder(lease)
        raise WarehouseLeaseLost(
            f"Night {night} no longer holds the warehouse (held by {holder}): its working "
            f"copy may hold another night. Clear night {night} from load_warehouse."
        )


def give_back(path: Path, night: date) -> bool:
    """Give the lease back if ``night`` holds it; True if it did."""
    lease = _read(path)
    if lease is None or lease["night"] != night.isoformat():
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True
