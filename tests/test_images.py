"""images: A1111 infotext, PNG metadata, and image downloads guarded against unsafe links."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from heurist_ui import images
from heurist_ui.errors import HeuristError, ImageDownloadError
from heurist_ui.images import (
    download_image,
    format_infotext,
    image_url_problem,
    parse_infotext,
    read_png_metadata,
    save_png,
)

JOB_ID = "heurist-ui-0123456789abcdef0123456789abcdef"
SECRET = "X-Amz-Signature=SECRET123"
A1111_TEXT = (
    "masterpiece, a cat\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3361239383, "
    "Size: 832x1216, Model hash: 4496b36d48, Model: animagine-xl-3.1, Clip skip: 2"
)
NON_LATIN = "灯塔 🌅 منارة"


def make_record(**changes) -> dict:
    record = {
        "job_id": JOB_ID,
        "model_id": "SDXL",
        "seed": 123,
        "width": 1024,
        "height": 768,
        "num_iterations": 20,
        "guidance_scale": 7,
        "prompt": "a lighthouse at dusk",
        "neg_prompt": "blurry, low quality",
        "url": f"https://heurist-images.s3.us-east-1.amazonaws.com/x.png?{SECRET}",
        "credits": 0.75,
        "elapsed_s": 4.2,
        "model_type": "sdxl10",
        "created_at": "2025-03-04T05:06:07+00:00",
    }
    record.update(changes)
    return record


def image_bytes(mode: str = "RGB", size: tuple[int, int] = (8, 6), fmt: str = "PNG") -> bytes:
    color = {"1": 1, "L": 128, "LA": (128, 200), "I;16": 40000, "P": 3}.get(mode, (10, 200, 30))
    if mode == "RGBA":
        color = (10, 200, 30, 100)
    if mode == "CMYK":
        color = (10, 200, 30, 40)
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def assert_round_trip(record: dict) -> None:
    parsed = parse_infotext(format_infotext(record))
    for key in ("prompt", "num_iterations", "guidance_scale", "seed", "width", "height"):
        assert parsed[key] == record[key], key
    assert parsed["neg_prompt"] == (record["neg_prompt"] or "")
    assert parsed["model_id"] == record["model_id"]
    assert parsed["extra"] == {"Job id": record["job_id"]}


# --- infotext -------------------------------------------------------------------------------


def test_format_infotext_matches_a1111_layout() -> None:
    assert format_infotext(make_record()) == (
        "a lighthouse at dusk\n"
        "Negative prompt: blurry, low quality\n"
        f"Steps: 20, CFG scale: 7, Seed: 123, Size: 1024x768, Model: SDXL, Job id: {JOB_ID}"
    )


def test_format_infotext_leaves_out_empty_negative_prompt_and_quotes_special_values() -> None:
    record = make_record(
        neg_prompt="", guidance_scale=7.5, seed=0, model_id='odd, "model": v2', job_id="a:b"
    )
    assert format_infotext(record) == (
        "a lighthouse at dusk\n"
        'Steps: 20, CFG scale: 7.5, Seed: 0, Size: 1024x768, Model: "odd, \\"model\\": v2", '
        'Job id: "a:b"'
    )


def test_format_infotext_prints_integral_cfg_without_decimal() -> None:
    assert "CFG scale: 7," in format_infotext(make_record(guidance_scale=7.0))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"neg_prompt": ""},
        {"neg_prompt": None},
        {"prompt": "line one\nline two\n\n  indented line", "neg_prompt": "bad\nworse"},
        {"prompt": "a cat: sitting, on a mat", "neg_prompt": "text: watermark, signature"},
        {"model_id": "weird:model, v2", "job_id": "job, with: punctuation"},
        {"prompt": NON_LATIN, "neg_prompt": "模糊, 低质量, ضبابي 😡"},
        {"prompt": "ends with a newline\n", "neg_prompt": " leading space"},
        {"prompt": "", "neg_prompt": "only a negative"},
        {"prompt": "", "neg_prompt": ""},
        {"prompt": "looks like params\nSteps: 5, Sampler: Euler, CFG scale: 2"},
        {"seed": 0, "guidance_scale": 7.5, "num_iterations": 1},
        {"seed": 2**64 - 1, "guidance_scale": 3.25, "width": 512, "height": 2048},
        {"model_id": "FLUX.1-dev", "neg_prompt": None, "guidance_scale": 3},
    ],
)
def test_infotext_round_trips(changes: dict) -> None:
    assert_round_trip(make_record(**changes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prompt=st.text(st.characters(exclude_characters="\r")),
    negative=st.text(st.characters(exclude_characters="\r")),
    model_id=st.text(),
    job_id=st.text(),
    seed=st.integers(-(2**64), 2**64),
    steps=st.integers(1, 50),
    scale=st.floats(allow_nan=False, allow_infinity=False),
)
def test_infotext_round_trips_any_text(prompt, negative, model_id, job_id, seed, steps, scale):
    assume(not any(line.startswith("Negative prompt:") for line in prompt.split("\n")))
    record = make_record(
        prompt=prompt,
        neg_prompt=negative,
        model_id=model_id,
        job_id=job_id,
        seed=seed,
        num_iterations=steps,
        guidance_scale=scale,
    )
    assert_round_trip(record)


def test_parse_infotext_reads_a_real_a1111_text() -> None:
    assert parse_infotext(A1111_TEXT) == {
        "prompt": "masterpiece, a cat",
        "neg_prompt": "lowres, bad anatomy",
        "num_iterations": 28,
        "guidance_scale": 7.0,
        "seed": 3361239383,
        "width": 832,
        "height": 1216,
        "model_id": "animagine-xl-3.1",
        "extra": {
            "Sampler": "DPM++ 2M",
            "Schedule type": "Karras",
            "Model hash": "4496b36d48",
            "Clip skip": "2",
        },
    }


def test_parse_infotext_unquotes_values_and_reads_multiline_prompts() -> None:
    text = (
        "best quality,\n1girl, <lora:add_detail:0.5>\r\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 5.5, Seed: 1, Size: 512x768, Lora hashes: "
        '"add_detail: 7c6bad76eb54, more: 3b8aa1d351ef", Hires prompt: "a\\nb", '
        "Version: v1.10.1\n"
    )
    parsed = parse_infotext(text)
    assert parsed["prompt"] == "best quality,\n1girl, <lora:add_detail:0.5>"
    assert parsed["neg_prompt"] == ""
    assert parsed["guidance_scale"] == 5.5
    assert "model_id" not in parsed
    assert parsed["extra"] == {
        "Sampler": "Euler a",
        "Lora hashes": "add_detail: 7c6bad76eb54, more: 3b8aa1d351ef",
        "Hires prompt": "a\nb",
        "Version": "v1.10.1",
    }


@pytest.mark.parametrize(
    "text",
    [
        "a cat\nwith a hat",
        "Steps: 5, with a cat",
        "Sampler: Euler, CFG scale: 7, Seed: 1",
        "just one line: with a colon",
    ],
)
def test_parse_infotext_treats_text_without_a_params_line_as_prompt(text: str) -> None:
    assert parse_infotext(text) == {"prompt": text}


def test_parse_infotext_keeps_unreadable_known_values_in_extra() -> None:
    parsed = parse_infotext("a cat\nSteps: many, Seed: lucky, Size: big, CFG scale: nan")
    assert parsed["extra"] == {"Steps": "many", "Seed": "lucky", "Size": "big", "CFG scale": "nan"}
    assert not {"num_iterations", "seed", "width", "guidance_scale"} & parsed.keys()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        '"',
        "Steps:",
        'Steps: "unterminated, Seed: 1',
        "Negative prompt:",
        "\x00\x01\ufffd",
        "Steps: 20, , , Seed: 1",
        "Steps: 99999999999999999999999999999999999999999, Size: 99999999999x1",
        "a" * 100_000 + ": " + "b" * 100_000,
        "Steps: " + "9" * 5000,
        "Size: " + "9" * 5000 + "x1, Steps: 1",
        "Steps: 1, CFG scale: " + "9" * 5000,
    ],
)
def test_parse_infotext_never_raises_on_odd_text(text: str) -> None:
    result = parse_infotext(text)
    assert result == {} or isinstance(result["prompt"], str)


def test_parse_infotext_handles_very_long_lines() -> None:
    # Pasted text can be huge; these once sent a quadratic regex into a crawl.
    assert parse_infotext("p\n" + 'Steps: "a, ' * 80_000)["extra"] == {"Steps": '"a'}
    assert parse_infotext("p\n" + "ab: 1, " * 80_000 + "Steps: 2")["num_iterations"] == 2


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_infotext_never_raises_on_any_text(text: str) -> None:
    result = parse_infotext(text)
    assert result == {} or isinstance(result["prompt"], str)


@pytest.mark.parametrize("value", [None, 123, ["Steps: 1"]])
def test_parse_infotext_returns_empty_for_non_text(value: object) -> None:
    assert parse_infotext(value) == {}  # type: ignore[arg-type]


# --- PNG files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [{}, {"prompt": NON_LATIN, "neg_prompt": "模糊 😡"}, {"prompt": "two\nlines", "seed": 0}],
)
def test_save_png_round_trips_metadata(tmp_path: Path, changes: dict) -> None:
    record = make_record(**changes)
    path = save_png(image_bytes(), record, tmp_path)

    expected = (format_infotext(record), record)
    assert read_png_metadata(path) == expected
    assert read_png_metadata(str(path)) == expected
    assert read_png_metadata(path.read_bytes()) == expected
    with Image.open(path) as image:
        assert read_png_metadata(image) == expected
        assert image.text["parameters"] == format_infotext(record)
        assert json.loads(image.text["heurist"]) == record
        assert image.size == (8, 6)


def test_save_png_keeps_a_pngs_pixel_data_and_replaces_old_metadata(tmp_path: Path) -> None:
    # PNG answers get their text chunks added, not a decode and re-encode; stale copies go.
    info = PngInfo()
    info.add_text("parameters", "an older prompt")
    info.add_text("Software", "miner")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buffer, format="PNG", pnginfo=info)
    source = buffer.getvalue()
    record = make_record(prompt=NON_LATIN)

    path = save_png(source, record, tmp_path)

    start = source.index(b"IDAT") - 4
    idat_chunk = source[start : start + 12 + int.from_bytes(source[start : start + 4], "big")]
    assert idat_chunk in path.read_bytes()
    with Image.open(path) as image:
        assert image.text == {
            "Software": "miner",
            "parameters": format_infotext(record),
            "heurist": json.dumps(record, ensure_ascii=False),
        }
        assert image.getpixel((0, 0)) == (10, 200, 30)


def test_save_png_names_files_by_date_time_seed_model_and_job(tmp_path: Path) -> None:
    now = datetime(2025, 3, 4, 5, 6, 7, 89)
    path = save_png(image_bytes(), make_record(), tmp_path / "out", now=now)
    assert path == tmp_path / "out" / "2025-03-04" / "050607-000089_123_SDXL_89abcdef.png"
    assert path.is_file()


def test_save_png_uses_the_current_time_by_default(tmp_path: Path) -> None:
    path = save_png(image_bytes(), make_record(seed=-1), tmp_path)
    assert path.parent.name == datetime.now().strftime("%Y-%m-%d")
    assert re.fullmatch(r"\d{6}-\d{6}_-1_SDXL_89abcdef\.png", path.name)


def test_save_png_makes_model_ids_safe_for_file_names(tmp_path: Path) -> None:
    record = make_record(model_id="../My Model:v2/(beta)", job_id="x/y")
    path = save_png(image_bytes(), record, tmp_path, now=datetime(2025, 1, 1))
    assert path.parent == tmp_path / "2025-01-01"
    assert path.name == "000000-000000_123_My-Model-v2-beta_xy.png"


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"seed": 0}, "000000-000000_0_SDXL_89abcdef.png"),
        ({"seed": None, "model_id": None, "job_id": None}, "000000-000000_noseed_model_nojob.png"),
        ({"seed": 5.0, "model_id": "///"}, "000000-000000_5_model_89abcdef.png"),
    ],
)
def test_save_png_names_files_without_every_field(tmp_path: Path, changes: dict, name: str):
    path = save_png(image_bytes(), make_record(**changes), tmp_path, now=datetime(2025, 1, 1))
    assert path.name == name


def test_save_png_never_overwrites(tmp_path: Path) -> None:
    now = datetime(2025, 1, 1)
    first = save_png(image_bytes(), make_record(), tmp_path, now=now)
    second = save_png(image_bytes(), make_record(), tmp_path, now=now)
    assert first != second
    assert sorted(p.name for p in first.parent.iterdir()) == sorted([first.name, second.name])


def test_save_png_writes_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_png(image_bytes(), make_record(), tmp_path)
    assert list(path.parent.iterdir()) == [path]

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(images.os, "replace", disk_full)
    with pytest.raises(HeuristError, match=r"could not be saved.*No space left"):
        save_png(image_bytes(), make_record(seed=7), tmp_path)
    assert list(path.parent.iterdir()) == [path]


def test_save_png_refuses_data_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageDownloadError, match="not a readable PNG, JPEG or WebP"):
        save_png(b"<html>expired</html>", make_record(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("mode", "fmt", "saved_mode"),
    [
        ("RGB", "PNG", "RGB"),
        ("RGBA", "PNG", "RGBA"),
        ("L", "PNG", "L"),
        ("LA", "PNG", "LA"),
        ("P", "PNG", "P"),
        ("I;16", "PNG", "I;16"),
        ("RGB", "JPEG", "RGB"),
        ("CMYK", "JPEG", "RGB"),
        ("RGBA", "WEBP", "RGBA"),
    ],
)
def test_save_png_keeps_colour_mode_when_png_can(
    tmp_path: Path, mode: str, fmt: str, saved_mode: str
) -> None:
    path = save_png(image_bytes(mode, fmt=fmt), make_record(), tmp_path)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == saved_mode


def test_read_png_metadata_reads_a1111_pngs(tmp_path: Path) -> None:
    info = PngInfo()
    info.add_text("parameters", A1111_TEXT)
    path = tmp_path / "00001-3361239383.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    assert read_png_metadata(path) == (A1111_TEXT, None)


def test_read_png_metadata_reads_a1111_jpeg_user_comment() -> None:
    exif = Image.Exif()
    # A1111 writes the infotext with piexif: "UNICODE\0" then UTF-16 big-endian.
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + A1111_TEXT.encode("utf-16-be")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG", exif=exif)
    assert read_png_metadata(buffer.getvalue()) == (A1111_TEXT, None)


def test_read_png_metadata_reads_info_of_an_image_in_memory() -> None:
    image = Image.new("RGB", (4, 4))
    image.info["parameters"] = NON_LATIN
    assert read_png_metadata(image) == (NON_LATIN, None)


def test_read_png_metadata_ignores_a_broken_record() -> None:
    info = PngInfo()
    info.add_text("parameters", "a cat")
    info.add_text("heurist", "{not json")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG", pnginfo=info)
    assert read_png_metadata(buffer.getvalue()) == ("a cat", None)


@pytest.mark.parametrize(
    "source",
    [b"", b"not an image at all", image_bytes()[:40], None, 123, "/no/such/file.png", "."],
)
def test_read_png_metadata_never_raises(source: object) -> None:
    assert read_png_metadata(source) == (None, None)  # type: ignore[arg-type]


def test_read_png_metadata_without_metadata_gives_nones() -> None:
    assert read_png_metadata(image_bytes()) == (None, None)


# --- URL checks -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/x.png", "private"),
        ("http://192.168.1.1/x.png", "private"),
        ("http://172.16.0.1/x.png", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/x.png", "loopback"),
        ("http://[::ffff:127.0.0.1]/x.png", "loopback"),
        ("http://[::ffff:10.0.0.1]/x.png", "private"),
        ("http://0.0.0.0/x.png", "unspecified"),
        ("http://224.0.0.1/x.png", "multicast"),
        ("http://127.0.0.1:8080/x.png", "loopback"),
        ("http://100.64.0.1/x.png", "non-public"),
        ("http://[fe80::1]/x.png", "link-local"),
        ("file:///etc/passwd", "only http and https"),
        ("data:image/png;base64,iVBORw0KGgo=", "only http and https"),
        ("ftp://example.com/x.png", "only http and https"),
        ("/x.png", "relative"),
        ("x.png", "relative"),
        ("http:///x.png", "no host"),
        ("http://user:pass@example.com/x.png", "user name or password"),
        ("http://evil.com\\@127.0.0.1/", "backslash"),
        ("http://example.com:99999/x.png", "invalid host or port"),
        ("http://[::1/x.png", "not a valid address"),
        (" http://example.com/x.png", "spaces"),
        ("http://example.com/x\n.png", "control"),
        ("http://exämple.com/x.png", "non-ASCII"),
        ("", "empty"),
        (None, "not text"),
    ],
)
def test_image_url_problem_refuses_unsafe_links(
    url: object, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    problem = image_url_problem(url)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/x.png",
        "https://93.184.216.34:8443/x.png?X-Amz-Signature=abc",
        "HTTPS://[2606:2800:220:1:248:1893:25c8:1946]/x.png",
    ],
)
def test_image_url_problem_allows_public_addresses_without_a_lookup(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    assert image_url_problem(url) is None


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f.1", "127.1"])
def test_image_url_problem_resolves_names_and_numeric_tricks(host: str) -> None:
    # All resolved by the system resolver itself, without DNS traffic.
    assert "loopback" in image_url_problem(f"http://{host}/x.png")


def test_image_url_problem_checks_every_resolved_address(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.5", 0, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    problem = image_url_problem("https://images.example.com/x.png")
    assert problem == "images.example.com resolves to a private-network address (::ffff:a00:5)"
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers[:1])
    assert image_url_problem("https://images.example.com/x.png") is None


def test_image_url_problem_refuses_hosts_that_do_not_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    assert image_url_problem("https://nowhere.invalid/x.png") == (
        "the host nowhere.invalid could not be resolved"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/x.png", ["127.0.0.1"]),
        ("http://LocalHost/x.png", ["localhost"]),
        ("http://localhost:1/x.png", ["LOCALHOST"]),
        ("http://[::1]:9/x.png", ["::1"]),
        ("http://10.0.0.1/x.png", "10.0.0.1"),
    ],
)
def test_image_url_problem_trusts_allowed_hosts(url: str, allowed: list[str] | str) -> None:
    assert image_url_problem(url, allowed_hosts=allowed) is None


def test_allowed_hosts_match_exact_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    problem = image_url_problem("http://cdn.example.com/x.png", allowed_hosts=["example.com"])
    assert problem is not None
    assert "private" in problem
    assert image_url_problem("file:///x.png", allowed_hosts=["", "127.0.0.1"]) is not None


def _no_dns(*args: object, **kwargs: object) -> None:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --- downloads over a real local server -----------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Routes of the fake image host; every request is recorded in server.seen."""

    server: _ImageHost

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.seen.append((path, dict(self.headers)))
        png = self.server.png
        if path == "/image.png":
            self._reply(200, png, "image/png")
        elif path == "/missing.png":
            self._reply(404, b"Not Found", "text/plain")
        elif path == "/expired.png":
            self._reply(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        elif path == "/broken.png":
            self._reply(503, b"Service Unavailable", "text/plain")
        elif path == "/page.html":
            self._reply(200, b"<html><body>Sign in</body></html>", "text/html; charset=utf-8")
        elif path == "/not-image.png":
            self._reply(200, b'{"error": "this is not an image"}', "image/png")
        elif path == "/declared-huge.png":
            self._reply(200, png, "image/png", length=10 * 1024**3)
        elif path == "/huge.png":
            self._stream_forever()
        elif path == "/redirect-private":
            self._redirect(f"http://10.0.0.1/x.png?{SECRET}")
        elif path == "/redirect-self":
            self._redirect(f"/image.png?{SECRET}")
        elif path == "/redirect-loop":
            self._redirect("/redirect-loop")
        elif path == "/slow-headers.png":
            time.sleep(0.5)
            self._reply(200, png, "image/png")
        elif path == "/slow-body.png":
            self._reply(200, png, "image/png", delay=0.5)
        else:
            self._reply(404, b"no such route", "text/plain")

    def _reply(
        self, status: int, body: bytes, content_type: str, *, length: int = 0, delay: float = 0
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length or len(body)))
        self.end_headers()
        time.sleep(delay)
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream_forever(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hangs up once it has had enough
            for _ in range(256):
                self.wfile.write(b"\x89PNG" * 16384)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _ImageHost(ThreadingHTTPServer):
    daemon_threads = True
    png: bytes
    seen: list[tuple[str, dict[str, str]]]


@pytest.fixture(scope="module")
def image_host():
    server = _ImageHost(("127.0.0.1", 0), _Handler)
    server.png = image_bytes(size=(16, 16))
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def base_url(image_host: _ImageHost) -> str:
    return f"http://127.0.0.1:{image_host.server_address[1]}"


@pytest.fixture
def session():
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
        yield session


LOCAL = ("127.0.0.1",)


def test_download_image_fetches_from_an_allowed_host(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    data = download_image(session, f"{base_url}/image.png?{SECRET}", allowed_hosts=LOCAL)
    assert data == image_host.png


def test_download_image_never_sends_the_api_key(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    session.headers["Authorization"] = "Bearer user#secret-key"
    session.auth = ("user", "password")
    download_image(session, f"{base_url}/image.png", allowed_hosts=LOCAL)
    path, headers = image_host.seen[-1]
    assert path == "/image.png"
    assert "authorization" not in {name.lower() for name in headers}


def test_download_image_refuses_loopback_unless_allowed(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="loopback") as caught:
        download_image(session, f"{base_url}/image.png?{SECRET}")
    assert SECRET not in str(caught.value)
    assert f"Link: {base_url}/image.png" in str(caught.value)
    assert len(image_host.seen) == before


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "/image.png",
        "ftp://127.0.0.1/image.png",
        "http://user:hunter2@127.0.0.1/image.png",
    ],
)
def test_download_image_refuses_unsafe_links_without_a_request(
    session: requests.Session, image_host: _ImageHost, url: str
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="not allowed") as caught:
        download_image(session, url, allowed_hosts=LOCAL)
    assert "hunter2" not in str(caught.value)
    assert caught.value.status_code is None
    assert len(image_host.seen) == before


def test_download_image_checks_every_redirect(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match=r"redirected.*private") as caught:
        download_image(session, f"{base_url}/redirect-private", allowed_hosts=LOCAL)
    assert "SECRET" not in str(caught.value)
    assert "http://10.0.0.1/x.png" in str(caught.value)
    assert [path for path, _ in image_host.seen[before:]] == ["/redirect-private"]


def test_download_image_follows_safe_redirects(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    data = download_image(session, f"{base_url}/redirect-self", allowed_hosts=LOCAL)
    assert data == image_host.png
    assert [path for path, _ in image_host.seen[before:]] == ["/redirect-self", "/image.png"]


def test_download_image_stops_redirect_loops(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="redirected more than 5 times"):
        download_image(session, f"{base_url}/redirect-loop", allowed_hosts=LOCAL)
    assert len(image_host.seen) - before == images.MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/missing.png", 404, r"could not be downloaded \(404\): the link may have expired"),
        ("/expired.png", 403, r"\(403\): the link may have expired\. Generate again\."),
        ("/broken.png", 503, r"image host failed \(503\)\. Try again in a moment"),
    ],
)
def test_download_image_reports_error_statuses(
    session: requests.Session, base_url: str, path: str, status: int, message: str
) -> None:
    with pytest.raises(ImageDownloadError, match=message) as caught:
        download_image(session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL)
    assert caught.value.status_code == status
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/page.html", "returned a web page instead of an image"),
        ("/not-image.png", "not a PNG, JPEG or WebP image"),
        ("/huge.png", r"stopped after 0\.2 MB: the file is larger than the limit"),
        ("/declared-huge.png", r"too large to download \(10240\.0 MB; the limit is 0\.2 MB\)"),
    ],
)
def test_download_image_refuses_bodies_that_are_not_acceptable_images(
    session: requests.Session, base_url: str, path: str, message: str
) -> None:
    with pytest.raises(ImageDownloadError, match=message) as caught:
        download_image(
            session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL, max_bytes=256 * 1024
        )
    assert caught.value.status_code is None
    assert SECRET not in str(caught.value)
    assert f"Link: {base_url}{path}" in str(caught.value)


def test_download_image_refuses_too_many_pixels(
    session: requests.Session, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_IMAGE_PIXELS", 15 * 15)
    with pytest.raises(ImageDownloadError, match="too large: 16x16 pixels"):
        download_image(session, f"{base_url}/image.png", allowed_hosts=LOCAL)


@pytest.mark.parametrize("path", ["/slow-headers.png", "/slow-body.png"])
def test_download_image_reports_timeouts(session: requests.Session, base_url: str, path: str):
    with pytest.raises(ImageDownloadError, match="timed out") as caught:
        download_image(
            session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL, timeout=(2.0, 0.2)
        )
    assert SECRET not in str(caught.value)


def test_download_image_reports_unreachable_hosts(
    session: requests.Session, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/image.png?{SECRET}"
    with pytest.raises(ImageDownloadError, match="could not be reached") as caught:
        download_image(session, url, allowed_hosts=LOCAL)
    assert SECRET not in str(caught.value)
    assert caught.value.status_code is None


def test_downloaded_image_saves_with_metadata(
    session: requests.Session, base_url: str, tmp_path: Path
) -> None:
    record = make_record(prompt=NON_LATIN, url=f"{base_url}/image.png")
    data = download_image(session, record["url"], allowed_hosts=LOCAL)
    path = save_png(data, record, tmp_path)
    with Image.open(path) as image:
        assert image.text["parameters"].startswith(NON_LATIN + "\n")
        assert image.size == (16, 16)
