"""compare: grids planned cell by cell for each model, run over the sandbox, drawn and zipped."""

from __future__ import annotations

import re
import zipfile

import pytest
from PIL import Image

from heurist_ui.batch import JobRunner
from heurist_ui.compare import plan_grid, save_grid
from heurist_ui.errors import InvalidRequestError, UnknownModelError
from heurist_ui.pngfile import read_png_metadata


def plan(client, **overrides):
    arguments = {
        "prompt": "a red fox",
        "neg_prompt": "blurry",
        "model_ids": ["SDXL", "FLUX.1-dev"],
        "axis": "seed",
        "values": "1, 2",
        "width": 512,
        "height": 512,
        "num_iterations": 20,
        "guidance_scale": 5,
        "seed": -1,
        **overrides,
    }
    return plan_grid(client.catalog, **arguments)


def test_cells_are_row_major_models_by_values(client):
    grid = plan(client, values="7, 8, 9")
    assert [(c.row, c.column) for c in grid.cells] == [(r, c) for r in range(2) for c in range(3)]
    assert [c.params.seed for c in grid.cells] == [7, 8, 9, 7, 8, 9]
    assert grid.column_labels == ("seed 7", "seed 8", "seed 9")


@pytest.mark.parametrize(
    ("axis", "values", "field", "expected"),
    [
        ("steps", "10, 30", "num_iterations", [10, 30]),
        ("guidance", "3, 7.5", "guidance_scale", [3.0, 7.5]),
        ("prompt", "a fox\na wolf", "prompt", ["a fox", "a wolf"]),
    ],
)
def test_each_axis_sets_its_field(client, axis, values, field, expected):
    grid = plan(client, axis=axis, values=values, model_ids=["SDXL"])
    assert [getattr(c.params, field) for c in grid.cells] == expected


def test_a_fixed_seed_is_the_same_everywhere_and_minus_one_draws_one_for_the_grid(client):
    fixed = plan(client, axis="steps", values="10, 20", seed=42)
    assert {c.params.seed for c in fixed.cells} == {42}
    drawn = plan(client, axis="steps", values="10, 20", seed=-1)
    assert len({c.params.seed for c in drawn.cells}) == 1


def test_rows_keep_their_models_constraints(client):
    grid = plan(
        client,
        model_ids=["SDXL", "FLUX.1-dev", "HeuristLogo"],
        width=1536,
        height=1024,
        add_triggers=True,
    )
    sdxl, flux, lora = (grid.cells[i * 2].params for i in range(3))
    assert (sdxl.width, sdxl.height) == (1024, 680)  # SDXL's maximum is 1024: scaled down
    assert grid.row_labels[0] == "SDXL (scaled to 1024x680)"
    assert (flux.width, flux.height) == (1536, 1024)
    assert flux.neg_prompt == "" and sdxl.neg_prompt == "blurry"
    assert lora.prompt == "heuristai logo, a red fox"
    assert sdxl.prompt == "a red fox"


def test_the_cost_shows_each_row_so_flux_is_seen_to_cost_four_times_sdxl(client):
    rows = plan(client, width=1024, height=1024).row_credits()
    assert rows[1] == pytest.approx(4 * rows[0])


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"model_ids": []}, InvalidRequestError, "Pick at least one model"),
        ({"model_ids": ["SDXL", "NoSuch"]}, UnknownModelError, "NoSuch"),
        ({"model_ids": ["hermes-3-llama3.1-8b"]}, UnknownModelError, "Unknown model"),
        ({"model_ids": ["SDXL", "SDXL"]}, InvalidRequestError, "SDXL repeats"),
        ({"model_ids": ["SDXL"] * 9}, InvalidRequestError, "At most 8 models"),
        ({"values": "1, two"}, InvalidRequestError, "'two' is not a number"),
        ({"values": "1, 1.0"}, InvalidRequestError, "repeat"),
        ({"values": "1, 2, 3, 4, 5, 6, 7"}, InvalidRequestError, "At most 6 seed values"),
        ({"values": " , "}, InvalidRequestError, "Type the seed values"),
        ({"axis": "steps", "values": "10, 99"}, InvalidRequestError, "Steps must be between"),
        ({"axis": "steps", "values": "10.5"}, InvalidRequestError, "whole number"),
        ({"axis": "size"}, InvalidRequestError, "axis must be one of"),
        ({"prompt": "  "}, InvalidRequestError, "prompt is empty"),
    ],
)
def test_bad_grids_fail_clearly_before_anything_is_sent(client, sandbox, overrides, error, words):
    with pytest.raises(error, match=words):
        plan(client, **overrides)
    assert sandbox.submissions == []


def test_a_grid_runs_with_one_failed_cell_in_its_place(client, sandbox, tmp_path):
    grid = plan(client, model_ids=["SDXL", "Aurora", "FLUX.1-dev"], width=256, height=256)
    sandbox.add_fault("status", status=500)
    runner = JobRunner(client, tmp_path, max_workers=8)
    images, errors = {}, {}
    for outcome in runner.run([cell.params for cell in grid.cells], None):
        cell = grid.cells[outcome.index]
        target = errors if outcome.image is None else images
        target[(cell.row, cell.column)] = outcome.image or str(outcome.error)
    runner.close()
    assert len(images) == 5 and len(errors) == 1
    grid_path, zip_path = save_grid(grid, images, errors, tmp_path)
    with Image.open(grid_path) as picture:
        assert picture.width > 2 * 256 and picture.height > 3 * 256 / 2
    text, record = read_png_metadata(grid_path)
    assert record["grid"]["axis"] == "seed" and record["grid"]["values"] == ["1", "2"]
    assert sum("error" in cell for cell in record["grid"]["cells"]) == 1
    assert "a red fox" in text
    names = zipfile.ZipFile(zip_path).namelist()
    assert names[0] == "00_grid.png" and names[1:] == sorted(names[1:]) and len(names) == 6
    assert re.fullmatch(r"r01c0[12]_SDXL_seed-[12]\.png", names[1])  # row 1 first


def test_a_grids_zip_names_each_cell_by_its_own_format(client, sandbox, tmp_path):
    sandbox.image_format = "jpeg"
    grid = plan(client, model_ids=["SDXL"], width=64, height=64)
    runner = JobRunner(client, tmp_path, max_workers=2)
    outcomes = list(runner.run([cell.params for cell in grid.cells], None))
    runner.close()
    images = {(grid.cells[o.index].row, grid.cells[o.index].column): o.image for o in outcomes}

    grid_path, zip_path = save_grid(grid, images, {}, tmp_path)

    assert grid_path.suffix == ".png"
    names = zipfile.ZipFile(zip_path).namelist()
    assert names[0] == "00_grid.png" and len(names) == 3
    assert all(name.endswith(".jpg") for name in names[1:])
