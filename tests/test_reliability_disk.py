"""Disk on a long-running studio: each image stored once, the outputs kept under their cap.

Through the running app over REST, as a public Space meets it: images are served from the
output folder (not copied into Gradio's cache), and with HEURIST_OUTPUT_MAX_MB the folder stays
under the cap plus one batch, however many images are made.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from test_reliability_support import call_generate, gallery_paths, generate_data
from ui_helpers import running_studio

IMAGE_SUFFIXES = (".png", ".jpg", ".webp")


def images_under(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def test_each_image_is_stored_once_and_served_from_the_output_folder(
    sandbox, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # this test's cache alone
    with running_studio(sandbox, tmp_path, api_key="server#key") as app:
        outcome = call_generate(app.url, generate_data(num_images=3, api_key=""))
        cache = Path(app.demo.GRADIO_CACHE)
        output_dir = app.studio.runner.output_dir.resolve()

        assert outcome.ok and len(outcome.gallery) == 3
        served = gallery_paths(outcome)
        assert all(path.resolve().is_relative_to(output_dir) for path in served)
        assert images_under(cache) == []  # no second copy
        for item in outcome.gallery:
            assert call_ok(item["image"]["url"])


def call_ok(url: str) -> bool:
    response = requests.get(url, timeout=10)
    return response.status_code == 200 and response.content.startswith(b"\x89PNG")


@pytest.mark.load  # 160 images: `-m "not load"` skips it, the default run keeps it
def test_a_capped_studio_keeps_its_outputs_under_the_cap_plus_one_batch(
    sandbox, tmp_path, monkeypatch
):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    cap_mb = 1.0  # a batch of 8 at 256² is planned at 0.75 MB: under the cap on its own
    studio = running_studio(
        sandbox, tmp_path, api_key="server#key", output_max_mb=cap_mb, output_grace_min=0
    )
    with studio as app:
        largest_batch = 0
        for _ in range(20):  # 160 images of 256², about 4 MB in all
            outcome = call_generate(app.url, generate_data(num_images=8, api_key=""))
            assert outcome.ok, outcome.message
            sizes = [path.stat().st_size for path in gallery_paths(outcome) if path.exists()]
            largest_batch = max(largest_batch, sum(sizes))
        cache = Path(app.demo.GRADIO_CACHE)
        kept = images_under(app.studio.runner.output_dir) + images_under(cache)

    on_disk = sum(path.stat().st_size for path in kept)
    assert on_disk <= cap_mb * 1024 * 1024 + largest_batch
    assert len(kept) < 160
