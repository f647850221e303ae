"""Every use of Gradio's private parts, in one place, checked against the Gradio they fit.

Tested with TESTED_GRADIO. At start-up `apply_gradio_fixes` checks the installed version: on
another one it installs nothing and logs ONE warning, so the studio runs on Gradio's own
behaviour (correct, only slower under a crowd; a wrong number of REST values gets Gradio's own
answer). The tests fail on any other version and compare each Gradio function below with
GRADIO_SOURCES, so whoever upgrades rechecks this file.

Session configs made lazily (SessionState.__init__, a copy of 6.31's, and
_update_value_in_config): every API call is a session of its own, and Gradio's SessionState
builds, up front, the config of every block on the page (an inspect.signature per component) in
case the session asks for a deep link. The studio has well over a hundred blocks: under a crowd
of 300 callers this was a third of the server's CPU, and the reason a crowd took 1.7 times as
long as on a bare app. `LazyConfigs` computes a block's config the first time something reads
it, which for an API call is never; a deep link reads them all and gets the same configs.

Untouched sessions let go (SessionState.__setitem__, StateHolder.update): Gradio keeps the last
1000 sessions (state_session_capacity), and each API call is a new one. A session whose state
nothing has set holds nothing a new session would not (its configs are remade on demand), so
only the newest STATELESS_KEPT of those are kept: a soak of 5000 images no longer grows by a
session per call.

Closed pages let go (StateHolder.delete_all_expired_state, which Gradio runs every second):
when a page closes, Gradio marks its session closed and keeps it, with a copy of every component
an event updated for it, until 1000 newer sessions push it out; only its gr.State values go,
after an hour; and a session that a late load event makes after its page has gone is never
marked closed at all. Pages are counted closed when their heartbeat ends
(caching.clear_session_caches, which Gradio calls then, session or not), and a closed page's
session, once unused for CLOSED_SESSION_GRACE seconds, is dropped whole (its States' delete
callbacks run first). A page that comes back and uses its session keeps it; the server no
longer keeps over a megabyte for every page load it ever served. The queue's two entries for
the session go with it (Queue.push makes a message queue and a set of event ids per session, and
Gradio drops them when the page's stream is cancelled, not when it ends: 3.6 KB kept for every
page whose queued load event finished), unless one of its events is still live.

The input count check (Blocks.validate_inputs, per Blocks), plain refusals of values that are
not among a component's choices (Blocks.preprocess_data, wrapped) and the REST-only mark (the
`_mcp_type` attribute that Gradio's MCP server reads) are installed by ui/errors.py and
ui/mcp_tools.py through `replace_input_check`, `wrap_preprocess`, `page_copy` and `rest_only`.
"""

from __future__ import annotations

import datetime
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from copy import copy
from typing import Any

from gradio import caching, state_holder

from ..versions import is_tested

TESTED_GRADIO = "6.31.0"

# versions.source_hash of each Gradio function that the code below copies, replaces, wraps or
# feeds, as in TESTED_GRADIO.
GRADIO_SOURCES = {
    "gradio.state_holder.SessionState.__init__": "6299be367cb9309d",
    "gradio.state_holder.SessionState._update_value_in_config": "89f3ec69a692d68e",
    "gradio.state_holder.SessionState.__setitem__": "fce4e3193c5b50c8",
    "gradio.state_holder.StateHolder.update": "20bea4a1b07befa9",
    "gradio.state_holder.StateHolder.delete_all_expired_state": "f8c560475b9c1acb",
    "gradio.state_holder.StateHolder.delete_state": "7476c6be79ea24de",  # called as Gradio does
    "gradio.queueing.Queue.push": "0ac2d66e1cf1b8bf",  # makes the per-session entries we drop
    "gradio.queueing.Queue.clean_events": "d463bf27ebefe170",  # Gradio's own drop of them
    "gradio.queueing.Queue.process_events": "42890da0448de099",  # ends an event's liveness
    "gradio.blocks.Blocks.validate_inputs": "f96c8e647d2b1cf9",
    "gradio.blocks.Blocks.preprocess_data": "3bee96459367b373",  # wrapped: plain refusals
    "gradio.mcp.GradioMCPServer.create_mcp_server": "5572eb374d63eeaf",  # reads _mcp_type
}

FALLBACK = (
    "the studio runs on Gradio's own session handling (slower under a crowd of API callers) "
    "and Gradio's own check of the number of values a call sends"
)


# Gradio's frontend class for its navbar. The agents' tools have a page of their own, off the
# navbar, yet Gradio draws a navbar of one link as soon as an app has two pages, and
# gr.Navbar(visible=False) does not hide it (6.31): this rule does, for the page's CSS
# (tests/test_browser_ux.py checks no navbar shows).
LONE_NAVBAR_CSS = ".nav-holder:has(> nav > a:only-child) { display: none !important; }\n"


def gradio_is_tested() -> bool:
    """Whether the installed Gradio is TESTED_GRADIO; the first call on another logs a warning."""
    return is_tested("gradio", TESTED_GRADIO, "heurist_ui/ui/gradio_private.py", FALLBACK)


_MISSING = object()


class LazyConfigs(MutableMapping):
    """{block id: config}, each computed by `compute` on first use, in the blocks' order.

    A mapping, not a dict subclass: dict's C code (copy, |, json.dumps, dict(x)) would read
    the empty storage underneath and get {}; a Mapping goes through the methods below, and
    what only a real dict can do (json.dumps) fails loudly instead of sending an empty config.
    """

    def __init__(self, compute: Callable[[int], Any], keys: Iterable[int]) -> None:
        self._compute = compute
        self._order = list(keys)
        self._pending = set(self._order)  # never in _made
        self._made: dict[int, Any] = {}
        self._values: dict[int, Any] = {}  # props.value to set once a pending config is made

    def set_value(self, key: int, value: Any) -> None:
        """Set a config's props.value, without computing the config if it is still pending."""
        if key in self._pending:
            self._values[key] = value
            return
        if key not in self._made:  # a block added since: made now, as Gradio does
            self[key] = self._compute(key)
        config = self._made[key]
        if "props" in config:
            config["props"]["value"] = value

    def __getitem__(self, key: int) -> Any:
        if key in self._made:
            return self._made[key]
        if key not in self._pending:
            raise KeyError(key)
        value = self._compute(key)
        if key in self._values and "props" in value:
            value["props"]["value"] = self._values.pop(key)
        self._pending.discard(key)
        self._made[key] = value
        return value

    def __setitem__(self, key: int, value: Any) -> None:
        self._pending.discard(key)
        self._values.pop(key, None)
        self._made[key] = value

    def __delitem__(self, key: int) -> None:
        if key in self._pending:
            self._pending.discard(key)
            self._values.pop(key, None)
        else:
            del self._made[key]

    def __contains__(self, key: object) -> bool:
        return key in self._pending or key in self._made

    def __iter__(self) -> Iterator[int]:
        """The blocks' order first, then keys set since; a snapshot, so reading may compute."""
        ordered = [key for key in self._order if key in self]
        placed = set(ordered)
        return iter(ordered + [key for key in self._made if key not in placed])

    def __len__(self) -> int:
        return len(self._pending) + len(self._made)

    def popitem(self) -> tuple[int, Any]:
        """The last (key, config), removed, as dict.popitem (LIFO)."""
        keys = list(self)
        if not keys:
            raise KeyError("popitem(): LazyConfigs is empty")
        return keys[-1], self.pop(keys[-1])

    def copy(self) -> LazyConfigs:
        """A copy that shares nothing it could change (its pending configs stay pending)."""
        return self.__copy__()

    def __copy__(self) -> LazyConfigs:
        twin = LazyConfigs(self._compute, self._order)
        twin._pending = set(self._pending)
        twin._made = dict(self._made)
        twin._values = dict(self._values)
        return twin

    def __or__(self, other: Any) -> dict[int, Any]:
        if not isinstance(other, (dict, MutableMapping)):
            return NotImplemented
        return {**self, **other}

    def __ror__(self, other: Any) -> dict[int, Any]:
        if not isinstance(other, (dict, MutableMapping)):
            return NotImplemented
        return {**other, **self}

    def __ior__(self, other: Any) -> LazyConfigs:
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"LazyConfigs({dict(self)!r})"


def _lazy_init(self: Any, blocks: Any) -> None:
    # Gradio 6.31's SessionState.__init__, with config_values made lazily.
    self.blocks_config = copy(blocks.default_config)
    config = self.blocks_config
    self.config_values = LazyConfigs(
        lambda key: config.config_for_block(key, [], config.blocks[key]),
        (key for key in config.blocks if key in blocks.blocks),
    )
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _update_value_in_config(self: Any, key: int, value: Any) -> None:
    # Gradio calls this for every input and output of every call: keep it lazy too.
    if isinstance(self.config_values, LazyConfigs):
        self.config_values.set_value(key, value)
    else:
        _GRADIO_UPDATE(self, key, value)


STATELESS_KEPT = 64  # untouched sessions kept, newest first
SWEEP_EVERY = 32  # session uses between sweeps


def _set_item(self: Any, key: int, value: Any) -> None:
    self._heurist_touched = True  # a State's value, or a component changed for this session
    _GRADIO_SET_ITEM(self, key, value)


def _holder_update(self: Any, session_id: str) -> None:
    _GRADIO_HOLDER_UPDATE(self, session_id)
    with self.lock:
        self._heurist_uses = getattr(self, "_heurist_uses", 0) + 1
        if self._heurist_uses % SWEEP_EVERY:
            return
        untouched = [
            sid
            for sid, session in self.session_data.items()
            if not getattr(session, "_heurist_touched", False)
        ]
        for sid in untouched[:-STATELESS_KEPT]:
            self.session_data.pop(sid, None)
            self.time_last_used.pop(sid, None)


CLOSED_SESSION_GRACE = 60.0  # seconds a closed page's session is kept, should it come back
CLOSED_PAGES_KEPT = 10_000  # closed pages remembered (their sessions may be made after)
_now = datetime.datetime.now  # the sweep's clock, Gradio's own for time_last_used (tests set it)
_closed_pages: OrderedDict[str, datetime.datetime] = OrderedDict()


def _page_closed(session_hash: Any) -> None:
    # Gradio calls this (caching.clear_session_caches) when a page's heartbeat ends, whether or
    # not its session exists yet: a load event may make it after the page has gone.
    if session_hash:
        _closed_pages[session_hash] = _now()
        _closed_pages.move_to_end(session_hash)
        while len(_closed_pages) > CLOSED_PAGES_KEPT:
            _closed_pages.popitem(last=False)
    _GRADIO_CLEAR_CACHES(session_hash)


def _delete_expired(self: Any) -> None:
    # Gradio's sweep of expired State values, then the sessions of closed pages dropped once
    # closed and unused for CLOSED_SESSION_GRACE.
    _GRADIO_DELETE_EXPIRED(self)
    now, grace = _now(), datetime.timedelta(seconds=CLOSED_SESSION_GRACE)
    with self.lock:
        expired = []
        for sid, session in self.session_data.items():
            closed_at = _closed_pages.get(sid)
            if closed_at is None and not getattr(session, "is_closed", False):
                continue
            if closed_at is None:  # closed by Gradio without us (another hook): from now
                closed_at = _closed_pages[sid] = now
            last = max(closed_at, self.time_last_used.get(sid, closed_at))
            if now - last >= grace:
                expired.append(sid)
    queue = getattr(getattr(self, "blocks", None), "_queue", None)
    for sid in expired:
        self.delete_state(sid)  # the States' delete callbacks, as at their expiry
        with self.lock:
            self.session_data.pop(sid, None)
            self.time_last_used.pop(sid, None)
        _closed_pages.pop(sid, None)
        if queue is not None:
            _forget_queue_session(queue, sid)


def _forget_queue_session(queue: Any, sid: str) -> None:
    # The queue's message queue and event-id set of a dropped session, unless an event of it is
    # still live (in event_ids_to_events until process_events ends it). The sweep runs on the
    # server's event loop, as every other user of these two dicts does.
    ids = queue.pending_event_ids_session.get(sid, ())
    if any(event_id in queue.event_ids_to_events for event_id in ids):
        return
    queue.pending_event_ids_session.pop(sid, None)
    queue.pending_messages_per_session.pop(sid, None)


_SessionState = state_holder.SessionState
_StateHolder = state_holder.StateHolder
_GRADIO_INIT = _SessionState.__init__
_GRADIO_UPDATE = _SessionState._update_value_in_config
_GRADIO_SET_ITEM = _SessionState.__setitem__
_GRADIO_HOLDER_UPDATE = _StateHolder.update
_GRADIO_DELETE_EXPIRED = _StateHolder.delete_all_expired_state
_GRADIO_CLEAR_CACHES = caching.clear_session_caches

_OURS = (
    (_SessionState, "__init__", _lazy_init, _GRADIO_INIT),
    (_SessionState, "_update_value_in_config", _update_value_in_config, _GRADIO_UPDATE),
    (_SessionState, "__setitem__", _set_item, _GRADIO_SET_ITEM),
    (_StateHolder, "update", _holder_update, _GRADIO_HOLDER_UPDATE),
    (_StateHolder, "delete_all_expired_state", _delete_expired, _GRADIO_DELETE_EXPIRED),
    (caching, "clear_session_caches", _page_closed, _GRADIO_CLEAR_CACHES),
)


def apply_gradio_fixes() -> bool:
    """Install the session changes above on the tested Gradio; on another, Gradio's own.

    Every Blocks in the process gets them. Returns whether they are installed.
    """
    tested = gradio_is_tested()
    for owner, name, ours, gradios in _OURS:
        setattr(owner, name, ours if tested else gradios)
    return tested


def replace_input_check(demo: Any, check: Callable[[Any, list[Any]], None]) -> bool:
    """Make demo call check(block_fn, inputs) where Gradio validates a call's inputs.

    Only on the tested Gradio (another keeps Gradio's own check); returns whether replaced.
    """
    if not gradio_is_tested():
        return False
    demo.validate_inputs = check  # type: ignore[method-assign]
    return True


def wrap_preprocess(demo: Any, wrapper: Callable[..., Any]) -> bool:
    """Make demo preprocess a call's inputs through wrapper(original, block_fn, inputs, ...).

    Only on the tested Gradio (another keeps Gradio's own errors); returns whether wrapped.
    """
    if not gradio_is_tested():
        return False
    original = demo.preprocess_data

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        return await wrapper(original, *args, **kwargs)

    demo.preprocess_data = wrapped  # type: ignore[method-assign]
    return True


def page_copy(component: Any, state: Any) -> Any:
    """The page's own copy of component in a session's state (its choices may have changed)."""
    if state is not None and component._id in state:
        return state[component._id]
    return component


def rest_only(fn: Callable) -> Callable:
    """Mark fn so that Gradio's MCP server lists no tool for it (Gradio has no public way).

    Gradio lists as tools only functions without `_mcp_type` or marked "tool". Set on every
    version: an attribute that another Gradio ignores changes nothing else.
    """
    fn._mcp_type = "rest-only"  # type: ignore[attr-defined]
    return fn
