"""The launched app through gradio_client: the public /generate endpoint, errors and keys."""

from __future__ import annotations

import gzip
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError
from ui_helpers import PARAMETERS, api_client, generate_arguments, running_studio
from waiting import release_once_held

from heurist_ui.client import RECORD_KEYS
from heurist_ui.pngfile import read_png_metadata
from heurist_ui.sandbox import Sandbox, key_fingerprint

# Sentinels: if either shows up in a page, a file or a log line, a key leaked.
SERVER_KEY = "server-user#SENTINEL-server-7f3a9c"
ALICE_KEY = "alice#SENTINEL-alice-51d0"
BOB_KEY = "bob#SENTINEL-bob-c28e"


@pytest.fixture(scope="module")
def slow_sandbox():
    """The module's sandbox: tests that need jobs to overlap hold them (Sandbox.hold)."""
    with Sandbox(port=0) as server:
        yield server


@pytest.fixture(scope="module")
def app(slow_sandbox, tmp_path_factory):
    with running_studio(slow_sandbox, tmp_path_factory.mktemp("api"), api_key=SERVER_KEY) as app:
        yield app


@pytest.fixture(scope="module")
def api(app):
    return api_client(app.url)


@pytest.fixture(autouse=True)
def fresh_sandbox(slow_sandbox):
    slow_sandbox.reset()


def arguments(**overrides) -> dict:
    return generate_arguments(neg_prompt="", **overrides)


def generate(client: Client, **overrides) -> tuple[list, list]:
    return client.predict(**arguments(**overrides), api_name="/generate")


def fingerprints_by_job(sandbox: Sandbox) -> dict[str, str | None]:
    return {sub.job_id: sub.key_fingerprint for sub in sandbox.submissions}


def test_three_images_come_back_with_three_records(api, slow_sandbox):
    gallery, records = generate(api, num_images=3)
    assert len(gallery) == 3
    assert all(item["image"] and "seed " in item["caption"] for item in gallery)
    assert len(records) == 3
    for record in records:
        assert set(RECORD_KEYS) <= set(record) <= {*RECORD_KEYS, "model_type", "created_at"}
        assert isinstance(record["seed"], int) and record["seed"] >= 0
        assert (record["width"], record["height"], record["model_id"]) == (512, 512, "SDXL")
    assert len({record["seed"] for record in records}) == 3
    assert len({record["job_id"] for record in records}) == 3


def test_three_images_run_as_three_jobs_at_once(api, slow_sandbox):
    with slow_sandbox.hold() as gate:
        job = api.submit(**arguments(num_images=3), api_name="/generate")
        gate.wait_for(3)  # all three at the API, none answered yet
        gate.release()
        job.result(timeout=60)
    submissions = slow_sandbox.submissions
    assert len(submissions) == 3
    first_answer = min(sub.answered_at for sub in submissions)
    assert all(sub.received_at < first_answer for sub in submissions)


def test_images_stream_in_as_each_job_finishes(api):
    job = api.submit(**arguments(num_images=3), api_name="/generate")
    job.result(timeout=30)
    sizes = [len(gallery) for gallery, _ in job.outputs()]
    assert sizes[-1] == 3
    assert sizes == sorted(sizes) and len(set(sizes)) > 1


def test_served_images_are_our_pngs_with_their_parameters(api):
    gallery, records = generate(api, num_images=2)
    by_job = {record["job_id"]: record for record in records}
    for item in gallery:
        response = requests.get(item["image"]["url"], timeout=10)
        assert response.status_code == 200
        assert response.content.startswith(b"\x89PNG")
        text, embedded = read_png_metadata(response.content)
        assert embedded["seed"] == by_job[embedded["job_id"]]["seed"]
        assert f"Seed: {embedded['seed']}" in text


def test_a_fixed_seed_gives_consecutive_seeds(api):
    _, records = generate(api, seed=77, num_images=2)
    assert sorted(record["seed"] for record in records) == [77, 78]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prompt": ""}, "The prompt is empty"),
        ({"width": "abc"}, "Width must be a number, not 'abc'"),
        ({"model_id": "NoSuchModel"}, "Unknown model 'NoSuchModel'"),
        ({"num_images": 12}, "Images must be a whole number from 1 to 8"),
        ({"api_key": "no-credits"}, "no credits left (402)"),
    ],
)
def test_errors_come_back_as_clear_messages(api, slow_sandbox, overrides, message):
    with pytest.raises(AppError) as raised:
        generate(api, **overrides)
    assert message in str(raised.value)
    if "api_key" not in overrides:
        assert slow_sandbox.submissions == []


def test_a_script_asking_for_spanish_still_gets_english(app, slow_sandbox):
    # The page's messages follow its visitor's language; a script's answers stay as they were.
    headers = {"Accept-Language": "es-MX"}
    spanish = Client(app.url, verbose=False, download_files=False, headers=headers)
    with pytest.raises(AppError) as raised:
        generate(spanish, prompt="")
    assert "The prompt is empty. Describe the image you want." in str(raised.value)
    with pytest.raises(AppError) as raised:
        generate(spanish, width=4096)
    assert "Width must be between" in str(raised.value)
    assert slow_sandbox.submissions == []


def test_each_users_key_is_used_for_their_jobs_only(app, slow_sandbox):
    alice, bob = (api_client(app.url) for _ in range(2))
    with ThreadPoolExecutor(2) as pool, slow_sandbox.hold() as gate:
        alices = pool.submit(generate, alice, api_key=ALICE_KEY, num_images=2)
        bobs = pool.submit(generate, bob, api_key=BOB_KEY, num_images=2)
        gate.wait_for(4)  # both users' jobs at the API at once
        gate.release()
        alice_records, bob_records = alices.result()[1], bobs.result()[1]
    keys = fingerprints_by_job(slow_sandbox)
    assert {keys[r["job_id"]] for r in alice_records} == {key_fingerprint(ALICE_KEY)}
    assert {keys[r["job_id"]] for r in bob_records} == {key_fingerprint(BOB_KEY)}
    # The two users' jobs really ran at the same time.
    submissions = slow_sandbox.submissions
    assert max(s.received_at for s in submissions) < min(s.answered_at for s in submissions)


def test_an_empty_key_uses_the_servers_key(api, slow_sandbox):
    _, records = generate(api, api_key="", num_images=2)
    keys = fingerprints_by_job(slow_sandbox)
    assert {keys[r["job_id"]] for r in records} == {key_fingerprint(SERVER_KEY)}


def test_only_generate_and_the_agent_tools_are_public(app):
    info = requests.get(f"{app.url}gradio_api/info", timeout=10).json()
    tools = ["/generate_images", "/list_models", "/estimate_cost", "/enhance_prompt_tool"]
    tools += ["/generate_video", "/generate_flux_lora"]
    rest = ["/generate", "/compare", "/enhance_prompt", "/video", "/flux_lora"]
    assert sorted(info["named_endpoints"]) == sorted([*rest, *tools])
    assert not info["unnamed_endpoints"]
    names = [p["parameter_name"] for p in info["named_endpoints"]["/generate"]["parameters"]]
    assert names == list(PARAMETERS)


def test_the_agent_tools_live_on_their_own_page_not_the_studios(app):
    """Their hidden components would cost every visitor's browser time to process."""
    from heurist_ui.ui.mcp_tools import TOOLS_PAGE

    studio_page = requests.get(app.url, timeout=10).text
    tools_page = requests.get(f"{app.url}{TOOLS_PAGE}", timeout=10)
    assert tools_page.status_code == 200
    for name in ("generate_images", "estimate_cost", "strength_model"):
        assert name in tools_page.text, name
    for name in ("generate_images", "estimate_cost"):
        assert name not in studio_page, name
    assert "/enhance_prompt" in studio_page  # the page's API docs list its own page's endpoints
    assert "tools for AI agents" in tools_page.text
    config = requests.get(f"{app.url}config", timeout=10).json()
    assert [page[0] for page in config["pages"] if page[2]] == [""]  # no navbar to it


def test_the_page_and_config_never_carry_the_servers_key(app):
    secret = SERVER_KEY.split("#", 1)[1]
    for path in ("", "config", "gradio_api/info", "agent-tools"):
        response = requests.get(f"{app.url}{path}", timeout=10)
        assert response.status_code == 200, path
        assert secret not in response.text, path
        assert "SENTINEL" not in response.text, path


def test_keys_never_reach_the_servers_disk_or_logs(api, app, caplog):
    caplog.set_level(logging.DEBUG)
    generate(api, api_key=ALICE_KEY)
    generate(api, api_key="")
    written = [
        path
        for folder in (app.settings.output_dir, app.settings.cache_dir)
        for path in folder.rglob("*")
        if path.is_file()
    ]
    assert any(path.suffix == ".png" for path in written)
    for path in written:
        assert b"SENTINEL" not in path.read_bytes(), path
    assert "Submitting" in caplog.text  # the app's own log lines were captured
    assert "SENTINEL" not in caplog.text


def test_compare_runs_every_cell_at_once_and_returns_grid_cells_and_records(api, slow_sandbox):
    release_once_held(slow_sandbox.hold(), 4)  # the four cells are answered once all arrived
    grid, cells, records = api.predict(
        "a red fox",
        "blurry",
        ["SDXL", "FLUX.1-dev"],
        "seed",
        "1, 2",
        256,
        256,
        10,
        5,
        -1,
        "",
        api_name="/compare",
    )
    assert grid and len(cells) == 4
    assert [(r["row"], r["column"], r["seed"]) for r in records] == [
        (0, 0, 1),
        (0, 1, 2),
        (1, 0, 1),
        (1, 1, 2),
    ]
    assert set(RECORD_KEYS) <= set(records[0])
    jobs = slow_sandbox.submissions
    # All four were at the API together: each arrived before any was answered.
    assert max(job.received_at for job in jobs) < min(job.answered_at for job in jobs)


def test_compare_takes_a_flux_lora_row_and_sends_it_to_the_workflow_api(api, slow_sandbox):
    grid, cells, records = api.predict(
        "a red fox",
        "blurry",
        ["SDXL", "flux-lora:wsb"],
        "seed",
        "1, 2",
        512,
        512,
        10,
        5,
        -1,
        "",
        api_name="/compare",
    )
    assert grid and len(cells) == 4
    assert [(r["row"], r["model_id"], r.get("seed", r.get("noise_seed"))) for r in records] == [
        (0, "SDXL", 1),
        (0, "SDXL", 2),
        (1, "FLUX LoRA · wsb", 1),
        (1, "FLUX LoRA · wsb", 2),
    ]
    tasks = slow_sandbox.workflow.endpoint_calls("task_create")
    assert sorted(t["parameters"]["noise_seed"] for t in tasks) == [1, 2]
    assert {t["parameters"]["lora_name"] for t in tasks} == {"wsb"}
    assert len(slow_sandbox.submissions) == 2  # the SDXL row's cells


def test_compare_refuses_a_bad_grid_with_a_message_and_sends_nothing(api, slow_sandbox):
    with pytest.raises(AppError, match="'two' is not a number"):
        api.predict(
            "a fox", "", ["SDXL"], "seed", "1, two", 256, 256, 10, 5, -1, "", api_name="/compare"
        )
    assert slow_sandbox.submissions == []


@pytest.mark.parametrize(
    ("models", "axis", "words"),
    [
        (["NoSuchModel"], "seed", "Models (rows, up to 8): 'NoSuchModel' is not one of the"),
        (["SDXL", "<b>Gone</b>"], "seed", "'<b>Gone</b>' is not one of the choices"),
        (["SDXL"], "colour", "Columns: 'colour' is not one of the choices"),
    ],
)
def test_compare_refuses_an_unknown_model_or_axis_in_one_log_line(
    api, slow_sandbox, caplog, capfd, models, axis, words
):
    caplog.set_level(logging.INFO)
    with pytest.raises(AppError) as raised:
        api.predict("a fox", "", models, axis, "1, 2", 256, 256, 10, 5, -1, "", api_name="/compare")
    assert words in str(raised.value).replace("&lt;", "<").replace("&gt;", ">")
    assert "Choose from: " in str(raised.value)
    assert slow_sandbox.submissions == []
    refusals = [r for r in caplog.records if r.getMessage().startswith("Refused: ")]
    assert len(refusals) == 1 and not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in capfd.readouterr().err


def test_a_huge_query_string_is_refused_at_once_without_a_traceback(app, capfd):
    response = requests.get(f"{app.url}?prompt={'a' * 100_000}", timeout=30)
    assert response.status_code == 414
    assert "This link is too long" in response.text
    try:  # past its own limit, uvicorn refuses the request line itself (one warning)
        status = requests.get(f"{app.url}?prompt={'a' * 2_000_000}", timeout=30).status_code
    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
        status = None
    assert status in (None, 400, 414)
    assert requests.get(f"{app.url}?prompt={'a' * 8000}", timeout=30).status_code == 200
    assert "Traceback" not in capfd.readouterr().err


def test_the_page_travels_compressed_while_images_and_event_streams_go_as_they_are(
    api, app, slow_sandbox
):
    # The page: gzip for a browser that takes it, the same page once unpacked.
    packed = requests.get(app.url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    body = packed.raw.read(decode_content=False)
    plain = requests.get(app.url, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(body) == plain.content and len(body) < len(plain.content) / 4
    # An image is sent as it is: compressing a PNG again costs CPU and saves nothing.
    gallery, _ = generate(api)
    image = requests.get(
        gallery[0]["image"]["url"], headers={"Accept-Encoding": "gzip"}, timeout=30
    )
    assert "Content-Encoding" not in image.headers and image.content.startswith(b"\x89PNG")
    # A run's event stream is not held back to be packed: the first image's event arrives
    # while the second job is still held by the sandbox.
    with slow_sandbox.hold() as gate:
        posted = requests.post(
            f"{app.url}gradio_api/call/generate",
            json={"data": [arguments(num_images=2)[name] for name in PARAMETERS]},
            timeout=30,
        )
        with requests.get(
            f"{app.url}gradio_api/call/generate/{posted.json()['event_id']}",
            headers={"Accept-Encoding": "gzip"},
            stream=True,
            timeout=60,
        ) as stream:
            assert "Content-Encoding" not in stream.headers
            gate.wait_for(2).release(1)
            lines = stream.iter_lines(decode_unicode=True)
            assert next(line for line in lines if line.startswith("event: generating"))
            assert gate.held == 1
            gate.release()
