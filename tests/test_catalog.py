"""The model catalogue: filtering, parsing, caching and falling back when the URL fails."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from heurist_ui.catalog import (
    BUNDLED_CATALOG,
    CACHE_FILE_NAME,
    ModelCatalog,
    load_catalog,
    offline_catalog,
    parse_model,
    parse_models,
)
from heurist_ui.errors import UnknownModelError

BUNDLED_NAMES = [
    entry["name"]
    for entry in json.loads(BUNDLED_CATALOG.read_text(encoding="utf-8"))
    if not entry["type"].startswith("llm")
]
IMAGE_ENTRY = {
    "name": "Tiny",
    "type": "sd15",
    "defaults": {"width": 512, "height": 512, "num_inference_steps": 20, "guidance_scale": 7},
}


@contextmanager
def serve(respond: Callable[[BaseHTTPRequestHandler, threading.Event], None]) -> Iterator[str]:
    """A throwaway HTTP server on loopback whose GET runs respond; yields its models URL."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            respond(self, release)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/models.json"
    finally:
        release.set()  # wake any handler still hanging
        server.shutdown()
        server.server_close()


def answer_invalid_json(handler: BaseHTTPRequestHandler, release: threading.Event) -> None:
    body = b'[{"name": "SDXL", "type": '
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def answer_slowly(handler: BaseHTTPRequestHandler, release: threading.Event) -> None:
    """Headers and a first byte at once, then nothing until the test ends."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"[")
    handler.wfile.flush()
    release.wait(30)


def answer_dripping(handler: BaseHTTPRequestHandler, release: threading.Event) -> None:
    """A byte of whitespace every 0.1 s: each read is quick, the whole body never ends."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    try:
        handler.wfile.write(b"[")
        while not release.wait(0.1):
            handler.wfile.write(b" ")
            handler.wfile.flush()
    except OSError:
        pass  # the client gave up, as it should


def answer_nothing(handler: BaseHTTPRequestHandler, release: threading.Event) -> None:
    """Accept the request and never send a status line."""
    release.wait(30)


def answer_json(data: object) -> Callable[[BaseHTTPRequestHandler, threading.Event], None]:
    def respond(handler: BaseHTTPRequestHandler, release: threading.Event) -> None:
        body = json.dumps(data).encode("utf-8")
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def remote_catalog(sandbox, cache_dir: Path) -> ModelCatalog:
    """The catalogue fetched from the sandbox (which also writes the cache)."""
    return load_catalog(sandbox.models_url, cache_dir=cache_dir)


@pytest.fixture
def dead_url(closed_port: int) -> str:
    return f"http://127.0.0.1:{closed_port}/models.json"


# --- from the sandbox's models.json ------------------------------------------------------------


def test_remote_catalogue_drops_llm_entries(sandbox, remote_catalog):
    raw_types = {entry["type"] for entry in requests.get(sandbox.models_url, timeout=5).json()}

    assert any(kind.startswith("llm") for kind in raw_types)  # the filter has work to do
    assert remote_catalog.source == "remote"
    assert not any(model.type.startswith("llm") for model in remote_catalog)


def test_remote_catalogue_has_every_bundled_image_model(remote_catalog):
    assert remote_catalog.names == BUNDLED_NAMES
    assert len(remote_catalog) == len(BUNDLED_NAMES)


def test_flux_takes_no_negative_prompt(remote_catalog):
    flux = remote_catalog.get("FLUX.1-dev")

    assert flux.defaults.neg_prompt is None
    assert not flux.takes_negative_prompt
    assert flux.is_flux
    assert (flux.defaults.max_width, flux.defaults.max_height) == (2048, 2048)
    assert (flux.defaults.num_iterations, flux.defaults.guidance_scale) == (22, 3)


def test_sdxl_defaults_are_parsed(remote_catalog):
    sdxl = remote_catalog.get("SDXL")

    assert sdxl.takes_negative_prompt
    assert sdxl.defaults.neg_prompt.startswith("text, worst quality")
    assert (sdxl.defaults.width, sdxl.defaults.height) == (1024, 1024)
    assert (sdxl.defaults.max_width, sdxl.defaults.max_height) == (1024, 1024)
    assert (sdxl.defaults.num_iterations, sdxl.defaults.guidance_scale) == (22, 5)
    assert sdxl.defaults.seed == -1
    assert sdxl.base is None and not sdxl.is_lora


def test_lora_entries_carry_base_autofill_and_recommend(remote_catalog):
    pepe = remote_catalog.get("PepeXL")

    assert pepe.is_lora
    assert pepe.base == "AAMXLAnimeMix"
    assert pepe.autofill == "Pepe"
    assert pepe.recommend == "pepe_frog, meme, web comic"
    assert remote_catalog.get("HeuristLogo").base == "FLUX.1-dev"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("SDXL", "SDXL"),
        ("Aurora", "SD 1.5"),
        ("MagusDevon", "SD 1.5 LoRA"),
        ("PepeXL", "SDXL LoRA"),
        ("FLUX.1-dev", "FLUX"),
        ("HeuristLogo", "FLUX LoRA"),
    ],
)
def test_kind_and_label_name_the_family(remote_catalog, name, kind):
    model = remote_catalog.get(name)

    assert model.kind == kind
    assert model.label == (name if name == kind else f"{name} · {kind}")


def test_default_model_is_sdxl(remote_catalog):
    assert remote_catalog.default_model().name == "SDXL"


def test_get_unknown_model_names_it_and_the_choices(remote_catalog):
    with pytest.raises(UnknownModelError) as caught:
        remote_catalog.get("Nope-XL")

    assert "Nope-XL" in str(caught.value)
    assert "SDXL" in str(caught.value)


# --- cache and fallbacks -----------------------------------------------------------------------


def test_successful_fetch_writes_the_cache(sandbox, remote_catalog, cache_dir):
    cached = json.loads((cache_dir / CACHE_FILE_NAME).read_text(encoding="utf-8"))

    assert cached == requests.get(sandbox.models_url, timeout=5).json()


def test_dead_url_falls_back_to_the_cache(remote_catalog, cache_dir, dead_url):
    catalog = load_catalog(dead_url, cache_dir=cache_dir)

    assert catalog.source == "cache"
    assert catalog.names == remote_catalog.names


def test_dead_url_without_cache_falls_back_to_bundled(dead_url, cache_dir):
    catalog = load_catalog(dead_url, cache_dir=cache_dir)

    assert catalog.source == "bundled"
    assert catalog.names == BUNDLED_NAMES


def test_no_cache_dir_falls_back_to_bundled(dead_url):
    assert load_catalog(dead_url).source == "bundled"


@pytest.mark.parametrize(
    "respond", [answer_invalid_json, answer_slowly, answer_dripping, answer_nothing]
)
def test_broken_or_hanging_url_falls_back_to_the_cache(remote_catalog, cache_dir, respond):
    # The handlers hang until the test ends; only the deadline can make this return.
    with serve(respond) as url:
        catalog = load_catalog(url, cache_dir=cache_dir, timeout=0.5)

    assert catalog.source == "cache"
    assert catalog.names == remote_catalog.names


@pytest.mark.parametrize(
    "data",
    [
        {"models": []},
        [],
        [{"name": "Chat", "type": "llm"}],
        "SDXL",
    ],
)
def test_document_without_image_models_falls_back_and_keeps_the_cache(
    remote_catalog, cache_dir, data
):
    before = (cache_dir / CACHE_FILE_NAME).read_bytes()

    with serve(answer_json(data)) as url:
        catalog = load_catalog(url, cache_dir=cache_dir)

    assert catalog.source == "cache"
    assert (cache_dir / CACHE_FILE_NAME).read_bytes() == before


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"a": 1}', '[{"name": "X", "type": "llm"}]']
)
def test_unusable_cache_falls_back_to_bundled(cache_dir, dead_url, content):
    cache_dir.mkdir()
    (cache_dir / CACHE_FILE_NAME).write_text(content, encoding="utf-8")

    assert load_catalog(dead_url, cache_dir=cache_dir).source == "bundled"


def test_offline_catalog_prefers_the_cache(remote_catalog, cache_dir, tmp_path):
    assert offline_catalog(cache_dir).source == "cache"
    assert offline_catalog(tmp_path / "elsewhere").source == "bundled"
    assert offline_catalog().source == "bundled"


def test_file_url_and_plain_path_are_read(tmp_path):
    path = tmp_path / "models.json"
    path.write_text(json.dumps([IMAGE_ENTRY]), encoding="utf-8")

    for url in (path.as_uri(), str(path)):
        catalog = load_catalog(url)
        assert catalog.source == "remote"
        assert catalog.names == ["Tiny"]


# --- parse_models on odd input -----------------------------------------------------------------


@pytest.mark.parametrize("data", [None, {}, {"models": []}, "[]", 42])
def test_parse_models_rejects_a_non_list(data):
    with pytest.raises(ValueError):
        parse_models(data)


def test_parse_models_skips_junk_entries():
    junk = [
        None,
        1,
        "SDXL",
        [],
        {},
        {"name": "NoType"},
        {"type": "sd15"},
        {"name": "", "type": "sd15"},
        {"name": "   ", "type": "sd15"},
        {"name": 5, "type": "sd15"},
        {"name": "BadType", "type": 5},
        {"name": "Chat", "type": "llm"},
        {"name": "Chat2", "type": "llm-chat"},
        {"name": "Video", "type": "video"},
    ]

    assert [model.name for model in parse_models([*junk, IMAGE_ENTRY])] == ["Tiny"]


def test_parse_models_keeps_the_first_of_duplicate_names():
    second = {**IMAGE_ENTRY, "type": "sdxl10"}

    (model,) = parse_models([IMAGE_ENTRY, second])

    assert model.type == "sd15"


def test_unknown_flux_variant_is_an_image_model():
    model = parse_model({"name": "FluxPro", "type": "flux-pro"})

    assert model is not None
    assert model.is_flux
    assert model.kind == "FLUX"


@pytest.mark.parametrize(
    "defaults",
    [None, "junk", [], {"width": "wide", "height": -5, "num_inference_steps": None}],
)
def test_bad_defaults_fall_back_to_safe_values(defaults):
    model = parse_model({"name": "Odd", "type": "sd15", "defaults": defaults})

    assert model.defaults.width > 0 and model.defaults.height > 0
    assert model.defaults.num_iterations > 0
    assert model.takes_negative_prompt


def test_max_size_is_never_below_the_default_size():
    model = parse_model(
        {"name": "Odd", "type": "sd15", "defaults": {"width": 1536, "max_width": 1024}}
    )

    assert model.defaults.max_width == 1536


def test_blank_lora_fields_become_none():
    model = parse_model(
        {"name": "L", "type": "compositexl", "base": "  ", "autofill": "", "recommend": None}
    )

    assert (model.base, model.autofill, model.recommend) == (None, None, None)


def test_an_unknown_model_is_echoed_only_in_part():
    catalog = offline_catalog()
    with pytest.raises(UnknownModelError) as raised:
        catalog.get("x" * 1_000_000)
    assert len(str(raised.value)) < 1000 and "x" * 60 + "…" in str(raised.value)
