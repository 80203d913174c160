"""Files that hold personal data: created readable by owner and group only.

Outreach lists, quarantined rows, staged rows and the warehouse carry names and e-mail
addresses, so every one of them is created with :data:`FILE_MODE` in folders with
:data:`DIR_MODE` (never world-readable, not even for a moment).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

FILE_MODE = 0o640
DIR_MODE = 0o750


def write_private(
    path: Path, write: Callable[[TextIO], object], *, exclusive: bool = False
) -> None:
    """Create ``path`` with :data:`FILE_MODE` and let ``write`` fill it (UTF-8 text).

    ``exclusive`` refuses to overwrite an existing file (for a folder being built new).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    with open(os.open(path, flags, FILE_MODE), "w", encoding="utf-8", newline="") as handle:
        write(handle)
    os.chmod(path, FILE_MODE)  # also when the file existed, or a umask widened nothing


def write_private_json(path: Path, value: Any, *, exclusive: bool = False) -> None:
    """``value`` as indented JSON with sorted keys (the same bytes for the same value)."""
    text = json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
    write_private(path, lambda handle: handle.write(text), exclusive=exclusive)
