"""Retention: the saved images kept under a cap in megabytes, the oldest deleted first.

Nothing in use or just made is deleted, whatever the cap: not the files of a request still
running (a grid's cells before they are zipped, a preview not yet sent), and not any file
younger than a grace period, so a visitor's images outlive the minutes in which they look at
and download them while other visitors keep making more. A request that would store more than
the cap on its own is refused before anything is sent (check_room).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InvalidRequestError

log = logging.getLogger(__name__)

KEPT_SUFFIXES = (".png", ".jpg", ".webp", ".zip", ".mp4")  # images, grids, ZIPs, videos
GRACE_SECONDS = 15 * 60  # files younger than this are never deleted for the cap
MEGABYTE = 1024 * 1024


class Retention:
    """Counts what is saved under a folder; past max_bytes, deletes the oldest files.

    The folder is scanned once at start; after that each saved file is added as it comes, so
    keeping the cap costs nothing per image but the deletions themselves.
    """

    def __init__(
        self,
        folder: str | Path,
        max_bytes: int | None,
        *,
        grace: float = GRACE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.grace = grace
        self._clock = clock
        self._lock = threading.Lock()
        self._files: deque[tuple[Path, int, float]] = deque()  # path, size, when saved
        self._held: list[set[Path]] = []
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
        for mtime, path, size in sorted(found):
            self._files.append((path, size, mtime))
            self.total += size

    def check_room(self, nbytes: int) -> None:
        """Refuse, before anything is sent, a request that alone would store more than the cap."""
        if self.max_bytes is not None and nbytes > self.max_bytes:
            raise InvalidRequestError(
                f"This request would store about {_megabytes(nbytes)} of images, more than "
                f"this studio keeps in all ({_megabytes(self.max_bytes)}). Make fewer or "
                "smaller images at once."
            )

    @contextmanager
    def in_use(self) -> Iterator[set[Path]]:
        """A set to put a running request's files in: none of them is deleted until it ends."""
        held: set[Path] = set()
        with self._lock:
            self._held.append(held)
        try:
            yield held
        finally:
            with self._lock:
                self._held.remove(held)
                self._trim()

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
            self._files.append((path, size, self._clock()))
            self.total += size
            self._trim()

    def _trim(self) -> None:
        """Delete the oldest files while over the cap, except held, young and the newest."""
        if self.max_bytes is None:
            return
        oldest_first_kept = []
        now = self._clock()
        while self.total > self.max_bytes and len(self._files) > 1:
            path, size, saved = self._files[0]
            if now - saved < self.grace:
                break  # this one and every later one are too young to go
            entry = self._files.popleft()
            if any(path in held for held in self._held):
                oldest_first_kept.append(entry)
                continue
            self.total -= size
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("Could not delete an old image for the size cap: %s", exc)
        self._files.extendleft(reversed(oldest_first_kept))


def _megabytes(nbytes: int) -> str:
    value = nbytes / MEGABYTE
    return f"{value:.1f} MB" if value < 10 else f"{value:.0f} MB"
