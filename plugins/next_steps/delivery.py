"""Deliver a night's outreach folder to where marketing's tools pick it up.

The destination is an fsspec URL, ``NEXT_STEPS_DELIVERY_URL``: a local folder by default
(``<data>/delivered``), or for instance ``s3://bucket/outreach`` (with ``s3fs``
installed and AWS credentials in the environment) or
``sftp://user@host/outreach`` (with ``sshfs``).  The night lands in
``<destination>/<YYYY-MM-DD>/`` with the same layout as the published folder.

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
from next_steps.contract import SUCCESS_MARKER
from next_steps.errors import NightFailed
from next_steps.outreach import published_files, sha256_of

log = logging.getLogger(__name__)


def deliver_night(
    night: date, settings: Settings | None = None, destination: str | None = None
) -> dict[str, Any]:
    """Copy the published outreach folder of ``night`` to ``destination`` (default: the
    ``NEXT_STEPS_DELIVERY_URL`` setting); return where it went and what it held."""
    import fsspec

    settings = settings or Settings.from_env()
    source = settings.outreach_folder(night)
    files = published_files(source)
    if files is None:
        raise NightFailed(
            f"{source} has no {SUCCESS_MARKER}: night {night} has no published outreach "
            "folder, so nothing was delivered."
        )
    for file in files:
        if sha256_of(source / file["path"]) != file["sha256"]:
            raise NightFailed(
                f"{source / file['path']} does not match the checksum in its manifest: "
                "the folder changed after it was published; nothing was delivered."
            )
    url = f"{(destination or settings.delivery_url).rstrip('/')}/{night.isoformat()}"
    filesystem, root = fsspec.core.url_to_fs(url)
    if filesystem.exists(root):
        filesystem.rm(root, recursive=True)
    for relative in [file["path"] for file in files] + ["manifest.json"]:
        target = f"{root}/{relative}"
        filesystem.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        filesystem.put_file(str(Path(source, relative)), target)
    filesystem.pipe_file(f"{root}/{SUCCESS_MARKER}", b"")
    rows = sum(file["rows"] for file in files)
    log.info("Delivered night %s to %s: %d file(s), %d row(s)", night, url, len(files), rows)
    return {"destination": url, "files": len(files), "rows": rows}
