"""The sandbox API over real HTTP: the submit_job contract, images, models.json and every fault."""

from __future__ import annotations

import copy
import io
import json
import logging
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageChops, ImageStat, UnidentifiedImageError
from waiting import wait_until

from bench.procs import free_port
from heurist_ui.sandbox import (
    DEFAULT_HUGE_BYTES,
    IMAGE_FORMATS,
    LLM_ENTRIES,
    Sandbox,
    key_fingerprint,
    render_image,
    render_placeholder,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED = REPO_ROOT / "heurist_ui" / "data" / "models.json"
KEY = "user-1#secret-key-123456"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_TYPES = {"sd15", "sdxl10", "composite15", "compositexl", "flux-dev", "flux-dev-lora"}
# format: (URL extension, Content-Type, Pillow's format, bytes at 1024², as photos weigh ± 30 %)
FORMATS = {
    "placeholder": ("png", "image/png", "PNG", range(1, 150_000)),
    "png": ("png", "image/png", "PNG", range(1_050_000, 1_950_000)),
    "jpeg": ("jpg", "image/jpeg", "JPEG", range(210_000, 390_000)),
    "webp": ("webp", "image/webp", "WEBP", range(100_000, 300_000)),
}
TIMEOUT = (2, 5)


def body(job_id: str = "sdk-image-1", model_id: str = "SDXL", **sd: object) -> dict:
    """A valid submit_job body, with model_input.SD fields overridden by sd."""
    fields = {
        "prompt": "a red fox in the snow",
        "neg_prompt": "blurry",
        "num_iterations": 20,
        "width": 512,
        "height": 768,
        "guidance_scale": 7.5,
        "seed": 1234,
        **sd,
    }
    return {
        "job_id": job_id,
        "model_input": {"SD": fields},
        "model_type": "SD",
        "model_id": model_id,
        "deadline": 60,
        "priority": 1,
    }


def submit(
    sb: Sandbox, payload: object = None, key: str | None = KEY, timeout: object = TIMEOUT
) -> requests.Response:
    """POST /submit_job with a Bearer key (none if key is None)."""
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    payload = body() if payload is None else payload
    return requests.post(f"{sb.url}/submit_job", json=payload, headers=headers, timeout=timeout)


@pytest.fixture(scope="module")
def sandbox_module():
    """One sandbox for this module's tests that need no special settings."""
    with Sandbox(port=0) as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_module):
    """The module's sandbox with no faults, submissions or images, no latency, placeholders."""
    sandbox_module.reset()
    sandbox_module.latency = 0.0
    sandbox_module.image_format = "placeholder"
    return sandbox_module


def wait_for_submissions(sb: Sandbox, count: int) -> list:
    """The sandbox's submissions once it has recorded count of them."""
    wait_until(lambda: len(sb.submissions) >= count, f"{count} recorded submissions")
    return sb.submissions


# --- the submit_job contract -------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(512, 768), (1024, 1024), (680, 1024), (8, 3)])
def test_submit_answers_a_quoted_url_of_a_png_of_the_requested_size(sandbox, width, height):
    answer = submit(sandbox, body(width=width, height=height))

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.text == f'"{sandbox.url}/images/sdk-image-1.png"'
    image = requests.get(answer.json(), timeout=TIMEOUT)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert int(image.headers["Content-Length"]) == len(image.content)
    assert Image.open(io.BytesIO(image.content)).size == (width, height)


@pytest.mark.parametrize("image_format", IMAGE_FORMATS)
def test_each_image_format_answers_its_type_at_a_realistic_size(sandbox, image_format):
    extension, content_type, pillow_format, size_range = FORMATS[image_format]
    sandbox.image_format = image_format

    # Rendering 1024² takes a while on a busy machine: a read timeout to match, not a race.
    url = submit(sandbox, body(width=1024, height=1024), timeout=(2, 60)).json()
    answer = requests.get(url, timeout=(2, 60))

    assert url == f"{sandbox.url}/images/sdk-image-1.{extension}"
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert len(answer.content) in size_range
    with Image.open(io.BytesIO(answer.content)) as image:
        assert (image.format, image.size, image.mode) == (pillow_format, (1024, 1024), "RGB")
        image.load()
    if image_format == "webp":
        assert answer.content[12:16] == b"VP8 "  # lossy, not VP8L


@pytest.mark.parametrize("image_format", ["png", "jpeg", "webp"])
def test_photo_sizes_scale_with_pixels(image_format):
    def size(width: int, height: int) -> int:
        return len(render_image(width, height, image_format, prompt="p", model_id="m", seed=1))

    assert 0.18 < size(512, 512) / size(1024, 1024) < 0.32
    assert 0.4 < size(1024, 512) / size(1024, 1024) < 0.6


@pytest.mark.parametrize(("width", "height"), [(1, 1), (7, 300), (33, 65), (680, 1024)])
def test_photo_formats_show_the_same_picture(width, height):
    def decoded(image_format: str, seed: int = 5) -> Image.Image:
        data = render_image(width, height, image_format, prompt="p", model_id="m", seed=seed)
        image = Image.open(io.BytesIO(data))
        assert image.size == (width, height)
        return image.convert("RGB")

    png = decoded("png")
    for lossy in ("jpeg", "webp"):
        difference = ImageStat.Stat(ImageChops.difference(png, decoded(lossy))).mean
        assert max(difference) < 12, lossy
    assert png.tobytes() != decoded("png", seed=6).tobytes()


def test_the_spliced_png_is_one_valid_zlib_stream():
    data = render_image(64, 100, "png", prompt="p", model_id="m", seed=2)

    length = int.from_bytes(data[33:37], "big")
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + length])  # checks the spliced Adler-32
    assert len(raw) == 100 * (1 + 64 * 3)
    assert render_image(64, 100, "png", prompt="p", model_id="m", seed=2) == data


def test_image_format_is_steered_over_http_and_kept_per_job(sandbox):
    control = f"{sandbox.url}/_sandbox/image_format"
    first = submit(sandbox, body("first")).json()

    answer = requests.post(control, json={"format": "jpeg"}, timeout=TIMEOUT)
    second = submit(sandbox, body("second")).json()
    requests.post(f"{sandbox.url}/_sandbox/reset", timeout=TIMEOUT)

    assert answer.json() == {"format": "jpeg"}
    assert first.endswith("/first.png") and second.endswith("/second.jpg")
    assert sandbox.image_format == "jpeg"  # a reset keeps it, as it keeps the latency
    third = submit(sandbox, body("third")).json()
    assert requests.get(third, timeout=TIMEOUT).headers["Content-Type"] == "image/jpeg"
    wrong = third.removesuffix(".jpg") + ".png"
    assert requests.get(wrong, timeout=TIMEOUT).status_code == 404
    for bad in ({"format": "gif"}, {"seconds": 1}, ["jpeg"], "jpeg"):
        assert requests.post(control, json=bad, timeout=TIMEOUT).status_code == 400
    assert sandbox.image_format == "jpeg"


def test_image_format_must_be_known():
    with pytest.raises(ValueError, match="image_format"):
        Sandbox(image_format="gif")


def test_image_fault_urls_follow_the_image_format(sandbox):
    sandbox.image_format = "webp"
    sandbox.add_fault("image", mode="missing")

    url = submit(sandbox).json()

    assert url.endswith(".webp")
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_submission_records_payload_status_url_and_key_fingerprint(sandbox):
    url = submit(sandbox).json()

    (submission,) = sandbox.submissions
    assert submission.job_id == "sdk-image-1"
    assert submission.payload == body()
    assert submission.key_fingerprint == key_fingerprint(KEY)
    assert submission.status == 200
    assert submission.image_url == url
    assert submission.received_at <= submission.answered_at
    assert sandbox.jobs == [submission]


def test_key_fingerprint_is_16_hex_digits_of_sha256():
    assert key_fingerprint("abc") == "ba7816bf8f01cfea"


def test_same_seed_prompt_and_model_render_the_same_image(sandbox):
    first = requests.get(submit(sandbox, body("a")).json(), timeout=TIMEOUT).content
    again = requests.get(submit(sandbox, body("b")).json(), timeout=TIMEOUT).content
    other = requests.get(submit(sandbox, body("c", seed=99)).json(), timeout=TIMEOUT).content

    assert first == again
    assert first != other


def test_seed_minus_one_picks_a_random_seed(sandbox):
    first = requests.get(submit(sandbox, body("a", seed=-1)).json(), timeout=TIMEOUT).content
    second = requests.get(submit(sandbox, body("b", seed=-1)).json(), timeout=TIMEOUT).content

    assert first != second


def test_flux_accepts_a_null_negative_prompt(sandbox):
    answer = submit(sandbox, body(model_id="FLUX.1-dev", neg_prompt=None, width=680, height=1024))

    assert answer.status_code == 200


def test_unknown_image_is_404(sandbox):
    assert requests.get(f"{sandbox.url}/images/nope.png", timeout=TIMEOUT).status_code == 404


def test_keep_alive_connection_serves_several_requests(sandbox):
    with requests.Session() as session:
        for number in range(3):
            answer = session.post(
                f"{sandbox.url}/submit_job",
                json=body(f"job-{number}"),
                headers={"Authorization": f"Bearer {KEY}"},
                timeout=TIMEOUT,
            )
            assert answer.status_code == 200
            assert session.get(answer.json(), timeout=TIMEOUT).status_code == 200


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": KEY}]
)
def test_missing_or_empty_bearer_key_is_401(sandbox, headers):
    answer = requests.post(
        f"{sandbox.url}/submit_job", json=body(), headers=headers, timeout=TIMEOUT
    )

    assert (answer.status_code, answer.text) == (401, "Unauthorized")
    assert sandbox.submissions[0].status == 401
    assert sandbox.jobs == []


def test_only_listed_keys_are_accepted_when_keys_are_given():
    with Sandbox(valid_keys=[KEY]) as sb:
        assert submit(sb, key=KEY).status_code == 200
        assert submit(sb, key="someone#else").status_code == 401


def test_no_credits_key_is_402(sandbox):
    answer = submit(sandbox, key="no-credits")

    assert (answer.status_code, answer.text) == (402, "Insufficient credits")


def _without(path: tuple[str, ...]):
    def change(payload: dict) -> None:
        target = payload
        for name in path[:-1]:
            target = target[name]
        del target[path[-1]]

    return change


def _setting(value: object, *path: str):
    def change(payload: dict) -> None:
        target = payload
        for name in path[:-1]:
            target = target[name]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _without(("model_input",)),
        _without(("model_input", "SD")),
        _setting("", "job_id"),
        _without(("model_id",)),
        _without(("model_input", "SD", "prompt")),
        _setting("60", "deadline"),
        _setting(1.5, "priority"),
        _setting("NoSuchModel", "model_id"),
        _setting(LLM_ENTRIES[0]["name"], "model_id"),
        _setting(51, "model_input", "SD", "num_iterations"),
        _setting(0, "model_input", "SD", "num_iterations"),
        _setting(0, "model_input", "SD", "width"),
        _setting(-8, "model_input", "SD", "height"),
        _setting("512", "model_input", "SD", "width"),
        _setting(True, "model_input", "SD", "width"),
        _setting(1.5, "model_input", "SD", "seed"),
        _setting("", "model_input", "SD", "prompt"),
        _setting("x", "model_input", "SD", "guidance_scale"),
    ],
)
def test_bad_payloads_are_400_with_a_reason(sandbox, change):
    payload = copy.deepcopy(body())
    change(payload)

    answer = submit(sandbox, payload)

    assert answer.status_code == 400
    assert answer.text.strip()
    assert sandbox.jobs == []


def test_a_body_with_only_model_id_and_prompt_gets_the_documented_defaults(sandbox):
    from PIL import Image

    answer = submit(sandbox, {"model_id": "SDXL", "model_input": {"SD": {"prompt": "a fox"}}})

    assert answer.status_code == 200
    image = requests.get(answer.json(), timeout=TIMEOUT)
    assert Image.open(io.BytesIO(image.content)).size == (512, 512)
    assert sandbox.jobs[0].payload == {
        "model_id": "SDXL",
        "model_input": {"SD": {"prompt": "a fox"}},
    }


def test_the_typescript_sdks_body_is_accepted(sandbox):
    sdk_body = {
        "job_id": "sdk-image-1a2b3c",
        "model_input": {"SD": {"prompt": "a fox", "width": 640, "height": 448}},
        "model_type": "SD",
        "model_id": "SDXL",
        "deadline": 30,
        "priority": 1,
    }

    assert submit(sandbox, sdk_body).status_code == 200


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b""])
def test_non_object_bodies_are_400(sandbox, raw):
    answer = requests.post(
        f"{sandbox.url}/submit_job",
        data=raw,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 400
    assert sandbox.submissions[0].payload is None


# --- models.json -------------------------------------------------------------------------------


def test_models_json_serves_the_bundled_models_plus_llms(sandbox):
    served = requests.get(sandbox.models_url, timeout=TIMEOUT).json()
    bundled = json.loads(BUNDLED.read_text(encoding="utf-8"))

    assert served[: len(bundled)] == bundled
    llm_types = {entry["type"] for entry in served[len(bundled) :]}
    assert llm_types == {"llm", "llm-chat"}


def test_bundled_catalogue_is_complete_and_image_only():
    entries = json.loads(BUNDLED.read_text(encoding="utf-8"))
    names = {entry["name"] for entry in entries}

    assert {entry["type"] for entry in entries} == IMAGE_TYPES
    for entry in entries:
        assert {"name", "type", "author", "info_url", "file_url", "size_mb", "vae"} <= set(entry)
        defaults = entry["defaults"]
        assert set(defaults) == {
            "width",
            "height",
            "max_width",
            "max_height",
            "neg_prompt",
            "num_inference_steps",
            "guidance_scale",
            "seed",
        }
        is_flux = entry["type"].startswith("flux")
        assert defaults["max_width"] == defaults["max_height"] == (2048 if is_flux else 1024)
        assert (defaults["neg_prompt"] is None) == is_flux
        assert defaults["width"] <= defaults["max_width"]
        assert defaults["height"] <= defaults["max_height"]
        assert 1 <= defaults["num_inference_steps"] <= 50
        assert defaults["seed"] == -1
        if entry["type"].startswith("composite") or entry["type"] == "flux-dev-lora":
            assert entry["base"] in names
            assert entry["autofill"]


# --- faults ------------------------------------------------------------------------------------


def test_status_fault_sends_status_body_and_retry_after_once(sandbox):
    sandbox.add_fault("status", status=429, retry_after=7, body="slow down")

    first, second = submit(sandbox), submit(sandbox)

    assert (first.status_code, first.text, first.headers["Retry-After"]) == (429, "slow down", "7")
    assert second.status_code == 200
    assert [s.status for s in sandbox.submissions] == [429, 200]


def test_faults_apply_in_order_and_times_counts_submissions(sandbox):
    sandbox.add_fault("status", status=503, times=2)
    sandbox.add_fault("status", status=500)

    statuses = [submit(sandbox).status_code for _ in range(4)]

    assert statuses == [503, 503, 500, 200]


def test_drop_fault_breaks_the_connection_mid_answer(sandbox):
    sandbox.add_fault("drop")

    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        submit(sandbox)

    assert sandbox.submissions[0].status == 0
    assert submit(sandbox).status_code == 200


def test_delay_fault_outlasts_a_short_read_timeout(sandbox):
    sandbox.add_fault("delay", seconds=0.6)

    with pytest.raises(requests.ReadTimeout):
        submit(sandbox, timeout=(2, 0.1))

    (submission,) = wait_for_submissions(sandbox, 1)
    assert submission.status == 200
    assert submission.answered_at - submission.received_at >= 0.5


@pytest.mark.parametrize(
    ("shape", "content_type", "decode"),
    [
        ("quoted", "application/json", json.loads),
        ("bare", "text/plain; charset=utf-8", str),
        ("object", "application/json", lambda text: json.loads(text)["image_url"]),
    ],
)
def test_shape_fault_changes_how_the_url_is_written(sandbox, shape, content_type, decode):
    sandbox.add_fault("shape", shape=shape)

    answer = submit(sandbox)

    assert answer.headers["Content-Type"] == content_type
    url = decode(answer.text)
    assert url == sandbox.jobs[0].image_url
    assert requests.get(url, timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize("text", ["garbage", "", "{}", "[1,2]", "null"])
def test_shape_fault_with_a_body_answers_it_verbatim(sandbox, text):
    sandbox.add_fault("shape", body=text)

    answer = submit(sandbox)

    assert (answer.status_code, answer.text) == (200, text)
    assert sandbox.submissions[0].image_url is None
    assert sandbox.jobs == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/images/x.png", "http://10.0.0.1/x.png"])
def test_image_url_fault_answers_the_given_url(sandbox, url):
    sandbox.add_fault("image_url", url=url)

    answer = submit(sandbox)

    assert answer.json() == url
    assert sandbox.jobs[0].image_url == url


def test_image_fault_missing_is_404(sandbox):
    sandbox.add_fault("image", mode="missing")

    assert requests.get(submit(sandbox).json(), timeout=TIMEOUT).status_code == 404


def test_image_fault_html_serves_a_page(sandbox):
    sandbox.add_fault("image", mode="html")

    page = requests.get(submit(sandbox).json(), timeout=TIMEOUT)

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert page.text.startswith("<!doctype html>")


def test_image_fault_not_image_serves_random_bytes_as_png(sandbox):
    sandbox.add_fault("image", mode="not_image", size=1000)

    fake = requests.get(submit(sandbox).json(), timeout=TIMEOUT)

    assert (fake.status_code, fake.headers["Content-Type"], len(fake.content)) == (
        200,
        "image/png",
        1000,
    )
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(fake.content))


@pytest.mark.parametrize("location", ["http://10.0.0.1/x.png", "http://169.254.169.254/latest"])
def test_image_fault_redirect_points_elsewhere(sandbox, location):
    sandbox.add_fault("image", mode="redirect", location=location)

    answer = requests.get(submit(sandbox).json(), allow_redirects=False, timeout=TIMEOUT)

    assert (answer.status_code, answer.headers["Location"]) == (302, location)


def test_image_fault_huge_streams_without_end_in_sight(sandbox):
    sandbox.add_fault("image", mode="huge")
    cap = 1024 * 1024

    with requests.get(submit(sandbox).json(), stream=True, timeout=TIMEOUT) as answer:
        assert answer.headers["Content-Length"] == str(DEFAULT_HUGE_BYTES)
        received = b""
        for chunk in answer.iter_content(chunk_size=64 * 1024):
            received += chunk
            if len(received) >= cap:
                break

    assert received.startswith(PNG_SIGNATURE)
    assert len(received) >= cap


def test_image_fault_spares_the_next_job(sandbox):
    sandbox.add_fault("image", mode="missing")
    faulty, fine = submit(sandbox, body("a")).json(), submit(sandbox, body("b")).json()

    assert requests.get(faulty, timeout=TIMEOUT).status_code == 404
    assert requests.get(fine, timeout=TIMEOUT).status_code == 200


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("teapot", {}),
        ("status", {}),
        ("status", {"status": 503, "colour": "red"}),
        ("delay", {"seconds": -1}),
        ("shape", {"shape": "xml"}),
        ("image_url", {}),
        ("image", {"mode": "sideways"}),
        ("drop", {"times": 0}),
    ],
)
def test_add_fault_refuses_what_it_cannot_apply(sandbox, kind, options):
    with pytest.raises(ValueError):
        sandbox.add_fault(kind, **options)


def test_clear_faults_and_reset(sandbox):
    sandbox.add_fault("status", status=503, times=5)
    sandbox.clear_faults()
    url = submit(sandbox).json()
    sandbox.add_fault("status", status=503)

    sandbox.reset()

    assert sandbox.submissions == []
    assert requests.get(url, timeout=TIMEOUT).status_code == 404
    assert submit(sandbox).status_code == 200


def test_control_endpoints_steer_the_sandbox_over_http(sandbox):
    control = f"{sandbox.url}/_sandbox"
    queued = requests.post(
        f"{control}/faults", json={"kind": "status", "status": 503, "times": 2}, timeout=TIMEOUT
    )
    assert queued.status_code == 200
    assert submit(sandbox).status_code == 503
    assert requests.delete(f"{control}/faults", timeout=TIMEOUT).status_code == 200
    assert submit(sandbox).status_code == 200

    listed = requests.get(f"{control}/submissions", timeout=TIMEOUT)
    assert [s["status"] for s in listed.json()] == [503, 200]
    assert listed.json()[1]["payload"] == body()
    assert listed.json()[1]["key_fingerprint"] == key_fingerprint(KEY)
    assert KEY not in listed.text

    assert requests.post(f"{control}/latency", json={"seconds": 0}, timeout=TIMEOUT).ok
    assert requests.post(f"{control}/reset", timeout=TIMEOUT).ok
    assert sandbox.submissions == []
    bad = requests.post(f"{control}/faults", json={"kind": "teapot"}, timeout=TIMEOUT)
    assert bad.status_code == 400


def test_raw_key_is_never_logged_or_recorded(sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="heurist_ui.sandbox")

    submit(sandbox)
    submit(sandbox, key=None)

    assert caplog.records
    assert KEY not in caplog.text
    assert KEY not in repr(sandbox.submissions)


# --- concurrency, flakiness, latency ------------------------------------------------------------


def test_concurrent_submissions_are_served_in_parallel():
    with Sandbox() as sb, ThreadPoolExecutor(max_workers=10) as pool, sb.hold() as gate:
        answers = [pool.submit(submit, sb, body(f"job-{n}")) for n in range(10)]
        gate.wait_for(10)  # all ten at once: none waits for another to be answered
        gate.release()
        assert [answer.result().status_code for answer in answers] == [200] * 10
        submissions = sb.submissions

    assert max(s.received_at for s in submissions) < min(s.answered_at for s in submissions)


def test_fail_rate_with_a_seed_is_reproducible():
    runs = []
    for _ in range(2):
        with Sandbox(fail_rate=0.5, rng_seed=7) as sb:
            runs.append([submit(sb, body(f"job-{n}")).status_code for n in range(12)])

    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


def test_latency_must_be_a_non_negative_number(sandbox):
    with pytest.raises(ValueError):
        sandbox.latency = -1
    assert sandbox.latency == 0.0


# --- rendering and the command line ------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(1, 1), (7, 300), (1024, 1024)])
def test_render_placeholder_is_a_png_of_exactly_the_asked_size(width, height):
    data = render_placeholder(width, height, prompt="ünïcode 🦊 " * 20, model_id="SDXL", seed=3)

    assert data.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(data)).size == (width, height)


def test_command_line_starts_a_server_that_serves_models_json():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "heurist_ui.sandbox", "--port", str(port), "--image-format", "webp"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert f"HEURIST_BASE_URL={url}" in line
        assert f"HEURIST_MODELS_URL={url}/models.json" in line
        models = requests.get(f"{url}/models.json", timeout=TIMEOUT)
        assert models.status_code == 200
        assert any(entry["name"] == "SDXL" for entry in models.json())
        answer = requests.post(
            f"{url}/submit_job", json=body(), headers={"Authorization": f"Bearer {KEY}"}, timeout=5
        )
        assert answer.json().endswith("/images/sdk-image-1.webp")
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- holding jobs until a test releases them ------------------------------------------------------


def _submit_in_background(pool, sb: Sandbox, count: int) -> list:
    return [pool.submit(submit, sb, body(f"held-{n}")) for n in range(count)]


def test_held_jobs_wait_until_released_and_are_then_answered(sandbox):
    with ThreadPoolExecutor(max_workers=3) as pool, sandbox.hold() as gate:
        answers = _submit_in_background(pool, sandbox, 3)
        gate.wait_for(3)
        assert sandbox.in_flight == 3 and sandbox.submissions == []
        assert not any(answer.done() for answer in answers)
        gate.release()
        assert [answer.result().status_code for answer in answers] == [200] * 3
    assert gate.held == 0 and gate.arrived == 3 and len(sandbox.submissions) == 3


def test_release_of_a_count_lets_that_many_through_oldest_first(sandbox):
    with ThreadPoolExecutor(max_workers=3) as pool, sandbox.hold() as gate:
        first = pool.submit(submit, sandbox, body("first"))
        gate.wait_for(1)
        rest = _submit_in_background(pool, sandbox, 2)
        gate.wait_for(3)
        gate.release(1)
        assert first.result().status_code == 200  # the oldest went through
        assert gate.held == 2 and not any(answer.done() for answer in rest)
        assert [sub.job_id for sub in sandbox.submissions] == ["first"]
        gate.release(2)
        assert [answer.result().status_code for answer in rest] == [200, 200]


def test_a_permit_given_before_a_job_arrives_lets_it_through(sandbox):
    gate = sandbox.hold()
    gate.release(1)
    assert submit(sandbox, body("early")).status_code == 200
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(submit, sandbox, body("held"))
        gate.wait_for(1)
        assert not held.done()
        sandbox.reset()  # a reset lets every held job go
        assert held.result().status_code == 200


def test_a_gate_with_a_limit_holds_only_the_first_jobs(sandbox):
    with ThreadPoolExecutor(max_workers=2) as pool, sandbox.hold(limit=2) as gate:
        held = _submit_in_background(pool, sandbox, 2)
        gate.wait_for(2)
        assert submit(sandbox, body("after")).status_code == 200  # past the limit: at once
        assert gate.held == 2 and not any(answer.done() for answer in held)
    assert [answer.result().status_code for answer in held] == [200, 200]


def test_waiting_for_jobs_that_never_come_says_so():
    with Sandbox() as sb, pytest.raises(TimeoutError, match="0 of the 1 jobs"):
        sb.hold().wait_for(1, timeout=0.05)


def test_stopping_the_sandbox_lets_held_jobs_go():
    sb = Sandbox().start()
    gate = sb.hold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(submit, sb, body("held"))
        gate.wait_for(1)
        sb.stop()
        assert held.result().status_code == 200  # answered, not left hanging
    assert gate.held == 0
