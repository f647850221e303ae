"""retention: saved images kept under a cap, oldest first; the cap from settings and Spaces."""

from __future__ import annotations

import os

import pytest

from heurist_ui.batch import JobRunner, prepare_batch
from heurist_ui.config import SPACE_OUTPUT_MAX_MB, load_settings
from heurist_ui.errors import InvalidRequestError
from heurist_ui.retention import Retention


def write(folder, name: str, size: int, mtime: float):
    path = folder / name
    path.write_bytes(b"x" * size)
    os.utime(path, (mtime, mtime))
    return path


def test_the_oldest_files_go_first_when_over_the_cap(tmp_path):
    old = write(tmp_path, "a.png", 400, 1)
    middle = write(tmp_path, "b.png", 400, 2)
    retention = Retention(tmp_path, max_bytes=1000)
    assert retention.total == 800
    new = write(tmp_path, "c.png", 400, 3)
    retention.add(new)
    assert not old.exists() and middle.exists() and new.exists()
    assert retention.total == 800


def test_jpeg_and_webp_images_count_and_go_like_pngs(tmp_path):
    old = write(tmp_path, "a.jpg", 400, 1)
    middle = write(tmp_path, "b.webp", 400, 2)
    ignored = write(tmp_path, ".a.tmp", 400, 0)
    retention = Retention(tmp_path, max_bytes=1000)
    assert retention.total == 800
    retention.add(write(tmp_path, "c.png", 400, 3))
    assert not old.exists() and middle.exists() and ignored.exists()


def test_a_cap_found_exceeded_at_start_is_applied_at_once(tmp_path):
    for n in range(5):
        write(tmp_path, f"{n}.png", 300, n)
    Retention(tmp_path, max_bytes=700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.png", "4.png"]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_files_younger_than_the_grace_period_stay_whatever_the_cap(tmp_path):
    clock = Clock(10_000.0)
    retention = Retention(tmp_path, max_bytes=1000, grace=600, clock=clock)
    made = [write(tmp_path, f"{n}.png", 400, 0) for n in range(4)]
    for path in made:
        retention.add(path)
        clock.now += 60
    assert all(path.exists() for path in made)  # 1600 bytes, but none is 10 minutes old
    clock.now += 600
    retention.add(write(tmp_path, "late.png", 400, 0))
    assert [path.exists() for path in made] == [False, False, False, True]
    assert retention.total <= 1000


def test_files_held_by_a_running_request_stay_until_it_ends(tmp_path):
    retention = Retention(tmp_path, max_bytes=1000, grace=0)
    with retention.in_use() as held:
        cells = [write(tmp_path, f"cell{n}.png", 400, n) for n in range(4)]
        for cell in cells:
            held.add(cell)
            retention.add(cell)
        retention.add(write(tmp_path, "other.png", 400, 10))
        assert all(cell.exists() for cell in cells)  # another request's file cannot push them out
    assert sum(cell.exists() for cell in cells) < 4  # released: the cap applies again
    assert retention.total <= 1000


def test_a_request_larger_than_the_whole_cap_is_refused_before_it_runs(tmp_path):
    retention = Retention(tmp_path, max_bytes=50 * 1024 * 1024)
    retention.check_room(40 * 1024 * 1024)
    with pytest.raises(InvalidRequestError, match=r"about 96 MB of images.*\(50 MB\)") as raised:
        retention.check_room(96 * 1024 * 1024)
    assert str(tmp_path) not in str(raised.value)
    Retention(tmp_path, max_bytes=None).check_room(10**12)  # no cap, no refusal


def test_without_a_cap_nothing_is_deleted(tmp_path):
    retention = Retention(tmp_path, max_bytes=None)
    for n in range(3):
        retention.add(write(tmp_path, f"{n}.png", 10_000, n))
    assert len(list(tmp_path.iterdir())) == 3


def test_many_images_through_the_runner_stay_under_the_cap_plus_one_batch(client, tmp_path):
    cap = 200_000
    runner = JobRunner(client, tmp_path / "out", max_workers=8, max_bytes=cap, grace=0)
    largest_batch = 0
    for _ in range(30):  # 240 images of 256²
        jobs = prepare_batch(client, 8, "a cat", "SDXL", width=256, height=256)
        sizes = [outcome.image.path.stat().st_size for outcome in runner.run(jobs, None)]
        largest_batch = max(largest_batch, sum(sizes))
    runner.close()
    on_disk = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*.png"))
    assert on_disk <= cap + largest_batch
    assert len(list((tmp_path / "out").rglob("*.png"))) < 240


@pytest.mark.parametrize(
    ("value", "expected"), [("50", 50.0), ("0.5", 0.5), ("0", None), ("none", None)]
)
def test_the_cap_comes_from_the_setting(value, expected, monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert load_settings(output_max_mb=value, env_file=None).output_max_mb == expected


def test_a_space_gets_a_cap_by_default_and_local_runs_none(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert load_settings(env_file=None).output_max_mb is None
    monkeypatch.setenv("SPACE_ID", "someone/heurist-studio")
    assert load_settings(env_file=None).output_max_mb == SPACE_OUTPUT_MAX_MB


@pytest.mark.parametrize("value", ["lots", "-5"])
def test_a_bad_cap_is_a_clear_error(value):
    with pytest.raises(ValueError, match="HEURIST_OUTPUT_MAX_MB"):
        load_settings(output_max_mb=value, env_file=None)
