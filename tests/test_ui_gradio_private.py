"""ui.gradio_private: lazy session configs (a mapping like a dict); untouched sessions let go;
all of it only on the tested Gradio, which an upgrade makes these tests recheck."""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import logging
import re
from pathlib import Path

import gradio as gr
import pytest
from gradio import caching
from gradio.state_holder import SessionState

from heurist_ui import versions
from heurist_ui.ui import build
from heurist_ui.ui import gradio_private as private
from heurist_ui.ui.gradio_private import STATELESS_KEPT, SWEEP_EVERY, LazyConfigs

REPO = Path(__file__).resolve().parent.parent


def test_a_config_is_computed_on_first_read_only():
    computed = []

    def compute(key: int) -> dict:
        computed.append(key)
        return {"id": key}

    configs = LazyConfigs(compute, [3, 1, 2])
    assert computed == [] and 1 in configs and 9 not in configs
    assert configs[1] == {"id": 1} and configs.get(2) == {"id": 2}
    assert configs.get(9, "none") == "none"
    assert computed == [1, 2]

    configs[3] = {"id": 3, "set": True}  # set before computed: never computed
    configs[7] = {"id": 7}
    assert list(configs) == [3, 1, 2, 7]  # the blocks' order, then the rest
    assert computed == [1, 2] and len(configs) == 4


def test_a_session_gets_the_same_configs_as_gradios_eager_ones(studio):
    demo = build(studio)  # installs the lazy SessionState.__init__
    state = SessionState(demo)
    config = state.blocks_config

    assert isinstance(state.config_values, LazyConfigs)
    eager = {
        key: config.config_for_block(key, [], block)
        for key, block in config.blocks.items()
        if key in demo.blocks
    }
    assert len(eager) > 100  # the page's blocks: what every API call used to pay for
    assert dict(state.config_values.items()) == eager
    assert [c for c in state.components] == [c for c in eager.values() if c]


def test_a_value_set_before_its_config_is_made_lands_in_it():
    configs = LazyConfigs(lambda key: {"props": {"value": None, "label": key}}, [1, 2])
    configs.set_value(1, "typed")
    configs.set_value(2, "first")
    assert configs[2]["props"]["value"] == "first"
    configs.set_value(2, "second")  # made already: set in place

    assert configs[1] == {"props": {"value": "typed", "label": 1}}
    assert configs[2]["props"]["value"] == "second"


def test_a_session_after_a_call_matches_gradios_eager_update(studio):
    demo = build(studio)
    lazy = SessionState(demo)
    prompt = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "prompt")

    lazy._update_value_in_config(prompt._id, "a lighthouse")

    config = lazy.blocks_config
    expected = config.config_for_block(prompt._id, [], config.blocks[prompt._id])
    expected["props"]["value"] = "a lighthouse"
    assert lazy.config_values[prompt._id] == expected


def test_untouched_sessions_are_let_go_and_touched_ones_kept(studio):
    demo = build(studio)
    holder = demo.state_holder
    state_id = next(key for key, block in demo.blocks.items() if isinstance(block, gr.State))
    holder["visitor"][state_id] = {"kept": True}  # a page that stored something

    for number in range(500):  # API calls: a session each, nothing stored
        holder[f"call-{number}"]  # creates the session

    assert "visitor" in holder and holder["visitor"][state_id] == {"kept": True}
    untouched = [sid for sid in holder.session_data if sid.startswith("call-")]
    assert len(untouched) <= STATELESS_KEPT + SWEEP_EVERY
    assert "call-499" in untouched  # the newest stay


def test_a_closed_pages_session_is_let_go_once_unused_for_its_grace(studio, monkeypatch):
    demo = build(studio)
    holder = demo.state_holder
    start = datetime.datetime(2030, 1, 1)
    clock = [start]
    monkeypatch.setattr(private, "_now", lambda: clock[0])
    second = datetime.timedelta(seconds=1)
    grace = private.CLOSED_SESSION_GRACE * second
    state_id = next(key for key, block in demo.blocks.items() if isinstance(block, gr.State))
    caching.clear_session_caches("late")  # Gradio, as the heartbeat of a closed page ends
    for page in ("closed", "late", "back", "open"):
        holder[page][state_id] = {"page": page}  # "late": made by a load event after it closed
        holder.time_last_used[page] = start
    caching.clear_session_caches("closed")
    caching.clear_session_caches("back")
    holder.time_last_used["late"] = start + second
    holder.time_last_used["back"] = start + grace - second  # the page came back and used it

    def sweep_at(moment: datetime.datetime) -> set[str]:
        clock[0] = moment
        holder.delete_all_expired_state()  # Gradio's sweep, every second
        return set(holder.session_data)

    assert sweep_at(start + grace - second) == {"closed", "late", "back", "open"}
    assert holder.session_data["closed"].state_data[state_id] == {"page": "closed"}
    assert sweep_at(start + grace) == {"late", "back", "open"}
    assert "closed" not in holder.time_last_used
    assert sweep_at(start + grace + second) == {"back", "open"}
    assert holder.session_data["back"].state_data[state_id] == {"page": "back"}
    assert sweep_at(start + 10 * grace) == {"open"}
    assert holder.session_data["open"].state_data[state_id] == {"page": "open"}


def test_a_dropped_sessions_queue_entries_go_with_it_unless_an_event_is_live(studio, monkeypatch):
    demo = build(studio)
    demo.queue()
    queue, holder = demo._queue, demo.state_holder
    start = datetime.datetime(2030, 1, 1)
    clock = [start]
    monkeypatch.setattr(private, "_now", lambda: clock[0])
    live = object()  # an event still running for its page (Gradio's Event)
    for page in range(20):  # pages whose queued load event ended: what Queue.push left
        sid = f"page-{page}"
        holder[sid]
        holder.time_last_used[sid] = start
        queue.pending_messages_per_session[sid] = asyncio.Queue()
        queue.pending_event_ids_session[sid] = set()
        caching.clear_session_caches(sid)  # the page closed
    queue.pending_event_ids_session["page-0"] = {"running"}
    queue.event_ids_to_events["running"] = live
    queue.pending_event_ids_session["page-1"] = {"ended"}  # its stream went before the end
    queue.pending_messages_per_session["open"] = asyncio.Queue()
    queue.pending_event_ids_session["open"] = set()
    holder["open"]

    clock[0] = start + datetime.timedelta(seconds=private.CLOSED_SESSION_GRACE)
    holder.delete_all_expired_state()

    assert set(holder.session_data) == {"open"}
    assert set(queue.pending_messages_per_session) == {"page-0", "open"}
    assert queue.pending_event_ids_session == {"page-0": {"running"}, "open": set()}


# --- an upgrade fails here, on purpose ---------------------------------------------------------


def test_the_installed_gradio_is_the_one_the_private_parts_were_tested_with():
    assert versions.installed("gradio") == private.TESTED_GRADIO, (
        "Gradio was upgraded: check heurist_ui/ui/gradio_private.py against it (each function in "
        "GRADIO_SOURCES), then update TESTED_GRADIO and the hashes there"
    )


def test_every_pin_of_gradio_names_the_tested_version():
    pins = {
        name: re.findall(pattern, (REPO / name).read_text(encoding="utf-8"))
        for name, pattern in [
            ("requirements.txt", r"^gradio(?:\[[\w,]+\])?==([\w.]+)"),
            ("pyproject.toml", r"gradio(?:\[[\w,]+\])?==([\w.]+)"),
            ("README.md", r"^sdk_version: ([\w.]+)"),  # the Space's Gradio
        ]
        if (REPO / name).exists()
    }
    found = {version for versions_pinned in pins.values() for version in versions_pinned}
    assert found == {private.TESTED_GRADIO}, pins


@pytest.mark.parametrize("name", sorted(private.GRADIO_SOURCES))
def test_each_gradio_function_the_private_parts_rely_on_is_unchanged(name):
    assert versions.source_hash(name) == private.GRADIO_SOURCES[name], (
        f"{name} changed: recheck what heurist_ui/ui/gradio_private.py does with it"
    )


@pytest.fixture
def another_gradio(monkeypatch, caplog):
    """The installed Gradio reported as 99.0.0 (warned about afresh); the fixes back after."""
    real = versions.installed
    monkeypatch.setattr(versions, "_warned", set())
    monkeypatch.setattr(
        versions, "installed", lambda name: "99.0.0" if name == "gradio" else real(name)
    )
    caplog.set_level(logging.WARNING, logger="heurist_ui")
    yield caplog
    monkeypatch.undo()
    assert private.apply_gradio_fixes()


def test_another_gradio_runs_on_gradios_own_behaviour_after_one_warning(another_gradio, studio):
    demo = build(studio)  # applies the fixes, or not, and the input count check
    build(studio)

    assert SessionState.__init__ is private._GRADIO_INIT
    assert SessionState.__setitem__ is private._GRADIO_SET_ITEM
    assert caching.clear_session_caches is private._GRADIO_CLEAR_CACHES
    assert type(SessionState(demo).config_values) is dict
    assert "validate_inputs" not in vars(demo)  # Gradio's own method
    # The version check's own logger: an earlier test's batch may still log its failures late.
    warnings = [
        r.getMessage()
        for r in another_gradio.records
        if r.levelno == logging.WARNING and r.name == versions.log.name
    ]
    assert len(warnings) == 1, warnings
    assert "gradio 99.0.0 is installed" in warnings[0] and "gradio 6.31.0" in warnings[0]
    assert "gradio_private.py" in warnings[0]


def test_the_tested_gradio_gets_the_fixes(studio):
    demo = build(studio)
    assert SessionState.__init__ is private._lazy_init
    assert isinstance(SessionState(demo).config_values, LazyConfigs)
    assert "validate_inputs" in vars(demo)


# --- LazyConfigs behaves as the dict Gradio made before, in every way Gradio could use one ------


def _compute(key: int) -> dict:
    return {"id": key, "props": {"value": None}}


KEYS = [5, 1, 3]


def _pair() -> tuple[LazyConfigs, dict]:
    """A lazy mapping, one config read and one set, and the eager dict Gradio would hold."""
    lazy = LazyConfigs(_compute, KEYS)
    eager = {key: _compute(key) for key in KEYS}
    for configs in (lazy, eager):
        configs[1]
        configs[9] = {"id": 9}
    return lazy, eager


OPERATIONS = {
    "copy()": lambda m: m.copy(),
    "copy.copy": lambda m: copy.copy(m),
    "copy.deepcopy": lambda m: copy.deepcopy(m),
    "dict(x)": lambda m: dict(m),
    "{**x}": lambda m: {**m},
    "x | {}": lambda m: m | {7: "other"},
    "{} | x": lambda m: {7: "other"} | m,
    "list(x)": lambda m: list(m),
    "keys": lambda m: list(m.keys()),
    "values": lambda m: list(m.values()),
    "items": lambda m: list(m.items()),
    "len": lambda m: len(m),
    "bool": lambda m: bool(m),
    "in": lambda m: (3 in m, 4 in m),
    "get": lambda m: (m.get(3), m.get(4, "none")),
    "json.dumps(dict(x))": lambda m: json.dumps(dict(m)),
    "sorted items": lambda m: sorted(m.items()),
    "pop": lambda m: (m.pop(3), m.pop(4, "none"), list(m)),
    "del": lambda m: (m.__delitem__(5), list(m)),
    "setdefault": lambda m: (m.setdefault(3, "new"), m.setdefault(8, "new"), list(m)),
    "update": lambda m: (m.update({3: "set", 6: "added"}), list(m.items())),
    "x |= {}": lambda m: list(_ior(m).items()),
    "popitem until empty": lambda m: [m.popitem() for _ in range(len(m))][::-1],
    "clear": lambda m: (m.clear(), len(m), list(m)),
}


def _ior(mapping):
    mapping |= {3: "set"}
    return mapping


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_lazy_configs_answer_every_dict_operation_as_the_eager_dict(name):
    lazy, eager = _pair()
    assert OPERATIONS[name](lazy) == OPERATIONS[name](eager)


def test_the_lazy_configs_compare_equal_both_ways_and_repr_their_contents():
    lazy, eager = _pair()
    assert lazy == eager and eager == lazy
    assert not lazy != eager  # noqa: SIM202 (__ne__ itself)
    assert lazy != {**eager, 1: "changed"}
    assert repr(lazy) == f"LazyConfigs({eager!r})"


def test_a_copy_shares_nothing_the_original_could_see():
    lazy, _ = _pair()
    twin = lazy.copy()
    twin[5]["props"]["value"] = "seen"  # a config made in the twin only: shared? no
    twin[1] = "replaced"
    assert lazy[1] == _compute(1) and lazy[5] == _compute(5)


def test_what_only_a_real_dict_can_do_fails_loudly_instead_of_giving_an_empty_config():
    lazy, eager = _pair()
    with pytest.raises(TypeError):
        json.dumps(lazy)
    assert not isinstance(lazy, dict)  # C code taking a dict's storage never sees it empty
    assert json.loads(json.dumps(dict(lazy))) == json.loads(json.dumps(eager))


def test_reading_the_keys_computes_nothing():
    computed = []
    lazy = LazyConfigs(lambda key: computed.append(key) or {"id": key}, KEYS)
    assert list(lazy) == KEYS and len(lazy) == 3 and 5 in lazy and computed == []
