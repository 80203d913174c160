"""How long a night's folders stay on disk.

Every night writes ``outreach/<D>/`` (the lists marketing picks up that morning),
``quarantine/<D>/`` (its rejected rows) and ``runs/<D>/`` (validation results, dbt's run
results and log).  Kept forever they would grow with every night of history and keep
copies of personal data the warehouse already holds (``marts.outreach_log``,
``ops.quarantined_rows``, ``ops.load_audit``).  So a published night removes the folders
of nights more than ``NEXT_STEPS_KEEP_DAYS`` days before it (0 keeps them all); the
warehouse keeps every night.
"""

from __future__ import annotations

import logging
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from next_steps.config import Settings

log = logging.getLogger(__name__)

NIGHT_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


def expired_folders(settings: Settings, night: date) -> list[Path]:
    """The night folders older than the kept days, counted back from ``night``."""
    if settings.keep_days <= 0:
        return []
    oldest_kept = night - timedelta(days=settings.keep_days)
    expired = []
    for parent in (settings.outreach_dir, settings.quarantine_dir, settings.runs_dir):
        if not parent.is_dir():
            continue
        for folder in parent.iterdir():
            if not (folder.is_dir() and NIGHT_FOLDER.fullmatch(folder.name)):
                continue
            try:
                folder_night = date.fromisoformat(folder.name)
            except ValueError:
                continue
            if folder_night < oldest_kept:
                expired.append(folder)
    return sorted(expired)


def remove_expired(settings: Settings, night: date) -> list[Path]:
    """Remove the expired night folders; returns them."""
    expired = expired_folders(settings, night)
    for folder in expired:
        shutil.rmtree(folder)
    if expired:
        log.info(
            "Removed %d night folder(s) older than %d days before %s (the warehouse keeps "
            "those nights): %s",
            len(expired),
            settings.keep_days,
            night,
            ", ".join(str(folder) for folder in expired),
        )
    return expired
