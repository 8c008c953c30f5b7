"""Atomic file writes: the one way this package writes a file that a reader may open meanwhile.

`atomic_write(path, write)` hands `write` a file object on a temporary file in the same folder,
flushes and fsyncs it, makes it an ordinary shared file (0644; `mkstemp` creates 0600), and
renames it over `path` (`os.replace`, atomic on POSIX); on any error the temporary file is
removed, so a killed writer never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: str | Path, write: Callable[[IO[Any]], object], text: bool = False) -> Path:
    """Write `path` atomically with `write(f)`: `f` is binary, or text (UTF-8, no newline
    translation, as the csv module wants) with `text=True`. Creates the parent folders; returns
    the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode = {"mode": "w", "encoding": "utf-8", "newline": ""} if text else {"mode": "wb"}
        with os.fdopen(fd, **mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
