"""Settings: explicit argument > environment > .env file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from heurist_ui.config import DEFAULT_BASE_URL, DEFAULT_MODELS_URL, load_settings

SECRET = "user-9#CONFIG-SECRET-KEY-77"


@pytest.fixture
def env_file(tmp_path: Path):
    """Write a .env in the working directory (tmp_path) from keyword arguments."""

    def write(**values: str) -> Path:
        path = tmp_path / ".env"
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
        return path

    return write


def test_defaults_without_env_or_file():
    settings = load_settings()

    assert settings.api_key is None
    assert not settings.has_key
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.models_url == DEFAULT_MODELS_URL
    assert settings.workflow_url == "https://sequencer-v2.heurist.xyz"
    assert settings.output_dir == Path("outputs")


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("HEURIST_API_KEY", "api_key"),
        ("HEURIST_BASE_URL", "base_url"),
        ("HEURIST_MODELS_URL", "models_url"),
        ("HEURIST_WORKFLOW_URL", "workflow_url"),
    ],
)
def test_explicit_beats_env_beats_file_beats_default(monkeypatch, env_file, name, attribute):
    env_file(**{name: "http://from-file"})
    assert getattr(load_settings(), attribute) == "http://from-file"

    monkeypatch.setenv(name, "http://from-env")
    assert getattr(load_settings(), attribute) == "http://from-env"

    explicit = load_settings(**{attribute: "http://explicit"})
    assert getattr(explicit, attribute) == "http://explicit"


def test_output_and_cache_dirs_follow_the_same_order(monkeypatch, env_file, tmp_path):
    env_file(HEURIST_OUTPUT_DIR="file-out", HEURIST_CACHE_DIR="file-cache")
    assert load_settings().output_dir == Path("file-out")
    assert load_settings().cache_dir == Path("file-cache")

    monkeypatch.setenv("HEURIST_OUTPUT_DIR", "env-out")
    assert load_settings().output_dir == Path("env-out")
    assert load_settings(output_dir=tmp_path / "x").output_dir == tmp_path / "x"


def test_env_file_can_be_named_or_switched_off(env_file, tmp_path):
    path = env_file(HEURIST_API_KEY=SECRET)
    moved = path.rename(tmp_path / "custom.env")

    assert load_settings().api_key is None
    assert load_settings(env_file=moved).api_key == SECRET
    assert load_settings(env_file=None).api_key is None


def test_env_file_does_not_touch_os_environ(env_file):
    import os

    env_file(HEURIST_API_KEY=SECRET)
    load_settings()

    assert "HEURIST_API_KEY" not in os.environ


def test_auth_key_is_a_fallback(monkeypatch):
    monkeypatch.setenv("AUTH_KEY", "demo-user#demo-key")

    assert load_settings().api_key == "demo-user#demo-key"


def test_auth_key_in_env_file_is_a_fallback(env_file):
    env_file(AUTH_KEY="demo-user#demo-key")

    assert load_settings().api_key == "demo-user#demo-key"


def test_heurist_api_key_beats_auth_key(monkeypatch):
    monkeypatch.setenv("AUTH_KEY", "demo-user#demo-key")
    monkeypatch.setenv("HEURIST_API_KEY", SECRET)

    assert load_settings().api_key == SECRET


def test_heurist_api_key_beats_auth_key_in_the_file(env_file):
    env_file(AUTH_KEY="demo-user#demo-key", HEURIST_API_KEY=SECRET)

    assert load_settings().api_key == SECRET


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_values_count_as_unset(monkeypatch, env_file, value):
    env_file(HEURIST_API_KEY=SECRET)
    monkeypatch.setenv("HEURIST_API_KEY", value)

    assert load_settings().api_key == SECRET


def test_env_key_is_stripped(monkeypatch):
    monkeypatch.setenv("HEURIST_API_KEY", f"  {SECRET}\n")

    assert load_settings().api_key == SECRET


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765//", "http://127.0.0.1:8765"),
        ("http://sequencer.heurist.xyz", "http://sequencer.heurist.xyz"),
    ],
)
def test_base_url_trailing_slash_is_stripped(monkeypatch, given, expected):
    assert load_settings(base_url=given).base_url == expected

    monkeypatch.setenv("HEURIST_BASE_URL", given)
    assert load_settings().base_url == expected


def test_key_is_not_in_the_settings_repr(monkeypatch):
    settings = load_settings(api_key=SECRET)

    assert settings.api_key == SECRET
    assert SECRET not in repr(settings)
    assert "CONFIG-SECRET" not in str(settings)


def test_an_output_folder_that_holds_the_app_or_a_env_is_refused(tmp_path):
    from heurist_ui.config import APP_ROOT, output_dir_problem

    assert output_dir_problem(APP_ROOT) == "it holds the app's own files"
    assert output_dir_problem(APP_ROOT.parent) == "it holds the app's own files"
    (tmp_path / ".env").write_text("HEURIST_API_KEY=x#y")
    assert output_dir_problem(tmp_path) == "it holds a .env file"
    assert output_dir_problem(tmp_path / "outputs") is None


# --- a Space's persistent storage -------------------------------------------------------------


@pytest.fixture
def space_storage(monkeypatch, tmp_path: Path) -> Path:
    """A Space (SPACE_ID set) whose persistent storage is tmp_path/data, as /data would be."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("SPACE_ID", "someone/heurist-studio")
    monkeypatch.setenv("HEURIST_PERSISTENT_DIR", str(data))
    return data


def test_a_space_with_persistent_storage_keeps_images_and_the_model_list_there(space_storage):
    settings = load_settings(env_file=None)

    assert settings.output_dir == space_storage / "heurist_ui" / "outputs"
    assert settings.cache_dir == space_storage / "heurist_ui" / "cache"
    assert settings.output_max_mb == 1024  # the cap still holds: HEURIST_OUTPUT_MAX_MB moves it


def test_explicit_folders_still_win_over_persistent_storage(space_storage, monkeypatch, env_file):
    env_file(HEURIST_CACHE_DIR="file-cache")
    monkeypatch.setenv("HEURIST_OUTPUT_DIR", "env-out")
    settings = load_settings()
    assert (settings.output_dir, settings.cache_dir) == (Path("env-out"), Path("file-cache"))
    explicit = load_settings(output_dir="mine", cache_dir="my-cache")
    assert (explicit.output_dir, explicit.cache_dir) == (Path("mine"), Path("my-cache"))


def test_without_a_space_the_storage_folder_is_not_used(space_storage, monkeypatch):
    monkeypatch.delenv("SPACE_ID")
    settings = load_settings(env_file=None)
    assert settings.output_dir == Path("outputs")
    assert settings.cache_dir == Path("~/.cache/heurist_ui").expanduser()


@pytest.mark.parametrize("storage", ["missing", "a file"])
def test_a_space_without_persistent_storage_keeps_the_usual_folders(space_storage, storage):
    space_storage.rmdir()
    if storage == "a file":
        space_storage.write_text("not a folder")
    settings = load_settings(env_file=None)
    assert settings.output_dir == Path("outputs")
    assert settings.cache_dir == Path("~/.cache/heurist_ui").expanduser()


def test_a_read_only_storage_folder_is_not_used(space_storage, monkeypatch):
    import os

    real_access = os.access
    monkeypatch.setattr(  # root may write anywhere, so chmod cannot make the folder read-only
        os,
        "access",
        lambda path, mode: False if Path(path) == space_storage else real_access(path, mode),
    )
    assert load_settings(env_file=None).output_dir == Path("outputs")


def test_the_command_line_saves_on_a_spaces_persistent_storage(space_storage, capsys):
    from heurist_ui import cli

    code = cli.main(["generate", "a lighthouse", "--sandbox", "--width", "256", "--height", "256"])

    assert code == cli.EXIT_OK
    (saved,) = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert saved.is_relative_to(space_storage / "heurist_ui" / "outputs") and saved.is_file()
    assert (space_storage / "heurist_ui" / "cache" / "sandbox" / "models.json").is_file()
