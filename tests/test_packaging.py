"""The package: one list of dependencies, and a wheel that ships its data and the command.

The wheel is built offline from a copy of the sources (the checkout is never written to) and
installed, without its dependencies, into a folder of its own: what `pip install .` puts in
site-packages, run from outside the checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
import tomllib
from ui_helpers import api_client, free_port, generate_arguments
from waiting import wait_until

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
DATA_FILES = ("models.json", "examples.json", "styles.json")


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def test_requirements_txt_repeats_the_packages_dependencies_for_spaces():
    assert _requirements(REPO / "requirements.txt") == PYPROJECT["project"]["dependencies"]


def test_the_dev_requirements_are_the_package_with_its_dev_extra():
    assert _requirements(REPO / "requirements-dev.txt") == ["-e .[dev]"]
    assert "pytest>=8" in PYPROJECT["project"]["optional-dependencies"]["dev"]


def test_the_space_runs_the_gradio_the_package_requires():
    front_matter = (REPO / "README.md").read_text(encoding="utf-8").split("---")[1]
    sdk_version = re.search(r"^sdk_version: (\S+)$", front_matter, re.MULTILINE).group(1)
    assert f"gradio[mcp]=={sdk_version}" in PYPROJECT["project"]["dependencies"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would install, built offline from a copy of the sources."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "heurist_ui", source / "heurist_ui", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--wheel-dir", str(work / "dist"), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (built,) = (work / "dist").glob("heurist_ui-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed (without its dependencies) in a folder of its own."""
    target = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target"]
    subprocess.run([*command, str(target), str(wheel)], check=True, capture_output=True)
    return target


def _env(installed: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEURIST_", "GRADIO_"))}
    env.update(
        PYTHONPATH=str(installed),
        HEURIST_CACHE_DIR=str(tmp_path / "cache"),
        HEURIST_OUTPUT_DIR=str(tmp_path / "out"),
        GRADIO_TEMP_DIR=str(tmp_path / "gradio"),
        GRADIO_ANALYTICS_ENABLED="False",
        NO_PROXY="*",
    )
    return env


def test_the_wheel_holds_the_package_its_data_and_the_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = re.findall(r"^Requires-Dist: (.+)$", archive.read(metadata).decode(), re.M)
    assert {f"heurist_ui/data/{name}" for name in DATA_FILES} <= names
    assert {"heurist_ui/app.py", "heurist_ui/cli.py", "heurist_ui/ui/__init__.py"} <= names
    assert not any(n.startswith(("tests/", "bench/", "scripts/", "assets/")) for n in names)
    assert "heurist-studio = heurist_ui.app:main" in scripts
    runtime = [r for r in requires if "extra ==" not in r]
    assert sorted(runtime) == sorted(PYPROJECT["project"]["dependencies"])


def test_the_installed_package_finds_its_data_outside_the_checkout(installed, tmp_path):
    code = (
        "import heurist_ui, heurist_ui.prompt_help as h, heurist_ui.catalog as c; "
        "print(heurist_ui.__file__); print(len(h.styles()), len(c.offline_catalog()))"
    )
    env = _env(installed, tmp_path)
    shown = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    where, counts = shown.stdout.splitlines()
    assert Path(where).is_relative_to(installed)
    assert all(int(count) > 0 for count in counts.split())

    models = subprocess.run(
        [sys.executable, "-m", "heurist_ui", "models", "--sandbox"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert models.returncode == 0, models.stderr
    assert "SDXL" in models.stdout and "from Heurist's model list" in models.stderr


@pytest.mark.timeout(240)
def test_the_heurist_studio_command_serves_and_generates(installed, tmp_path):
    command = installed / "bin" / "heurist-studio"
    usage = subprocess.run(
        [str(command), "--help"], env=_env(installed, tmp_path), capture_output=True, text=True
    )
    assert usage.returncode == 0 and "--sandbox" in usage.stdout, usage.stderr
    assert usage.stdout.startswith("usage: heurist-studio")

    port = free_port()
    argv = [str(command), "--sandbox", "--port", str(port), "--no-mcp"]
    process = subprocess.Popen(
        [*argv, "--env-file", str(tmp_path / "none.env")],
        env=_env(installed, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(lambda: _serves(url), "heurist-studio to serve its page", limit=180)
        client = api_client(url)
        gallery, records = client.predict(**generate_arguments(), api_name="/generate")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert len(gallery) == len(records) == 1
    (saved,) = (tmp_path / "out").glob("*/*.png")
    assert records[0]["prompt"] == "a lighthouse at dusk" and saved.stat().st_size > 0


def _serves(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
