"""Nothing the API answers can make the app serve a local file.

Heurist's own demo turned an answer of `file:///etc/passwd` into a file the app served. Here
every such answer must end in an error, every gallery item must be a file the app saved itself,
and the app's file route must refuse local paths outside its output folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from gradio.utils import get_upload_folder
from test_reliability_support import (
    assert_still_serves,
    call_generate,
    fast_retries,
    gallery_paths,
    generate_data,
)
from ui_helpers import running_studio

KEY = "paths-user#paths-key"
PASSWD_WORDS = ("root:", "/bin/")


@pytest.fixture(scope="module")
def app(sandbox_server, tmp_path_factory):
    with running_studio(sandbox_server, tmp_path_factory.mktemp("paths"), api_key=KEY) as app:
        fast_retries(app.studio.client)
        assert call_generate(app.url, generate_data()).ok  # the output and cache folders exist
        yield app


def app_port(app) -> int:
    return urlsplit(app.url).port


def saved_files(app) -> set[Path]:
    return set(Path(app.settings.output_dir).rglob("*"))


def inside(path: Path, *folders: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(Path(folder).resolve()) for folder in folders)


HOSTILE_URLS = [
    "file:///etc/passwd",
    "file:/etc/passwd",
    "file://localhost/etc/passwd",
    "/etc/passwd",
    "../../etc/passwd",
    "etc/passwd",
    "~/.ssh/id_rsa",
    "C:\\Windows\\win.ini",
    "{app}/gradio_api/file=/etc/passwd",
    "{app}/gradio_api/file=.env",
    "http://localhost:{port}/gradio_api/file=/etc/passwd",
    "http://[::1]:{port}/gradio_api/file=/etc/passwd",
    "http://0.0.0.0:{port}/gradio_api/file=/etc/passwd",
    "gopher://127.0.0.1:{port}/",
    "data:image/png;base64,iVBORw0KGgo=",
]


@pytest.mark.parametrize("template", HOSTILE_URLS)
def test_an_image_url_pointing_at_a_local_file_ends_in_an_error(app, sandbox, tmp_path, template):
    (tmp_path / ".env").write_text(f"HEURIST_API_KEY={KEY}\n")  # the cwd holds a secret
    url = template.format(app=app.url.rstrip("/"), port=app_port(app))
    before = saved_files(app)
    sandbox.add_fault("image_url", url=url)

    outcome = call_generate(app.url, generate_data())

    assert outcome.clear_error, outcome.message
    assert outcome.gallery == [] and outcome.records == []
    assert not any(word in outcome.message for word in PASSWD_WORDS)
    assert KEY not in outcome.message
    assert saved_files(app) == before, "something from a hostile link was saved"
    assert_still_serves(app.url, sandbox)


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "http://localhost:{port}/gradio_api/file=/etc/passwd",
        "http://127.0.0.1:{port}/gradio_api/file=/etc/passwd",
    ],
)
def test_an_image_redirecting_to_a_local_file_ends_in_an_error(app, sandbox, location):
    before = saved_files(app)
    sandbox.add_fault("image", mode="redirect", location=location.format(port=app_port(app)))

    outcome = call_generate(app.url, generate_data())

    assert outcome.clear_error, outcome.message
    assert outcome.gallery == [] and outcome.records == []
    assert not any(word in outcome.message for word in PASSWD_WORDS)
    assert saved_files(app) == before


def test_gallery_items_are_only_files_the_app_saved_in_its_output_folder(app, sandbox):
    outcome = call_generate(app.url, generate_data(num_images=2))

    assert outcome.ok and len(outcome.gallery) == 2
    output_dir = Path(app.settings.output_dir)
    saved = {path.name for path in output_dir.rglob("*.png")}
    for item, path in zip(outcome.gallery, gallery_paths(outcome), strict=True):
        # Gradio serves a copy from its own upload folder; the original is in the output folder.
        assert inside(path, output_dir, Path(get_upload_folder())), path
        assert path.name in saved
        served = urlsplit(item["image"]["url"])
        assert f"{served.scheme}://{served.netloc}/" == app.url
        assert served.path.startswith("/gradio_api/file=")
        response = requests.get(item["image"]["url"], timeout=10)
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    for record in outcome.records:
        assert urlsplit(record["url"]).scheme == "http"  # the API's link, never a local path


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "../../../../../../etc/passwd",
        "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "file:/etc/passwd",
        "file:///etc/passwd",
        "{cwd}/file:/etc/passwd",
        "{cwd}/.env",
        ".env",
        "{cache}/models.json",
        "{out}/../cache/models.json",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:{sandbox_port}/models.json",
    ],
)
def test_the_file_route_refuses_local_files_outside_the_output_folder(app, sandbox, tmp_path, path):
    (tmp_path / ".env").write_text(f"HEURIST_API_KEY={KEY}\n")
    target = path.format(
        cwd=os.getcwd(),
        cache=app.settings.cache_dir,
        out=app.settings.output_dir,
        sandbox_port=urlsplit(sandbox.url).port,
    )

    response = requests.get(f"{app.url}gradio_api/file={target}", timeout=10)

    assert response.status_code in (403, 404), (response.status_code, response.text[:200])
    assert not any(word in response.text for word in PASSWD_WORDS)
    assert KEY not in response.text and "sdxl10" not in response.text
