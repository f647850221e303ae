"""Settings: explicit arguments win over the environment, which wins over a .env file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_BASE_URL = "http://sequencer.heurist.xyz"
DEFAULT_MODELS_URL = (
    "https://raw.githubusercontent.com/heurist-network/heurist-models/main/models.json"
)
# Heurist's API reference documents POST /v1/chat/completions; its SDK's base (without /v1)
# reaches /chat/completions, which the gateway answers too.
DEFAULT_LLM_BASE_URL = "https://llm-gateway.heurist.xyz/v1"
# Heurist's workflow API (video, FLUX with LoRAs): a second host, as in Heurist's SDK.
DEFAULT_WORKFLOW_URL = "https://sequencer-v2.heurist.xyz"
DEFAULT_OUTPUT_DIR = "outputs"
DEFAULT_CACHE_DIR = "~/.cache/heurist_ui"
# The key a sandbox run sends: the sandbox takes any, and it must not be a real one.
SANDBOX_KEY = "sandbox-user#sandbox-key"
# A sandbox run keeps its model list here, under the cache folder: never the real list's copy.
SANDBOX_CACHE_DIR = "sandbox"
# A Space's disk is small and shared by every visitor, for weeks: keep the last GB of images.
SPACE_OUTPUT_MAX_MB = 1024.0
# A Hugging Face Space's persistent storage, when it has some: the only folder that outlives a
# restart. HEURIST_PERSISTENT_DIR names another (tests point it at a temporary folder).
SPACE_PERSISTENT_DIR = "/data"
PERSISTENT_SUBDIR = "heurist_ui"  # ours, beside whatever else the Space keeps there
# Shared or on a Space, anyone may spend the server key's credits: jobs a minute per visitor.
SHARED_RATE_LIMIT = 30
# Under the cap, no image younger than this is deleted (a visitor may still be looking at it).
DEFAULT_OUTPUT_GRACE_MIN = 15.0


@dataclass(frozen=True)
class Settings:
    """Where to reach Heurist, with which key, and where to keep files."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    models_url: str = DEFAULT_MODELS_URL
    llm_base_url: str = DEFAULT_LLM_BASE_URL
    workflow_url: str = DEFAULT_WORKFLOW_URL
    output_dir: Path = field(default_factory=lambda: Path(DEFAULT_OUTPUT_DIR))
    cache_dir: Path = field(default_factory=lambda: Path(DEFAULT_CACHE_DIR).expanduser())
    output_max_mb: float | None = None  # None: keep every image
    rate_limit: int | None = None  # jobs a minute per visitor on the server's key; None: off
    output_grace_min: float = DEFAULT_OUTPUT_GRACE_MIN  # minutes an image is safe from the cap

    @property
    def output_max_bytes(self) -> int | None:
        return None if self.output_max_mb is None else int(self.output_max_mb * 1024 * 1024)

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)


def load_settings(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    models_url: str | None = None,
    llm_base_url: str | None = None,
    workflow_url: str | None = None,
    output_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    output_max_mb: float | str | None = None,
    rate_limit: int | str | None = None,
    output_grace_min: float | str | None = None,
    shared: bool = False,
    env_file: str | Path | None = ".env",
) -> Settings:
    """Resolve settings: argument, then environment, then the .env file, then the default.

    The API key comes from HEURIST_API_KEY, or AUTH_KEY (the name Heurist's own demo uses).
    On a Space with persistent storage, images and the model list default to under /data.
    The .env file is read without touching os.environ. shared (a public link) turns the
    per-visitor rate limit on by default, as a Space (SPACE_ID set) does.
    """
    file_values = {}
    if env_file is not None and Path(env_file).is_file():
        file_values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}

    def pick(explicit: object, *names: str) -> str | None:
        if explicit is not None and explicit != "":
            return str(explicit)
        for source in (os.environ, file_values):
            for name in names:
                value = (source.get(name) or "").strip()
                if value:
                    return value
        return None

    return Settings(
        api_key=pick(api_key, "HEURIST_API_KEY", "AUTH_KEY"),
        base_url=(pick(base_url, "HEURIST_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        models_url=pick(models_url, "HEURIST_MODELS_URL") or DEFAULT_MODELS_URL,
        llm_base_url=(pick(llm_base_url, "HEURIST_LLM_BASE_URL") or DEFAULT_LLM_BASE_URL).rstrip(
            "/"
        ),
        workflow_url=(pick(workflow_url, "HEURIST_WORKFLOW_URL") or DEFAULT_WORKFLOW_URL).rstrip(
            "/"
        ),
        output_dir=Path(pick(output_dir, "HEURIST_OUTPUT_DIR") or default_output_dir()),
        cache_dir=Path(pick(cache_dir, "HEURIST_CACHE_DIR") or default_cache_dir()).expanduser(),
        output_max_mb=_megabytes(pick(output_max_mb, "HEURIST_OUTPUT_MAX_MB")),
        rate_limit=_per_minute(pick(rate_limit, "HEURIST_RATE_LIMIT"), shared),
        output_grace_min=_minutes(pick(output_grace_min, "HEURIST_OUTPUT_GRACE_MIN")),
    )


def _minutes(value: str | None) -> float:
    """The grace period in minutes: 0 or more."""
    if value is None:
        return DEFAULT_OUTPUT_GRACE_MIN
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise ValueError(
            f"HEURIST_OUTPUT_GRACE_MIN must be a number of minutes (0 or more), not {value[:20]!r}."
        )
    return number


def persistent_dir() -> Path | None:
    """Our folder in a Space's persistent storage (/data/heurist_ui), or None without one.

    Only on a Space (SPACE_ID set) whose /data (or HEURIST_PERSISTENT_DIR) is a writable
    folder: that is where a Space with persistent storage turned on keeps files across restarts.
    """
    if not os.environ.get("SPACE_ID"):
        return None
    root = Path(os.environ.get("HEURIST_PERSISTENT_DIR") or SPACE_PERSISTENT_DIR)
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        return None
    return root / PERSISTENT_SUBDIR


def default_output_dir() -> Path:
    """Where images go unless told: the Space's persistent storage if any, else ./outputs."""
    persistent = persistent_dir()
    return persistent / "outputs" if persistent else Path(DEFAULT_OUTPUT_DIR)


def default_cache_dir() -> Path:
    """Where the model list is kept unless told: persistent storage if any, else ~/.cache."""
    persistent = persistent_dir()
    return persistent / "cache" if persistent else Path(DEFAULT_CACHE_DIR).expanduser()


def sandbox_settings(
    settings: Settings,
    *,
    base_url: str,
    models_url: str,
    llm_base_url: str | None = None,
    workflow_url: str | None = None,
) -> Settings:
    """settings pointed at a local sandbox, with its key and a model-list cache of its own.

    The sandbox's list must never become "the last saved copy of Heurist's model list" that a
    later offline run falls back to.
    """
    return replace(
        settings,
        api_key=SANDBOX_KEY,
        base_url=base_url,
        models_url=models_url,
        llm_base_url=llm_base_url or settings.llm_base_url,
        workflow_url=workflow_url or settings.workflow_url,
        cache_dir=settings.cache_dir / SANDBOX_CACHE_DIR,
    )


def _per_minute(value: str | None, shared: bool) -> int | None:
    """Images a minute per visitor: a whole number, 0 or 'none' for no limit; on when public."""
    if value is None:
        return SHARED_RATE_LIMIT if shared or os.environ.get("SPACE_ID") else None
    if value.strip().lower() in ("0", "none", "off"):
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValueError(
            f"HEURIST_RATE_LIMIT must be a whole number of jobs a minute (or none), "
            f"not {value[:20]!r}."
        ) from None
    if number < 0:
        raise ValueError("HEURIST_RATE_LIMIT must be 0 (none) or more.")
    return number or None


def _megabytes(value: str | None) -> float | None:
    """The cap in MB: a positive number, 0 or 'none' for none; a Space's default on a Space."""
    if value is None:
        return SPACE_OUTPUT_MAX_MB if os.environ.get("SPACE_ID") else None
    if value.strip().lower() in ("0", "none", "unlimited"):
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(
            f"HEURIST_OUTPUT_MAX_MB must be a number of megabytes (or none), not {value[:20]!r}."
        ) from None
    if number < 0 or number != number:
        raise ValueError("HEURIST_OUTPUT_MAX_MB must be 0 (none) or more.")
    return number or None


APP_ROOT = Path(__file__).resolve().parent.parent


def output_dir_problem(output_dir: str | Path, app_root: Path = APP_ROOT) -> str | None:
    """Why output_dir must not be served (it holds the app, or a .env), or None if it may be."""
    folder = Path(output_dir).expanduser().resolve()
    if folder == app_root or folder in app_root.parents:
        return "it holds the app's own files"
    if (folder / ".env").exists():
        return "it holds a .env file"
    return None
