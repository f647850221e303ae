"""ui.gradio_fixes: lazy session configs (the same in the end); untouched sessions let go."""

from __future__ import annotations

import gradio as gr
from gradio.state_holder import SessionState

from heurist_ui.ui import build
from heurist_ui.ui.gradio_fixes import STATELESS_KEPT, SWEEP_EVERY, LazyConfigs


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
    prompt = next(b for b in demo.blocks.values() if getattr(b, "label", None) == "Prompt")

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
