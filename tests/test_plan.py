"""One plan for every request: what is priced, charged, stored and run is the same, everywhere.

The core (plan_images, plan_grid_request) in isolation, then the running studio through its
entry points: REST with gradio_client, MCP with the official client.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError
from test_mcp import mcp_call, texts
from ui_helpers import api_client, credit_figures, running_studio

from heurist_ui.errors import InvalidRequestError
from heurist_ui.fields import SETTINGS
from heurist_ui.plan import MAX_JOBS, plan_grid_request, plan_images
from heurist_ui.ui.controls import cost_line
from heurist_ui.ui.studio import visitor

GRID = {
    "prompt": "a fox",
    "neg_prompt": "",
    "model_ids": ["SDXL", "FLUX.1-dev"],
    "axis": "seed",
    "values": "1, 2, 3",
    "width": 512,
    "height": 512,
    "num_iterations": 10,
    "guidance_scale": 5,
    "seed": -1,
}


def test_a_batch_plan_is_every_job_after_style_variations_and_count(client):
    plan = plan_images(
        client.catalog,
        2,
        "a {red|blue} kite",
        "SDXL",
        style="Photographic",
        width=512,
        height=512,
        num_iterations=20,
    )
    assert len(plan.jobs) == plan.charge == 4
    assert plan.summary == "2 variations × 2 images = 4 images"
    assert [job.prompt.split(" of ")[1].split(",")[0] for job in plan.jobs] == [
        "a red kite",
        "a red kite",
        "a blue kite",
        "a blue kite",
    ]
    assert all(dict(job.notes)["style"] == "Photographic" for job in plan.jobs)
    assert plan.credits == pytest.approx(4 * 0.25 * 20 / 20)
    assert plan.output_bytes == 4 * 512 * 512 * 3 // 2


def test_a_plan_over_the_job_limit_is_refused_with_its_numbers(client):
    with pytest.raises(InvalidRequestError, match="9 variations × 8 images = 72 images"):
        plan_images(client.catalog, 8, "{a|b|c} {1|2|3}", "SDXL")
    assert len(plan_images(client.catalog, 7, "{a|b|c} {1|2|3}", "SDXL").jobs) == 63 <= MAX_JOBS


def test_a_grid_plan_has_one_job_per_cell_and_its_zip_counted(client):
    plan = plan_grid_request(client.catalog, **GRID)
    assert len(plan.jobs) == plan.charge == 6 and plan.summary == "6 cells"
    assert plan.credits == pytest.approx(sum(plan.grid.row_credits()))
    assert plan.output_bytes == 2 * 6 * 512 * 512 * 3 // 2  # the cells, and the ZIP of them


def test_the_cost_line_prices_the_plan_and_shows_a_refused_one_as_refused(studio):
    line = cost_line(studio.catalogs, "SDXL", 1024, 512, 30, 3, "a {cat|dog}", "")
    plan = plan_images(studio.catalog, 3, "a {cat|dog}", "SDXL", width=1024, height=512,
                       num_iterations=30)  # fmt: skip
    assert "2 variations × 3 images = 6 images" in line
    each = plan.price.credits / len(plan.jobs)  # Heurist's credits, as people pay them
    assert credit_figures(line)[:2] == [pytest.approx(each), pytest.approx(plan.price.credits)]
    assert "0.75 per image in the seed document's standard unit" in line
    refused = cost_line(studio.catalogs, "SDXL", 1024, 512, 30, 8, "{a|b|c} {1|2|3}", "")
    assert "not runnable" in refused and "72 images" in refused
    assert "credits" not in refused.split("not runnable")[1]


def test_a_hostile_variation_prompt_in_the_cost_line_is_refused_not_computed(studio):
    for prompt in ("{a|b}" * 700, "{a|b}" * 9000, "{" * 5000):
        line = cost_line(studio.catalogs, "SDXL", 512, 512, 20, 1, prompt, "")
        assert line.startswith("Cost: **not runnable**"), line[:200]


def test_the_settings_are_declared_once_with_everything_each_surface_needs():
    names = [s.name for s in SETTINGS]
    assert names == [
        "prompt",
        "neg_prompt",
        "model_id",
        "width",
        "height",
        "num_iterations",
        "guidance_scale",
        "seed",
    ]
    for setting in SETTINGS:
        assert setting.label and setting.help and setting.query and setting.flag and setting.mcp
    assert len({s.query for s in SETTINGS}) == len({s.flag for s in SETTINGS}) == len(SETTINGS)


class Headers(dict):
    def get(self, name, default=None):
        return super().get(name.lower(), default)


class FakeClient:
    host = "10.0.0.9"


class FakeRequest:
    """What Gradio hands a handler: headers, the connection, maybe a session."""

    def __init__(self, headers: dict, session_hash: str | None = None) -> None:
        self.headers = Headers(headers)
        self.client = FakeClient()
        if session_hash is not None:
            self.session_hash = session_hash


def test_on_a_space_the_visitor_is_the_proxys_last_hop_not_what_the_client_forged(monkeypatch):
    forged = FakeRequest({"x-forwarded-for": "1.2.3.4, 203.0.113.7"}, session_hash="s1")
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert visitor(forged) == ("address:10.0.0.9", "session:s1")  # the header is ignored
    monkeypatch.setenv("SPACE_ID", "someone/studio")
    assert visitor(forged) == ("address:203.0.113.7", "session:s1")


def test_an_mcp_request_without_a_session_hash_is_a_visitor_too():
    # Gradio's MCP server hands the handler Starlette's request: it has no session_hash.
    agent = FakeRequest({"mcp-session-id": "agent-7"})
    assert visitor(agent) == ("address:10.0.0.9", "session:agent-7")
    assert visitor(FakeRequest({})) == ("address:10.0.0.9",)


@pytest.fixture
def limited_app(sandbox, tmp_path):
    with running_studio(sandbox, tmp_path, api_key="server#key", rate_limit=5) as app:
        yield app


def generate_rest(client: Client, prompt: str, count: int) -> tuple:
    return client.predict(prompt, "", "SDXL", 256, 256, 10, 5, -1, count, "", api_name="/generate")


def test_the_rate_limit_charges_every_job_a_request_runs(limited_app, sandbox):
    api = api_client(limited_app.url)
    with pytest.raises(AppError, match=r"Too large: This request needs 8 jobs"):
        generate_rest(api, "a {red|green|blue|gold} kite", 2)  # 4 variations × 2 images
    assert sandbox.submissions == []  # refused before anything was sent, and charged nothing
    _, records = generate_rest(api, "a {red|green|blue} kite", 1)  # 3 jobs of the 5
    assert len(records) == 3
    with pytest.raises(AppError, match=r"Slow down: This request needs 3 jobs.*Try again in \d+ s"):
        generate_rest(api, "a {red|green|blue} kite", 1)
    assert len(sandbox.submissions) == 3


def test_a_grid_is_charged_its_cells(limited_app, sandbox):
    api = api_client(limited_app.url)
    arguments = [*GRID.values()]
    with pytest.raises(AppError, match="needs 6 jobs"):
        api.predict(*arguments, "", api_name="/compare")
    assert sandbox.submissions == []


def test_mcp_tools_work_under_the_rate_limit_and_count_their_jobs(limited_app, sandbox):
    result = mcp_call(
        limited_app, "generate_images", {"prompt": "a {cat|dog}", "model": "SDXL", "count": 2}
    )
    assert not result.isError, texts(result)
    assert len(json.loads(texts(result)[-1])["images"]) == 4
    again = mcp_call(
        limited_app, "generate_images", {"prompt": "a {cat|dog}", "model": "SDXL", "count": 1}
    )
    assert again.isError and "needs 2 jobs" in texts(again)[0]
    assert len(sandbox.submissions) == 4


def test_each_agent_has_its_own_bucket_on_a_space(limited_app, sandbox, monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/studio")
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"}  # forged first value, other agent
    call = {"prompt": "a kite", "model": "SDXL", "count": 5}
    assert not mcp_call(limited_app, "generate_images", call, headers=first).isError
    assert mcp_call(limited_app, "generate_images", call, headers=first).isError
    assert not mcp_call(limited_app, "generate_images", call, headers=second).isError
    enhanced = mcp_call(limited_app, "enhance_prompt", {"description": "a fox"}, headers=first)
    assert enhanced.isError and "Slow down" in texts(enhanced)[0]  # the same agent's bucket


def test_estimate_cost_quotes_what_generate_images_runs(limited_app):
    arguments = {"model": "SDXL", "width": 512, "height": 512, "steps": 20, "count": 8}
    plain = json.loads(texts(mcp_call(limited_app, "estimate_cost", arguments))[0])
    varied = json.loads(
        texts(mcp_call(limited_app, "estimate_cost", {**arguments, "prompt": "{a|b}"}))[0]
    )
    assert plain["count"] == 8 and varied["count"] == 16
    assert varied["credits_total"] == pytest.approx(2 * plain["credits_total"])
    refused = mcp_call(limited_app, "estimate_cost", {**arguments, "prompt": "{a|b|c|d|e|f|g|h|i}"})
    assert refused.isError and "72 images" in texts(refused)[0]


@pytest.fixture(scope="module")
def open_app(tmp_path_factory):
    from heurist_ui.sandbox import Sandbox

    with (
        Sandbox(port=0) as server,
        running_studio(server, tmp_path_factory.mktemp("open"), api_key="server#key") as app,
    ):
        app.sandbox = server
        yield app


HUGE = "{a|b}" * 400_000  # 2 MB


@pytest.mark.parametrize(
    ("endpoint", "data"),
    [
        ("generate", [HUGE, "", "SDXL", 256, 256, 10, 5, -1, 1, ""]),
        ("compare", ["a", "", ["SDXL"], "prompt", "a\n" * 1_000_000, 256, 256, 10, 5, -1, ""]),
        ("enhance_prompt", ["x" * 2_000_000, "SDXL", "", 3, 3, 3, 3, "", ""]),
    ],
)
def test_a_2mb_request_to_any_endpoint_is_refused_at_once_with_a_message(open_app, endpoint, data):
    response = requests.post(
        f"{open_app.url}gradio_api/call/{endpoint}", json={"data": data}, timeout=30
    )
    assert response.status_code == 413
    assert "too large" in response.json()["error"] and "8000 characters" in response.json()["error"]
    assert open_app.sandbox.submissions == [] and open_app.sandbox.chats == []


def test_an_over_long_query_string_is_refused_and_a_long_link_still_opens(open_app):
    refused = requests.get(f"{open_app.url}?prompt={'x' * 100_000}", timeout=30)
    assert refused.status_code == 414 and "too long" in refused.json()["error"]
    with pytest.raises(requests.RequestException):  # 2 MB: the HTTP server itself drops it
        requests.get(f"{open_app.url}?prompt={'x' * 2_000_000}", timeout=30).raise_for_status()
    link = requests.get(f"{open_app.url}?prompt={'x' * 8000}&neg_prompt=blurry", timeout=30)
    assert link.status_code == 200 and requests.get(open_app.url, timeout=30).ok


def test_the_largest_legitimate_requests_pass_the_limits(open_app):
    prompt = "猫" * 8000  # the longest prompt, in three-byte characters
    _, records = api_client(open_app.url).predict(
        prompt, "", "SDXL", 256, 256, 10, 5, -1, 1, "", api_name="/generate"
    )
    assert records[0]["prompt"] == prompt


def test_a_hostile_request_does_not_hold_up_a_page_loading_meanwhile(open_app):
    with ThreadPoolExecutor(4) as pool:
        hostile = [
            pool.submit(
                requests.post,
                f"{open_app.url}gradio_api/call/generate",
                json={"data": [HUGE, "", "SDXL", 256, 256, 10, 5, -1, 1, ""]},
                timeout=30,
            )
            for _ in range(3)
        ]
        page = pool.submit(requests.get, open_app.url, timeout=30)
        assert page.result().status_code == 200 and "<gradio-app" in page.result().text.lower()
        assert [call.result().status_code for call in hostile] == [413, 413, 413]


def test_under_a_small_cap_a_grid_keeps_its_cells_and_a_too_large_request_is_refused(
    sandbox, tmp_path
):
    capped = running_studio(
        sandbox, tmp_path, api_key="server#key", output_max_mb=1.0, output_grace_min=0
    )
    with capped as app:
        api = api_client(app.url)
        for _ in range(6):  # the folder is past its cap before the grid starts
            generate_rest(api, "a kite", 8)
        grid = {**GRID, "width": 128, "height": 128}
        _, cells, records = api.predict(*grid.values(), "", api_name="/compare")
        assert len(cells) == len(records) == 6 and not any("error" in r for r in records)
        assert all(Path(record["path"]).exists() for record in records if "path" in record)
        sent = len(sandbox.submissions)
        with pytest.raises(AppError, match=r"about 12 MB of images.*\(1\.0 MB\)") as refused:
            api.predict("a kite", "", "SDXL", 1024, 1024, 10, 5, -1, 8, "", api_name="/generate")
        assert str(tmp_path) not in str(refused.value)
        assert len(sandbox.submissions) == sent  # refused before anything was sent
