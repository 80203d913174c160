"""Writing an export folder: temporary files compressed and written on a background
thread, renamed into place, ``_SUCCESS`` last."""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import os
import queue
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

from next_steps.ingest.contract import SUCCESS_MARKER
from next_steps.sample.orders import _OrderBatch
from next_steps.sample.parameters import FILE_STEMS, HEADERS
from next_steps.sample.tables import _as_date


class _ExportWriter:
    """Writes the three files of one export night through a background thread (which
    compresses and writes while the next chunk is computed), then renames them into
    place and writes ``_SUCCESS`` last. On any failure the temporary files go away and
    the folder is left without ``_SUCCESS``."""

    def __init__(self, folder: Path, compress: bool) -> None:
        self.folder = folder
        self.suffix = ".csv.gz" if compress else ".csv"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SUCCESS_MARKER).unlink(missing_ok=True)
        self.tmp = [folder / f".{stem}{self.suffix}.tmp" for stem in FILE_STEMS]
        self.final = [folder / f"{stem}{self.suffix}" for stem in FILE_STEMS]
        self.files = contextlib.ExitStack()
        try:
            self.raw = [self.files.enter_context(p.open("wb")) for p in self.tmp]
            # mtime=0 and a fixed name in the gzip header keep the bytes reproducible
            self.out = [
                self.files.enter_context(
                    gzip_module.GzipFile(
                        filename=f.name[: -len(".gz")],
                        mode="wb",
                        fileobj=raw,
                        mtime=0,
                        compresslevel=6,
                    )
                )
                if compress
                else raw
                for f, raw in zip(self.final, self.raw)
            ]
        except BaseException:
            self._remove_temporary()
            raise
        self.queue: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=6)
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, name="export-writer", daemon=True)
        self.thread.start()
        for i, header_line in enumerate(HEADERS):
            self.write(i, header_line)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is None:
                try:
                    self.out[item[0]].write(item[1])
                # any failure must reach the caller (write/close), or it would wait forever
                except Exception as exc:
                    self.error = exc

    def write(self, file: int, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        if data:
            self.queue.put((file, data))

    def _stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()

    def close(self) -> None:
        try:
            self._stop()
            if self.error is not None:
                raise self.error
            for out, raw in zip(self.out, self.raw):
                if out is not raw:
                    out.close()
                raw.flush()
                os.fsync(raw.fileno())
            self.files.close()
            for tmp, final in zip(self.tmp, self.final):
                os.replace(tmp, final)
        except BaseException:
            self.abort()
            raise
        other = ".csv" if self.suffix == ".csv.gz" else ".csv.gz"
        for stem in FILE_STEMS:  # a previous run in the other format
            (self.folder / f"{stem}{other}").unlink(missing_ok=True)
        (self.folder / SUCCESS_MARKER).touch()
        _fsync_dir(self.folder)

    def abort(self) -> None:
        """Drop the half-written files; the folder keeps no ``_SUCCESS``."""
        self._stop()
        with contextlib.suppress(OSError, ValueError, zlib.error):
            self.files.close()
        self._remove_temporary()

    def _remove_temporary(self) -> None:
        for tmp in self.tmp:
            tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the renames and the new ``_SUCCESS`` durable (where the OS allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class _Stats:
    folder: Path
    export_day: int
    accounts: int = 0
    order_rows: int = 0
    distinct_orders: int = 0
    line_rows: int = 0

    def add(self, batch: _OrderBatch) -> None:
        self.order_rows += batch.order_rows
        self.distinct_orders += batch.distinct
        self.line_rows += batch.line_rows

    def as_dict(self) -> dict:
        return {
            "export_dir": str(self.folder),
            "export_date": _as_date(self.export_day).isoformat(),
            "accounts": self.accounts,
            "order_rows": self.order_rows,
            "distinct_orders": self.distinct_orders,
            "line_rows": self.line_rows,
        }
