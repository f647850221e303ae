"""FLUX LoRAs as generator models: planned like images, run as workflow tasks on the runner."""

from __future__ import annotations

import asyncio
import json

import pytest
from gradio_client.exceptions import AppError
from PIL import Image
from test_cli import run_cli
from test_mcp import mcp_call, texts
from ui_helpers import api_client, generate_arguments, running_studio

from heurist_ui.batch import JobRunner
from heurist_ui.errors import InvalidRequestError
from heurist_ui.flux_lora import FLUX_LORA_KINDS
from heurist_ui.generator_models import LORA_MODELS, generator_values, lora_kind, with_loras
from heurist_ui.jobkinds import WorkflowJob
from heurist_ui.plan import plan_images
from heurist_ui.pngfile import read_png_metadata
from heurist_ui.sandbox import Sandbox
from heurist_ui.ui.form import form_values

LORA = "flux-lora:heuristlogo"


@pytest.fixture
def runner(client, tmp_path):
    runner = JobRunner(client, tmp_path / "out", max_workers=4, poll_interval=0.02)
    yield runner
    runner.close()


def test_every_lora_is_a_generator_model_after_the_catalogue(client):
    catalog = with_loras(client.catalog)
    assert catalog.names[: len(client.catalog)] == client.catalog.names
    loras = catalog.models[len(client.catalog) :]
    assert [model.name for model in loras] == [kind.name for kind in FLUX_LORA_KINDS.values()]
    model = catalog.get(LORA)
    assert model.label == "FLUX LoRA · heuristlogo" == lora_kind(LORA).label
    assert (model.defaults.width, model.defaults.height, model.defaults.num_iterations) == (
        1024,
        1024,
        15,
    )
    assert not model.takes_negative_prompt and model.is_lora and model.family == "flux"
    assert LORA not in client.catalog  # Compare and list_models keep Heurist's list
    assert len(LORA_MODELS) == 15


def test_a_generator_lora_batch_sends_the_documented_parameters(sandbox, client, runner):
    plan = plan_images(
        client.catalog,
        2,
        "a {red|blue} logo",
        LORA,
        neg_prompt="blurry",
        width=640,
        height=512,
        num_iterations=12,
        guidance_scale=9,
        seed=41,
        strength_model=0.6,
    )
    assert all(isinstance(job, WorkflowJob) for job in plan.jobs)
    assert plan.summary == "2 variations × 2 images = 4 images"

    async def run():
        return [outcome async for outcome in runner.stream(plan.jobs, None)]

    outcomes = asyncio.run(run())

    assert all(outcome.error is None for outcome in outcomes)
    sent = sandbox.workflow.endpoint_calls("task_create")
    assert sorted((c["parameters"]["prompt"], c["parameters"]["noise_seed"]) for c in sent) == [
        ("a blue logo", 41),
        ("a blue logo", 42),
        ("a red logo", 41),
        ("a red logo", 42),
    ]
    for call in sent:  # no negative prompt, no guidance: the miner takes none
        assert call["workflow_id"] == "3"
        assert {
            k: v for k, v in call["parameters"].items() if k not in ("prompt", "noise_seed")
        } == {
            "lora_name": "heuristlogo",
            "width": 640,
            "height": 512,
            "steps": 12,
            "strength_model": 0.6,
        }
    saved = outcomes[0].image
    assert Image.open(saved.path).size == (640, 512)
    record = read_png_metadata(saved.path)[1]
    assert record["prompt_template"] == "a {red|blue} logo"
    assert record["credits"] == pytest.approx(0.5 * 640 * 512 / 1024**2 * 12 / 20)
    assert plan.price.credits == pytest.approx(4 * record["credits"])
    # The record restores the generator's form as it was.
    values = form_values(record)
    assert (values["model_id"], values["width"], values["num_iterations"]) == (LORA, 640, 12)
    assert values["seed"] == record["noise_seed"] and values["strength_model"] == 0.6
    assert values["prompt"] == "a {red|blue} logo"


def test_a_lora_size_must_be_a_multiple_of_64_and_the_refusal_says_the_nearest(client):
    with pytest.raises(InvalidRequestError, match="nearest are 960 and 1024"):
        plan_images(client.catalog, 1, "a logo", LORA, width=1000)
    with pytest.raises(InvalidRequestError, match=r"Height.*from 512 to 2048"):
        plan_images(client.catalog, 1, "a logo", LORA, height=256)


def test_random_seeds_differ_and_a_fixed_seed_must_leave_room_for_the_batch(client):
    plan = plan_images(client.catalog, 3, "a logo", LORA, seed=-1)
    assert len({job.values["noise_seed"] for job in plan.jobs}) == 3
    with pytest.raises(InvalidRequestError, match="seed must be at most 4294967293"):
        plan_images(client.catalog, 3, "a logo", LORA, seed=2**32 - 2)


def test_only_lora_records_are_translated():
    assert generator_values({"model_id": "SDXL", "seed": 3}) == {}
    tab_record = {"kind": LORA, "model_id": "FLUX LoRA · heuristlogo", "steps": 9, "noise_seed": 4}
    assert generator_values(tab_record) == {"model_id": LORA, "num_iterations": 9, "seed": 4}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with (
        Sandbox(port=0) as server,
        running_studio(server, tmp_path_factory.mktemp("loras"), api_key="server#key") as app,
    ):
        app.sandbox = server
        yield app


def created(app, since: int) -> list[dict]:
    return [call["parameters"] for call in app.sandbox.workflow.endpoint_calls("task_create")][
        since:
    ]


def test_rest_generate_runs_a_lora_batch_with_its_strength(app):
    api = api_client(app.url)
    since = len(created(app, 0))
    arguments = generate_arguments(
        model_id=LORA, width=768, height=512, num_iterations=8, seed=10, num_images=2
    )
    gallery, records = api.predict(**{**arguments, "strength_model": 0.25}, api_name="/generate")

    assert len(gallery) == 2 and all(item["caption"].startswith("seed 1") for item in gallery)
    sent = created(app, since)
    assert sorted(p["noise_seed"] for p in sent) == [10, 11]
    assert all(p["strength_model"] == 0.25 and p["lora_name"] == "heuristlogo" for p in sent)
    assert all("neg_prompt" not in p and "guidance_scale" not in p for p in sent)
    assert {record["kind"] for record in records} == {LORA}
    assert not app.sandbox.submissions  # nothing went to submit_job


def test_rest_generate_refuses_a_lora_size_off_the_grid_before_sending(app):
    api = api_client(app.url)
    since = len(created(app, 0))
    with pytest.raises(AppError, match="nearest are 704 and 768"):
        api.predict(**generate_arguments(model_id=LORA, width=720), api_name="/generate")
    assert created(app, since) == []


def test_mcp_generate_images_and_estimate_cost_take_a_lora_model(app):
    since = len(created(app, 0))
    arguments = {"prompt": "a {red|blue} logo", "model": LORA, "width": 640, "count": 1}
    cost = mcp_call(app, "estimate_cost", {**arguments, "steps": 10})
    assert not cost.isError, texts(cost)
    estimate = json.loads(texts(cost)[0])
    assert (estimate["model"], estimate["width"], estimate["height"]) == (LORA, 640, 1024)
    assert estimate["count"] == 2 and estimate["credits_total"] == pytest.approx(
        2 * 0.5 * 640 * 1024 / 1024**2 * 10 / 20
    )
    assert created(app, since) == []  # estimating sends nothing

    result = mcp_call(app, "generate_images", {**arguments, "strength_model": 0.5, "seed": 3})

    assert not result.isError, texts(result)
    report = json.loads(next(text for text in texts(result) if text.startswith("{")))
    assert [image["format"] for image in report["images"]] == ["jpeg", "jpeg"]
    assert {image["model"] for image in report["images"]} == {"FLUX LoRA · heuristlogo"}
    sent = created(app, since)
    assert sorted(p["prompt"] for p in sent) == ["a blue logo", "a red logo"]
    assert all(p["strength_model"] == 0.5 and p["noise_seed"] == 3 for p in sent)
    tools = {tool.name: tool for tool in mcp_call(app, None)}
    properties = tools["generate_images"].inputSchema["properties"]
    assert LORA in properties["model"]["enum"] and "strength_model" in properties
    listed = {entry["name"]: entry for entry in json.loads(texts(mcp_call(app, "list_models"))[0])}
    assert listed[LORA]["kind"] == "FLUX LoRA · heuristlogo"
    assert listed[LORA]["credits_per_standard_image"] == 0.5


def test_the_cli_generates_and_prices_a_lora_model(cli_env, sandbox):
    flags = ["--model", LORA, "--width", "640", "--steps", "10", "-n", "2", "--seed", "5"]
    priced = run_cli(cli_env, "cost", *flags)
    assert priced.returncode == 0, priced.stderr
    each = 0.5 * 640 * 1024 / 1024**2 * 10 / 20
    assert f"{LORA} (FLUX LoRA), 640×1024, 10 steps: {each:.3f} credits per image" in (
        priced.stdout
    )
    assert sandbox.workflow.endpoint_calls("task_create") == []

    made = run_cli(cli_env, "generate", "a logo", *flags, "--strength-model", "0.3")

    assert made.returncode == 0, made.stderr
    paths = [line for line in made.stdout.splitlines() if line.strip()]
    assert len(paths) == 2 and all(path.endswith(".jpg") for path in paths)
    sent = [call["parameters"] for call in sandbox.workflow.endpoint_calls("task_create")]
    assert sorted(p["noise_seed"] for p in sent) == [5, 6]
    assert all(p["strength_model"] == 0.3 and p["width"] == 640 for p in sent)
    assert sorted(read_png_metadata(path)[1]["seed"] for path in paths) == [5, 6]
    refused = run_cli(cli_env, "generate", "a logo", "--model", LORA, "--height", "1000")
    assert refused.returncode == 2 and "nearest are 960 and 1024" in refused.stderr
    assert len(sandbox.workflow.endpoint_calls("task_create")) == 2
