"""compare: grids planned cell by cell for each model, run over the sandbox, drawn and zipped."""

from __future__ import annotations

import asyncio
import re
import zipfile

import pytest
from PIL import Image

from heurist_ui.batch import JobRunner
from heurist_ui.compare import cell_thumbnail, plan_grid, save_grid
from heurist_ui.compare_run import EveryCellFailed, run_grid
from heurist_ui.errors import InvalidRequestError, UnknownModelError
from heurist_ui.flux_lora import FLUX_LORA_KINDS
from heurist_ui.jobkinds import WorkflowJob
from heurist_ui.plan import plan_grid_request
from heurist_ui.pngfile import read_png_metadata

LORA = "flux-lora:heuristlogo"


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
        ({"model_ids": ["flux-lora:nosuch"]}, InvalidRequestError, "Unknown LoRA 'nosuch'"),
        ({"model_ids": [LORA, LORA]}, InvalidRequestError, "heuristlogo repeats"),
        (
            {"model_ids": ["SDXL", LORA], "axis": "guidance", "values": "3, 5"},
            InvalidRequestError,
            "FLUX LoRA · heuristlogo takes no guidance scale",
        ),
        (
            {"model_ids": [LORA], "axis": "steps", "values": "10, 60"},
            InvalidRequestError,
            "1 to 50",
        ),
        (
            {"model_ids": [LORA], "axis": "steps", "values": "5", "seed": 2**40},
            InvalidRequestError,
            "Seed must be",
        ),
        ({"model_ids": [LORA], "prompt": " "}, InvalidRequestError, "prompt is empty"),
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


def test_a_lora_row_is_workflow_jobs_with_the_grids_prompt_size_steps_and_seed(client):
    grid = plan(client, model_ids=["SDXL", LORA], axis="steps", values="10, 20", seed=42)
    sdxl, lora = grid.cells[0], grid.cells[2]
    assert (
        isinstance(lora.params, WorkflowJob) and lora.params.kind is FLUX_LORA_KINDS["heuristlogo"]
    )
    assert lora.params.parameters() == {
        "prompt": "a red fox",  # no negative prompt, no guidance: the miner takes neither
        "lora_name": "heuristlogo",
        "width": 512,
        "height": 512,
        "steps": 10,
        "strength_model": 1,
        "noise_seed": 42,
    }
    assert [c.setting("num_iterations") for c in grid.cells] == [10, 20, 10, 20]
    assert {c.setting("seed") for c in grid.cells} == {42}
    assert sdxl.params.neg_prompt == "blurry"
    assert grid.row_labels == ("SDXL", "FLUX LoRA · heuristlogo")


@pytest.mark.parametrize(
    ("size", "sent", "label"),
    [
        ((1024, 768), (1024, 768), "FLUX LoRA · heuristlogo"),
        ((256, 256), (512, 512), "FLUX LoRA · heuristlogo (scaled to 512x512)"),
        ((600, 400), (768, 512), "FLUX LoRA · heuristlogo (scaled to 768x512)"),
        ((1000, 600), (1024, 576), "FLUX LoRA · heuristlogo (scaled to 1024x576)"),
        ((4096, 1024), (2048, 512), "FLUX LoRA · heuristlogo (scaled to 2048x512)"),
    ],
)
def test_a_lora_rows_size_is_fitted_to_its_bounds_and_multiple_and_noted(client, size, sent, label):
    grid = plan(client, model_ids=[LORA], width=size[0], height=size[1])
    assert {cell.size for cell in grid.cells} == {sent}
    assert grid.row_labels == (label,)


def test_a_grid_with_a_lora_row_counts_prices_and_charges_its_cells(client):
    request = {
        "prompt": "a red fox",
        "neg_prompt": "",
        "model_ids": ["SDXL", LORA],
        "axis": "seed",
        "values": "1, 2, 3",
        "width": 1024,
        "height": 1024,
        "num_iterations": 20,
        "guidance_scale": 5,
        "seed": -1,
    }
    grid_plan = plan_grid_request(client.catalog, **request)
    sd_only = plan_grid_request(client.catalog, **{**request, "model_ids": ["SDXL"]})
    lora = FLUX_LORA_KINDS["heuristlogo"].prepare("a red fox", steps=20).credits
    assert lora == pytest.approx(0.5)  # the credits page: 0.5 for 1024² at 20 steps
    assert grid_plan.charge == len(grid_plan.jobs) == 6
    assert grid_plan.summary == "6 cells"
    assert grid_plan.price.credits == pytest.approx(sd_only.price.credits + 3 * lora)
    assert grid_plan.credits == pytest.approx(sd_only.credits + 3 * lora)
    assert [p.credits for p in grid_plan.grid.row_prices()] == pytest.approx(
        [sd_only.price.credits, 3 * lora]
    )
    assert grid_plan.output_bytes > sd_only.output_bytes


def run(runner, grid, key=None):
    """Every step of compare_run.run_grid, as a list."""

    async def steps():
        return [step async for step in run_grid(runner, grid, key)]

    return asyncio.run(steps())


def test_a_grid_with_an_sd_row_and_a_lora_row_runs_draws_records_and_zips_both(
    client, sandbox, tmp_path
):
    grid = plan(
        client,
        model_ids=["SDXL", LORA],
        axis="steps",
        values="10, 20",
        width=600,
        height=400,
        seed=42,
    )
    runner = JobRunner(client, tmp_path, max_workers=4, poll_interval=0.02)
    try:
        steps = run(runner, grid)
    finally:
        runner.close()

    images = [(s.payload["model_id"], s.payload["model_input"]["SD"]) for s in sandbox.submissions]
    assert sorted(sd["num_iterations"] for _, sd in images) == [10, 20]
    assert {
        (model, sd["width"], sd["height"], sd["seed"], sd["neg_prompt"]) for model, sd in images
    } == {("SDXL", 600, 400, 42, "blurry")}
    tasks = sandbox.workflow.endpoint_calls("task_create")
    assert [t["workflow_id"] for t in tasks] == ["3", "3"]
    assert sorted(t["parameters"]["steps"] for t in tasks) == [10, 20]
    for task in tasks:
        assert {k: v for k, v in task["parameters"].items() if k != "steps"} == {
            "prompt": "a red fox",
            "lora_name": "heuristlogo",
            "width": 768,
            "height": 512,
            "strength_model": 1,
            "noise_seed": 42,
        }
    assert [step.done for step in steps] == [1, 2, 3, 4, 4]
    final = steps[-1]
    assert final.grid_path is not None and not final.errors
    records = final.records()
    assert [(r["row"], r["column"]) for r in records] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r["model_id"] for r in records] == ["SDXL"] * 2 + ["FLUX LoRA · heuristlogo"] * 2
    assert [r.get("steps", r.get("num_iterations")) for r in records] == [10, 20, 10, 20]
    assert records[2]["kind"] == LORA and records[2]["noise_seed"] == 42
    assert [caption for _, caption in final.gallery()][2] == "FLUX LoRA · heuristlogo · steps 10"
    with Image.open(final.grid_path) as picture:  # two rows of 3:2 cells under the header
        assert picture.size == (220 + 2 * (320 + 6), 64 + 2 * (213 + 6))
        thumbnail = cell_thumbnail(grid, final.images[(1, 0)].path)  # row 2, column 1
        box = (220, 64 + 219, 220 + thumbnail.width, 64 + 219 + thumbnail.height)
        assert picture.convert("RGB").crop(box).tobytes() == thumbnail.tobytes()
    _, grid_record = read_png_metadata(final.grid_path)
    assert grid_record["grid"]["rows"] == ["SDXL", "FLUX LoRA · heuristlogo (scaled to 768x512)"]
    assert grid_record["model_id"] == "SDXL, FLUX LoRA · heuristlogo"
    assert not any("error" in cell for cell in grid_record["grid"]["cells"])
    names = zipfile.ZipFile(final.zip_path).namelist()
    assert names[3:] == [
        "r02c01_FLUX-LoRA-heuristlogo_steps-10.jpg",
        "r02c02_FLUX-LoRA-heuristlogo_steps-20.jpg",
    ]
    _, cell_record = read_png_metadata(final.images[(1, 1)].path)
    assert cell_record["steps"] == 20 and cell_record["kind"] == LORA


def test_a_grid_whose_every_cell_fails_says_why_and_saves_nothing(client, sandbox, tmp_path):
    grid = plan(client, model_ids=["SDXL"], width=64, height=64)
    sandbox.add_fault("status", status=500, times=2)
    runner = JobRunner(client, tmp_path, max_workers=2)
    try:
        with pytest.raises(EveryCellFailed, match="Heurist"):
            run(runner, grid)
    finally:
        runner.close()
    assert not list(tmp_path.rglob("*.zip"))
