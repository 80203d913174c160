"""How long a night's folders stay on disk.

Every night writes ``outreach/<D>/`` (the lists marketing picks up that morning),
``quarantine/<D>/`` (its rejected rows) and ``runs/<D>/`` (validation results, dbt's run
results and log).  Kept forever they would grow with every night of history and keep
copies of personal data the warehouse already holds (``marts.outreach_log``,
``ops.quarantined_rows``, ``ops.load_audit``).  So a published night removes the folders
of nights more than ``NEXT_STEPS_KEEP_DAYS`` days before it (0 keeps them all); the
warehouse keeps every night.

Within the kept days, the logs and validation results of every night before the one
published are gzipped in place (:func:`compress_earlier_runs`): people read them now and
then (``zcat``, ``zless``) and ``make docs`` reads the validation results, but they are
most of a run folder, and a tenth of that gzipped.  The night just published keeps them
plain until a later night is published.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

from next_steps.config import Settings
from next_steps.private_files import FILE_MODE

log = logging.getLogger(__name__)

NIGHT_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")

#: A run folder's logs (relative paths): gzipped, a re-run's log is added after the
#: earlier runs' (a gzip file of several members reads as one: ``zcat``).
RUN_LOGS = ("airflow.log", "dbt/dbt.log")
#: A run folder's results (a pattern): gzipped, a re-run's replaces the earlier one.
RUN_RESULTS = "validation/*.json"


def expired_folders(settings: Settings, night: date) -> list[Path]:
    """The night folders older than the kept days, counted back from ``night``."""
    if settings.keep_days <= 0:
        return []
    oldest_kept = night - timedelta(days=settings.keep_days)
    return sorted(
        folder
        for parent in (settings.outreach_dir, settings.quarantine_dir, settings.runs_dir)
        for folder_night, folder in _night_folders(parent)
        if folder_night < oldest_kept
    )


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


def _night_folders(parent: Path) -> list[tuple[date, Path]]:
    """The folders of ``parent`` named for a night, with their night."""
    if not parent.is_dir():
        return []
    folders = []
    for folder in parent.iterdir():
        if folder.is_dir() and NIGHT_FOLDER.fullmatch(folder.name):
            try:
                folders.append((date.fromisoformat(folder.name), folder))
            except ValueError:
                continue
    return sorted(folders)


def _gzip(plain: Path, *, append: bool) -> Path:
    """Gzip ``plain`` into ``<plain>.gz`` (after what that file holds, with ``append``),
    with :data:`FILE_MODE`, then remove ``plain``.  The ``.gz`` is replaced by a rename,
    so it is whole at every moment; if the process dies before ``plain`` is removed, the
    next night gzips it again (a log then holds that run twice)."""
    packed = plain.with_name(plain.name + ".gz")
    temporary = plain.with_name(f".{packed.name}.partial")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with open(os.open(temporary, flags, FILE_MODE), "wb") as out:
        if append and packed.exists():
            with open(packed, "rb") as earlier:
                shutil.copyfileobj(earlier, out)
        with (
            open(plain, "rb") as source,
            gzip.GzipFile(filename=plain.name, mode="wb", fileobj=out, mtime=0) as member,
        ):
            shutil.copyfileobj(source, member)
    os.chmod(temporary, FILE_MODE)
    os.replace(temporary, packed)
    plain.unlink()
    return packed


def compress_earlier_runs(settings: Settings, night: date) -> list[Path]:
    """Gzip the logs and validation results that the run folders of nights before
    ``night`` still keep plain; returns the files written."""
    written = []
    for folder_night, folder in _night_folders(settings.runs_dir):
        if folder_night >= night:
            continue
        for name in RUN_LOGS:
            if (folder / name).is_file():
                written.append(_gzip(folder / name, append=True))
        for result in sorted(folder.glob(RUN_RESULTS)):
            written.append(_gzip(result, append=False))
    if written:
        log.info("Gzipped %d log(s) and result(s) of nights before %s", len(written), night)
    return written


def read_run_file(path: Path) -> str | None:
    """The text of a run folder's file: ``path`` itself, or else its gzipped copy
    (:func:`compress_earlier_runs`); None if neither exists."""
    if path.is_file():
        return path.read_text(encoding="utf-8")
    packed = path.with_name(path.name + ".gz")
    if packed.is_file():
        with gzip.open(packed, "rt", encoding="utf-8") as handle:
            return handle.read()
    return None
