"""Changes to Gradio (6.31) that the load profile and the soak called for.

Session configs made lazily:

Every API call is a session of its own, and Gradio's SessionState builds, up front, the
config of every block on the page (an inspect.signature per component) in case the session
asks for a deep link. The studio has well over a hundred blocks: under a crowd of 300 callers
this was a third of the server's CPU, and the reason a crowd took 1.7 times as long as on a
bare app. `LazyConfigs` computes a block's config the first time something reads it, which for
an API call is never; a deep link reads them all and gets the same configs as before.

Untouched sessions let go: Gradio keeps the last 1000 sessions (state_session_capacity), and
each API call is a new one. A session whose state nothing has set holds nothing a new session
would not (its configs are remade on demand), so only the newest STATELESS_KEPT of those are
kept: a soak of 5000 images no longer grows by a session per call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from typing import Any

from gradio import state_holder

_MISSING = object()


class LazyConfigs(dict):
    """{block id: config}, each computed by `compute` on first use, in the blocks' order."""

    def __init__(self, compute: Callable[[int], Any], keys: Iterable[int]) -> None:
        super().__init__()
        self._compute = compute
        self._order = list(keys)
        self._pending = set(self._order)
        self._filled = False
        self._values: dict[int, Any] = {}  # props.value to set once a pending config is made

    def set_value(self, key: int, value: Any) -> None:
        """Set a config's props.value, without computing the config if it is still pending."""
        if key in self._pending:
            self._values[key] = value
            return
        if not super().__contains__(key):  # a block added since: made now, as Gradio does
            self[key] = self._compute(key)
        config = super().__getitem__(key)
        if "props" in config:
            config["props"]["value"] = value

    def __missing__(self, key: int) -> Any:
        if key not in self._pending:
            raise KeyError(key)
        self._pending.discard(key)
        value = self._compute(key)
        if key in self._values and "props" in value:
            value["props"]["value"] = self._values.pop(key)
        super().__setitem__(key, value)
        return value

    def __setitem__(self, key: int, value: Any) -> None:
        self._pending.discard(key)
        self._values.pop(key, None)
        super().__setitem__(key, value)

    def __contains__(self, key: object) -> bool:
        return key in self._pending or super().__contains__(key)

    def get(self, key: int, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (this is get)

    def pop(self, key: int, default: Any = _MISSING) -> Any:
        if key in self._pending:
            self[key]
        if default is _MISSING:
            return super().pop(key)
        return super().pop(key, default)

    def fill(self) -> None:
        """Compute every pending config; the blocks' order first, then keys set since."""
        if self._filled:
            return
        for key in self._order:
            if key in self._pending:
                self[key]  # computes and keeps it
        present = super().keys()
        ordered = {key: dict.__getitem__(self, key) for key in self._order if key in present}
        rest = {key: value for key, value in super().items() if key not in ordered}
        super().clear()
        super().update({**ordered, **rest})
        self._filled = True

    def __iter__(self) -> Iterator[int]:
        self.fill()
        return super().__iter__()

    def __len__(self) -> int:
        self.fill()
        return super().__len__()

    def keys(self):  # type: ignore[override]
        self.fill()
        return super().keys()

    def values(self):  # type: ignore[override]
        self.fill()
        return super().values()

    def items(self):  # type: ignore[override]
        self.fill()
        return super().items()

    def __eq__(self, other: object) -> bool:
        self.fill()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


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
        _EAGER_UPDATE(self, key, value)


_EAGER_UPDATE = state_holder.SessionState._update_value_in_config


STATELESS_KEPT = 64  # untouched sessions kept, newest first
SWEEP_EVERY = 32  # session uses between sweeps


def _set_item(self: Any, key: int, value: Any) -> None:
    self._heurist_touched = True  # a State's value, or a component changed for this session
    _EAGER_SET_ITEM(self, key, value)


_EAGER_SET_ITEM = state_holder.SessionState.__setitem__


def _holder_update(self: Any, session_id: str) -> None:
    _EAGER_HOLDER_UPDATE(self, session_id)
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


_EAGER_HOLDER_UPDATE = state_holder.StateHolder.update


def apply_gradio_fixes() -> None:
    """Install the changes above (once; every Blocks in the process gets them)."""
    session_state = state_holder.SessionState
    if session_state.__init__ is not _lazy_init:
        session_state.__init__ = _lazy_init  # type: ignore[method-assign]
        session_state._update_value_in_config = _update_value_in_config  # type: ignore[method-assign]
        session_state.__setitem__ = _set_item  # type: ignore[method-assign]
        state_holder.StateHolder.update = _holder_update  # type: ignore[method-assign]
