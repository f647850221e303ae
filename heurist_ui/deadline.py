"""Overall deadlines for HTTP exchanges made with requests.

A read timeout restarts with every byte: a server that sends one byte every few seconds holds a
request, a worker thread and a user's slot for as long as it likes. A `Deadline` bounds the
whole exchange instead. Used as a context manager around requests calls on a session mounted
with `DeadlineAdapter`, it lets one watchdog thread shut the socket of the connection in use
when the time is up, which ends a blocked read at once (requests then raises a
ConnectionError, and `Deadline.expired` says why).

    deadline = Deadline(90, per_request=True)
    try:
        with deadline:
            response = session.post(url, json=body, timeout=(5, 90))
    except requests.RequestException:
        if deadline.expired:
            ...  # "did not finish answering within 90 s"
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import socket
import threading
import time
from contextvars import ContextVar, Token
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current: ContextVar[Deadline | None] = ContextVar("heurist_deadline", default=None)
SWEEP_AFTER = 256  # finished deadlines before the watchdog's heap is swept


class DeadlinePassed(TimeoutError):
    """A request was about to start after its deadline had passed."""


class Deadline:
    """A time limit for every request made inside `with deadline:` in this thread (or task).

    per_request=True restarts the clock whenever a new request is written (a retry after a 429,
    a redirect): each exchange gets `seconds`. Otherwise the limit covers the whole block.
    """

    def __init__(self, seconds: float, *, per_request: bool = False) -> None:
        self.seconds = seconds
        self.per_request = per_request
        self.expired = False
        self.when = 0.0
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._active = False
        self._token: Token | None = None

    def __enter__(self) -> Deadline:
        with self._lock:
            self.when = time.monotonic() + self.seconds
            self._active = True
        self._token = _current.set(self)
        _watchdog.watch(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._active = False
            self._connections.clear()
        if self._token is not None:
            _current.reset(self._token)
            self._token = None
        _watchdog.finished()

    @property
    def active(self) -> bool:
        return self._active

    def attach(self, connection: Any, *, new_request: bool) -> None:
        """Watch this connection; shut it at once if the time is already up."""
        restarted = False
        with self._lock:
            if not self._active:
                return
            connection._heurist_deadline = self
            if connection not in self._connections:
                self._connections.append(connection)
            if new_request and self.per_request and not self.expired:
                self.when = time.monotonic() + self.seconds
                restarted = True
            expired = self.expired
        if restarted:
            _watchdog.watch(self)
        if expired:
            _shut(connection)
            raise DeadlinePassed(f"the {self.seconds:g} s deadline has passed")

    def expire_if_due(self, now: float) -> bool:
        """Shut the watched connections if the time is up; False if the clock was restarted."""
        with self._lock:
            if not self._active or self.expired:
                return True
            if now < self.when:
                return False
            self.expired = True
            mine = [c for c in self._connections if getattr(c, "_heurist_deadline", None) is self]
        for connection in mine:
            _shut(connection)
        return True


def _shut(connection: Any) -> None:
    sock = getattr(connection, "sock", None) or getattr(connection, "_heurist_socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # a blocked recv() returns at once


class _Watchdog:
    """One daemon thread that expires every deadline of the process, in time order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None
        self._finished = 0  # deadlines ended since the heap was last swept

    def finished(self) -> None:
        """A deadline's block ended: sweep the heap once most of it is finished deadlines.

        Without this, every request's deadline would stay in memory until its time came: tens
        of thousands of them under load.
        """
        with self._condition:
            self._finished += 1
            if self._finished < SWEEP_AFTER or self._finished * 2 < len(self._heap):
                return
            self._heap = [entry for entry in self._heap if entry[2].active]
            heapq.heapify(self._heap)
            self._finished = 0

    def watch(self, deadline: Deadline) -> None:
        with self._condition:
            heapq.heappush(self._heap, (deadline.when, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="heurist-deadlines", daemon=True
                )
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._heap:
                    self._condition.wait()
                when, _, deadline = self._heap[0]
                now = time.monotonic()
                if when > now:
                    self._condition.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            deadline.expire_if_due(now)  # a restarted clock was pushed again by attach()


_watchdog = _Watchdog()


class _Watched:
    """A connection that puts itself under the Deadline of the block it is used in."""

    def connect(self) -> None:
        self._attach(new_request=False)
        super().connect()  # type: ignore[misc]
        # http.client lets go of self.sock when an answer says Connection: close (as proxies
        # and HTTP/1.0 servers do), while the answer is still read from it: keep it to shut.
        self._heurist_socket = self.sock  # type: ignore[attr-defined]

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._attach(new_request=True)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _attach(self, *, new_request: bool) -> None:
        deadline = _current.get()
        if deadline is not None:
            deadline.attach(self, new_request=new_request)


class _DeadlineHTTPConnection(_Watched, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


@functools.cache
def _watched_pool(pool_class: type) -> type:
    """pool_class, with its connections put under the Deadline they are used in."""
    if issubclass(pool_class.ConnectionCls, _Watched):
        return pool_class
    if pool_class is HTTPConnectionPool:
        return _DeadlineHTTPPool
    if pool_class is HTTPSConnectionPool:
        return _DeadlineHTTPSPool
    name = pool_class.ConnectionCls.__name__
    connection = type(f"Deadline{name}", (_Watched, pool_class.ConnectionCls), {})
    return type(f"Deadline{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection})


def _watch(manager: Any) -> Any:
    """manager (a urllib3 PoolManager, ProxyManager or SOCKSProxyManager), its pools watched."""
    # A new dict: urllib3's default is shared by every PoolManager in the process.
    manager.pool_classes_by_scheme = {
        scheme: _watched_pool(pool_class)
        for scheme, pool_class in manager.pool_classes_by_scheme.items()
    }
    return manager


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections obey the Deadline they are used under, proxied or not."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # requests makes a stock manager per proxy (HTTP(S)_PROXY): its pools must be watched
        # too, or a server trickling its answer through the proxy holds the job again.
        return _watch(super().proxy_manager_for(proxy, **proxy_kwargs))
