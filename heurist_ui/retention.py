"""Retention: the saved images kept under a cap in megabytes, the oldest deleted first."""

from __future__ import annotations

import logging
import threading
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)

KEPT_SUFFIXES = (".png", ".jpg", ".webp", ".zip", ".mp4")  # images, grids, ZIPs, videos


class Retention:
    """Counts what is saved under a folder; past max_bytes, deletes the oldest files.

    The folder is scanned once at start; after that each saved file is added as it comes, so
    keeping the cap costs nothing per image but the deletions themselves.
    """

    def __init__(self, folder: str | Path, max_bytes: int | None) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._files: deque[tuple[Path, int]] = deque()
        self.total = 0
        if max_bytes is not None:
            self._scan()
            self._trim()

    def _scan(self) -> None:
        found = []
        for path in self.folder.rglob("*"):
            if path.suffix in KEPT_SUFFIXES and path.is_file():
                stat = path.stat()
                found.append((stat.st_mtime, path, stat.st_size))
        for _, path, size in sorted(found):
            self._files.append((path, size))
            self.total += size

    def add(self, path: str | Path) -> None:
        """Count a newly saved file, then delete the oldest ones while over the cap."""
        if self.max_bytes is None:
            return
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError:
            return
        with self._lock:
            self._files.append((path, size))
            self.total += size
            self._trim()

    def _trim(self) -> None:
        while self.max_bytes is not None and self.total > self.max_bytes and len(self._files) > 1:
            path, size = self._files.popleft()
            self.total -= size
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("Could not delete an old image for the size cap: %s", exc)
