"""ui.video_history: this browser's videos with posters, played, restored; a deleted one is gone."""

from __future__ import annotations

import pytest
from PIL import Image
from ui_helpers import changed

from heurist_ui.ui.history import HISTORY_LIMIT, IMAGE_GONE_FILE
from heurist_ui.ui.messages import MESSAGES
from heurist_ui.ui.video_history import (
    VIDEO_GONE,
    VIDEO_HISTORY_FIELDS,
    history_view,
    play,
    remember,
    restore,
)
from heurist_ui.ui.words import LANGUAGES
from heurist_ui.video import HUNYUAN, MOCHI, MOCHI_SETTINGS, POSTER_SUFFIX, find_video

SETTINGS = [setting.name for setting in MOCHI_SETTINGS]  # the Video form's, in order


@pytest.fixture
def made(studio, sandbox):
    """Run real video tasks on the sandbox: kind, prompt, settings -> the saved video."""
    studio.runner.workflow.poll_interval = 0.02

    def make(kind, prompt, **values):
        return studio.runner.run_job(kind.prepare(prompt, **values), None)

    return make


def test_a_video_is_remembered_with_its_settings_and_no_key(made):
    saved = made(MOCHI, "waves", width=512, height=256, length=16, seed=7, fps=12)
    history = remember({**saved.record, "api_key": "user#SECRET"}, {"items": []})
    (item,) = history["items"]
    assert set(item) <= set(VIDEO_HISTORY_FIELDS) and "SECRET" not in repr(history)
    assert item["kind"] == "mochi" and item["seed"] == 7 and item["length"] == 16
    assert remember(saved.record, history) == history  # once only
    assert remember(None, history) == history and remember({}, history) == history


def test_the_history_keeps_the_newest_first_within_the_limit():
    history: dict = {"items": []}
    for n in range(HISTORY_LIMIT + 5):
        history = remember({"job_id": f"job-{n}", "kind": "hunyuan", "prompt": f"p{n}"}, history)
    assert len(history["items"]) == HISTORY_LIMIT
    assert history["items"][0]["job_id"] == f"job-{HISTORY_LIMIT + 4}"


def test_the_view_shows_a_poster_per_video_with_model_settings_and_prompt(studio, made):
    out = studio.runner.output_dir
    hunyuan = made(HUNYUAN, "a red fox in snow")
    mochi = made(MOCHI, "waves", width=512, height=256, length=16, seed=3)
    history = remember(mochi.record, remember(hunyuan.record, {"items": []}))

    gallery, shown = history_view(history, out)

    assert shown == [mochi.record["job_id"], hunyuan.record["job_id"]]
    (webp, mochi_caption), (poster, hunyuan_caption) = gallery
    assert webp == str(mochi.path)  # an animated WebP is its own poster
    assert mochi_caption == "Mochi video · 512×256 · 16 frames · seed 3 · waves"
    assert poster.endswith(POSTER_SUFFIX) and hunyuan_caption.startswith("Hunyuan video · ")
    with Image.open(poster) as still:
        assert still.format == "JPEG" and still.width <= 320
    assert "a red fox in snow" in hunyuan_caption


def test_a_video_the_cap_deleted_shows_as_gone_and_still_restores(studio, made):
    out = studio.runner.output_dir
    saved = made(MOCHI, "a slow tide", width=512, height=256, length=16, seed=5)
    other = made(HUNYUAN, "a kept fox")
    history = remember(other.record, remember(saved.record, {"items": []}))
    history_view(history, out)  # the MP4's poster is made
    job_id = other.record["job_id"]
    poster = find_video(out, job_id).with_name(find_video(out, job_id).stem + POSTER_SUFFIX)
    assert poster.is_file()
    saved.path.unlink()  # as retention does once the folder is over its cap
    find_video(out, job_id).unlink()

    gallery, _ = history_view(history, out)

    assert [path for path, _ in gallery] == [str(IMAGE_GONE_FILE)] * 2
    assert not poster.exists()  # no orphan poster left behind
    line, player, animation, download, record = play(history, saved.record["job_id"], out)
    assert line == VIDEO_GONE and player is None
    assert animation["visible"] is False and download["visible"] is False
    assert record["prompt"] == "a slow tide"
    prompt, model, *settings = restore(history, saved.record["job_id"], out)
    assert prompt["value"] == "a slow tide" and model["value"] == MOCHI.label
    assert dict(zip(SETTINGS, settings, strict=True))["seed"]["value"] == 5
    # A Spanish visitor reads it in Spanish.
    line, *_ = play(history, saved.record["job_id"], out, "es")
    assert line == MESSAGES["video.gone"][LANGUAGES.index("es")] != VIDEO_GONE


def test_a_picked_video_plays_and_its_settings_restore(studio, made):
    out = studio.runner.output_dir
    saved = made(HUNYUAN, "lanterns on a river")
    history = remember(saved.record, {"items": []})
    line, player, animation, download, record = play(history, saved.record["job_id"], out)
    assert player == str(saved.path) and download["value"] == str(saved.path)
    assert animation["visible"] is False and record["job_id"] == saved.record["job_id"]
    assert saved.path.name in line
    prompt, model, *settings = restore(history, saved.record["job_id"], out)
    assert prompt["value"] == "lanterns on a river" and model["value"] == HUNYUAN.label
    assert all(changed(update) == {} for update in settings)  # Hunyuan takes no settings


def test_crafted_history_entries_are_bounded_when_restored(studio):
    crafted = {
        "job_id": "job-1",
        "kind": "<b>mochi</b>",
        "prompt": "fine",
        "width": 99999,
        "steps": "<img src=x>",
        "seed": 12,
    }
    history = {"items": [crafted, "not an entry"]}
    prompt, model, *settings = restore(history, "job-1", studio.runner.output_dir)
    by_name = dict(zip(SETTINGS, settings, strict=True))
    assert prompt["value"] == "fine" and changed(model) == {}
    assert changed(by_name["width"]) == {} and changed(by_name["steps"]) == {}
    assert by_name["seed"]["value"] == 12
    assert history_view(history, studio.runner.output_dir)[1] == ["job-1"]
    assert all(changed(update) == {} for update in restore(history, None, studio.runner.output_dir))
