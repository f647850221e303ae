"""ui.history: the browser's last 50 generations, newest first, never a key."""

from __future__ import annotations

from ui_helpers import (
    make_record,
)

from heurist_ui.params import SETTING_FIELDS
from heurist_ui.ui.history import HISTORY_FIELDS, HISTORY_LIMIT, remember


def test_remember_keeps_the_50_newest_first(studio):
    history: dict = {"items": []}
    for n in range(60):
        history, rows = remember([make_record(n)], history)
    assert len(history["items"]) == HISTORY_LIMIT == len(rows)
    assert [item["job_id"] for item in history["items"][:2]] == ["job-59", "job-58"]
    assert history["items"][-1]["job_id"] == "job-10"


def test_remember_dedupes_by_job_id(studio):
    history, _ = remember([make_record(1), make_record(2)], {"items": []})
    history, rows = remember([make_record(2), make_record(3)], history)
    assert sorted(item["job_id"] for item in history["items"]) == ["job-1", "job-2", "job-3"]
    assert len(rows) == 3


def test_remember_never_stores_a_key(studio):
    leaky = make_record(1, api_key="user#SECRET", key="user#SECRET", authorization="Bearer x")
    history, _ = remember([leaky], {"items": []})
    (item,) = history["items"]
    assert set(item) == set(HISTORY_FIELDS)
    assert {*SETTING_FIELDS, "job_id", "style", "images"} <= set(HISTORY_FIELDS)
    assert not any("key" in name or "auth" in name for name in HISTORY_FIELDS)
    assert "SECRET" not in repr(history)
