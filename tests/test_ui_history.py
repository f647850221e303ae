"""ui.history: the browser's last 100 images, newest first, never a key; search, stars."""

from __future__ import annotations

from ui_helpers import (
    make_record,
)

from heurist_ui.params import SETTING_FIELDS
from heurist_ui.ui.history import HISTORY_FIELDS, HISTORY_LIMIT, remember


def test_remember_keeps_the_100_newest_first(studio):
    history: dict = {"items": []}
    for n in range(110):
        history = remember([make_record(n)], history)
    assert len(history["items"]) == HISTORY_LIMIT == 100
    assert [item["job_id"] for item in history["items"][:2]] == ["job-109", "job-108"]
    assert history["items"][-1]["job_id"] == "job-10"


def test_remember_dedupes_by_job_id(studio):
    history = remember([make_record(1), make_record(2)], {"items": []})
    history = remember([make_record(2), make_record(3)], history)
    assert sorted(item["job_id"] for item in history["items"]) == ["job-1", "job-2", "job-3"]


def test_remember_never_stores_a_key(studio):
    leaky = make_record(1, api_key="user#SECRET", key="user#SECRET", authorization="Bearer x")
    history = remember([leaky], {"items": []})
    (item,) = history["items"]
    assert set(item) == set(HISTORY_FIELDS)
    assert {*SETTING_FIELDS, "job_id", "style", "images"} <= set(HISTORY_FIELDS)
    assert not any("key" in name or "auth" in name for name in HISTORY_FIELDS)
    assert "SECRET" not in repr(history)


def test_history_view_searches_the_prompt_filters_the_model_and_the_stars(tmp_path):
    from heurist_ui.ui.history import ALL_MODELS, IMAGE_GONE_FILE, history_view, toggle_favourite

    history = remember([make_record(1, prompt="a copper kettle")], {"items": []})
    history = remember([make_record(2, prompt="a glass owl", model_id="Aurora")], history)
    history = remember([make_record(3, prompt="a paper boat")], history, compare=True)
    gallery, shown = history_view(history, "", ALL_MODELS, False, tmp_path)
    assert shown == ["job-3", "job-2", "job-1"]  # newest first
    assert gallery[0] == (str(IMAGE_GONE_FILE), "Compare · SDXL · seed 3 · a paper boat")
    assert history_view(history, "OWL glass", ALL_MODELS, False, tmp_path)[1] == ["job-2"]
    assert history_view(history, "", "SDXL", False, tmp_path)[1] == ["job-3", "job-1"]
    starred = toggle_favourite(history, "job-1")
    _, shown = history_view(starred, "", ALL_MODELS, True, tmp_path)
    assert shown == ["job-1"]
    assert history_view(starred, "", ALL_MODELS, True, tmp_path)[0][0][1].startswith("★ SDXL")
    assert history_view(toggle_favourite(starred, "job-1"), "", ALL_MODELS, True, None) == ([], [])
