"""Deliver a night's outreach folder to where marketing's tools pick it up.

The destination is either

- an fsspec URL, ``NEXT_STEPS_DELIVERY_URL``: a local folder by default
  (``<data>/delivered``), or for instance ``s3://bucket/outreach`` (with ``s3fs``
  installed and AWS credentials in the environment) or ``sftp://user@host/outreach``
  (with ``sshfs``); or
- an Airflow connection, named by ``NEXT_STEPS_DELIVERY_CONN_ID``: its extra ``url`` says
  where, and the connection holds the credentials.  For a scheme an Airflow provider
  serves (``s3://`` with the Amazon provider, ``sftp://`` with the SFTP provider,
  ``gs://``, ``abfs://``...) the filesystem comes from that provider, built from the
  connection (an ``aws`` connection's key and secret, an ``sftp`` connection's host, user
  and key); for any other scheme, fsspec's, with the extra ``storage_options``.

The night lands in ``<destination>/<YYYY-MM-DD>/`` with the same layout as the published
folder.

Before anything is sent, every file is checked against the checksum in the night's
``manifest.json``.  The files go first, then ``manifest.json``, then ``_SUCCESS``, so
a consumer that waits for ``_SUCCESS`` never reads half a night.  Delivering a night
again replaces what was delivered for it.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from next_steps.config import Settings
from next_steps.errors import NightFailed
from next_steps.ingest.contract import SUCCESS_MARKER
from next_steps.publish.outreach import published_manifest, sha256_of

log = logging.getLogger(__name__)


def nights_to_deliver(events: list[dict[str, Any]]) -> list[date]:
    """The nights the outreach Asset's events name (their ``extra``): each night built,
    and the later nights whose folders its build rewrote."""
    nights = {event["night"] for event in events}
    nights |= {night for event in events for night in event.get("republished", [])}
    return [date.fromisoformat(night) for night in sorted(nights)]


def deliver_night(
    night: date, settings: Settings | None = None, destination: str | None = None
) -> dict[str, Any]:
    """Copy the published outreach folder of ``night`` to ``destination`` (default: the
    ``NEXT_STEPS_DELIVERY_URL`` setting); return where it went and what it held."""
    import fsspec

    settings = settings or Settings.from_env()
    source = settings.outreach_folder(night)
    manifest = published_manifest(source)
    if manifest is None:
        raise NightFailed(
            f"{source} has no {SUCCESS_MARKER}: night {night} has no published outreach "
            "folder, so nothing was delivered."
        )
    files = manifest["files"]
    # the lists, and the night's report when the manifest names one
    checked = files + ([manifest["report"]] if manifest.get("report") else [])
    for file in checked:
        if sha256_of(source / file["path"]) != file["sha256"]:
            raise NightFailed(
                f"{source / file['path']} does not match the checksum in its manifest: "
                "the folder changed after it was published; nothing was delivered."
            )
    base, conn_id = destination or settings.delivery_url, None
    if destination is None and settings.delivery_conn_id:
        conn_id = settings.delivery_conn_id
        base, storage_options = _connection_destination(conn_id)
    url = f"{base.rstrip('/')}/{night.isoformat()}"
    if conn_id is None:
        filesystem, root = fsspec.core.url_to_fs(url)
    else:
        filesystem, root = _filesystem(url, conn_id, storage_options)
    if filesystem.exists(root):
        filesystem.rm(root, recursive=True)
    for relative in [file["path"] for file in checked] + ["manifest.json"]:
        target = f"{root}/{relative}"
        filesystem.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        filesystem.put_file(str(Path(source, relative)), target)
    filesystem.pipe_file(f"{root}/{SUCCESS_MARKER}", b"")
    rows = sum(file["rows"] for file in files)
    log.info("Delivered night %s to %s: %d file(s), %d row(s)", night, url, len(files), rows)
    return {"destination": url, "files": len(files), "rows": rows}


def _connection_destination(conn_id: str) -> tuple[str, dict[str, Any]]:
    """The URL and fsspec options the delivery connection names."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        extra = Connection.get(conn_id).extra_dejson
    except AirflowNotFoundException:
        raise NightFailed(
            f"NEXT_STEPS_DELIVERY_CONN_ID names the connection {conn_id!r}, which does not "
            "exist: add it (docs/production.md, Assets and delivery), then clear the task."
        ) from None
    if not extra.get("url"):
        raise NightFailed(
            f"The connection {conn_id!r} has no extra 'url' saying where to deliver, e.g. "
            '{"url": "s3://bucket/outreach"}: add it, then clear the task.'
        )
    return extra["url"], extra.get("storage_options") or {}


def _filesystem(url: str, conn_id: str, storage_options: dict[str, Any]):
    """An Airflow provider's filesystem for the scheme, built from the connection, or
    fsspec's when no provider serves the scheme."""
    import fsspec
    from airflow.sdk.io.fs import get_fs, has_fs

    scheme = fsspec.utils.get_protocol(url)
    if has_fs(scheme):
        filesystem = get_fs(scheme, conn_id, storage_options)
    else:
        filesystem = fsspec.filesystem(scheme, **storage_options)
    return filesystem, filesystem._strip_protocol(url)
