"""The model catalogue: Heurist's image models and their defaults.

Read from the heurist-models `models.json` (LLM entries dropped), with the last good copy cached
on disk; when the URL is slow, dead or broken, the cache, then the catalogue bundled in the package
(`heurist_ui/data/models.json`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

from .bundled import MODELS_JSON
from .errors import UnknownModelError
from .model_types import ModelType, find_model_type

log = logging.getLogger(__name__)

BUNDLED_CATALOG = MODELS_JSON
CACHE_FILE_NAME = "models.json"
CATALOG_TIMEOUT = 3.0  # seconds, the whole fetch: a dead catalogue must not hold up start-up
MAX_CATALOG_BYTES = 5 * 1024 * 1024


def is_image_type(type_name: str) -> bool:
    """True for the model types that make images (LLM entries share the file)."""
    return find_model_type(type_name) is not None


@dataclass(frozen=True)
class ModelDefaults:
    """What the model's authors recommend, and the largest size it accepts."""

    width: int = 512
    height: int = 512
    max_width: int = 1024
    max_height: int = 1024
    neg_prompt: str | None = ""  # None: the model takes no negative prompt
    num_iterations: int = 20
    guidance_scale: float = 7.0
    seed: int = -1


@dataclass(frozen=True)
class ModelInfo:
    """One image model of the catalogue."""

    name: str
    type: str
    defaults: ModelDefaults = field(default_factory=ModelDefaults)
    base: str | None = None  # LoRA: the checkpoint it applies to
    autofill: str | None = None  # LoRA: trigger words to put in the prompt
    recommend: str | None = None  # LoRA: suggested keywords
    author: str | None = None
    info_url: str | None = None

    @property
    def model_type(self) -> ModelType:
        kind = find_model_type(self.type)
        if kind is None:  # parse_model keeps image types only
            raise ValueError(f"{self.type!r} is not an image model type")
        return kind

    @property
    def kind(self) -> str:
        return self.model_type.label

    @property
    def label(self) -> str:
        return self.name if self.name == self.kind else f"{self.name} · {self.kind}"

    @property
    def family(self) -> str:
        return self.model_type.family

    @property
    def is_flux(self) -> bool:
        return self.family == "flux"

    @property
    def is_lora(self) -> bool:
        return self.model_type.is_lora

    @property
    def takes_negative_prompt(self) -> bool:
        return self.model_type.takes_negative_prompt and self.defaults.neg_prompt is not None


def _int(value: Any, fallback: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return fallback
    return number if number > 0 else fallback


def _float(value: Any, fallback: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return fallback


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def parse_model(entry: Any) -> ModelInfo | None:
    """One models.json entry as a ModelInfo, or None if it is not a usable image model."""
    if not isinstance(entry, dict):
        return None
    name, model_type = entry.get("name"), entry.get("type")
    if not isinstance(name, str) or not name.strip() or not isinstance(model_type, str):
        return None
    if not is_image_type(model_type):
        return None
    raw = entry.get("defaults") if isinstance(entry.get("defaults"), dict) else {}
    base = ModelDefaults()
    neg_prompt = raw.get("neg_prompt", base.neg_prompt)
    width, height = _int(raw.get("width"), base.width), _int(raw.get("height"), base.height)
    defaults = ModelDefaults(
        width=width,
        height=height,
        max_width=max(_int(raw.get("max_width"), base.max_width), width),
        max_height=max(_int(raw.get("max_height"), base.max_height), height),
        neg_prompt=None if neg_prompt is None else str(neg_prompt),
        num_iterations=_int(raw.get("num_inference_steps"), base.num_iterations),
        guidance_scale=_float(raw.get("guidance_scale"), base.guidance_scale),
        seed=int(_float(raw.get("seed"), -1)),
    )
    return ModelInfo(
        name=name.strip(),
        type=model_type,
        defaults=defaults,
        base=_text(entry.get("base")),
        autofill=_text(entry.get("autofill")),
        recommend=_text(entry.get("recommend")),
        author=_text(entry.get("author")),
        info_url=_text(entry.get("info_url")),
    )


def parse_models(data: Any) -> tuple[ModelInfo, ...]:
    """The image models of a models.json document, in file order, first of each name kept."""
    if not isinstance(data, list):
        raise ValueError("models.json must be a JSON array")
    models: dict[str, ModelInfo] = {}
    for entry in data:
        model = parse_model(entry)
        if model is not None and model.name not in models:
            models[model.name] = model
    return tuple(models.values())


# The gateway's models named in Heurist's API reference, for a list that names none.
DEFAULT_LLMS = ("meta-llama/llama-3.3-70b-instruct", "hermes-3-llama3.1-8b")


def parse_llms(data: Any) -> tuple[str, ...]:
    """The names of the language models (types starting with "llm") in a models.json document."""
    if not isinstance(data, list):
        return ()
    names = [
        entry["name"].strip()
        for entry in data
        if isinstance(entry, dict)
        and isinstance(entry.get("name"), str)
        and entry["name"].strip()
        and str(entry.get("type", "")).startswith("llm")
    ]
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class ModelCatalog:
    """The image models on offer, the gateway's language models, and where the list came from."""

    models: tuple[ModelInfo, ...]
    source: str = "bundled"  # "remote", "cache" or "bundled"
    llms: tuple[str, ...] = DEFAULT_LLMS

    def default_llm(self) -> str:
        """The enhancer's model: Llama 3.3 70B if offered (a strong writer), else the first."""
        return next((name for name in self.llms if "llama-3.3-70b" in name), self.llms[0])

    def __iter__(self) -> Iterator[ModelInfo]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    def __contains__(self, name: object) -> bool:
        return any(model.name == name for model in self.models)

    @property
    def names(self) -> list[str]:
        return [model.name for model in self.models]

    def find(self, name: object) -> ModelInfo | None:
        """The model called name, or None."""
        return next((model for model in self.models if model.name == name), None)

    def get(self, name: str) -> ModelInfo:
        """The model called name; UnknownModelError names the choices if there is none."""
        for model in self.models:
            if model.name == name:
                return model
        shown = str(name)[:60] + ("…" if len(str(name)) > 60 else "")
        raise UnknownModelError(f"Unknown model {shown!r}. Choose one of: {', '.join(self.names)}.")

    def default_model(self) -> ModelInfo:
        """The model a new user starts with: SDXL if offered, else the first."""
        return next((m for m in self.models if m.name == "SDXL"), self.models[0])


def _read_json_file(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _fetch_json(url: str, timeout: float) -> Any:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return _read_json_file(Path(parsed.path if parsed.scheme else url))
    with requests.get(url, timeout=timeout, stream=True) as response:
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > MAX_CATALOG_BYTES:
                raise ValueError("models.json is larger than expected")
    return json.loads(body)


def _fetch_with_deadline(url: str, timeout: float) -> Any:
    """Fetch url, giving up after timeout seconds in all, however slowly it answers."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["data"] = _fetch_json(url, timeout)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="heurist-catalog-fetch", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["data"]


def _write_cache(cache_dir: Path, data: Any) -> None:
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".models-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, cache_dir / CACHE_FILE_NAME)
    except OSError as exc:
        log.warning("Could not cache the model list in %s: %s", cache_dir, exc)


def offline_catalog(cache_dir: Path | None = None) -> ModelCatalog:
    """The cached catalogue if there is a good one, else the bundled one; no network."""
    if cache_dir is not None:
        try:
            data = _read_json_file(Path(cache_dir) / CACHE_FILE_NAME)
            models = parse_models(data)
            if models:
                return ModelCatalog(models, source="cache", llms=parse_llms(data) or DEFAULT_LLMS)
        except (OSError, ValueError) as exc:
            log.debug("No usable cached model list: %s", exc)
    return ModelCatalog(parse_models(_read_json_file(BUNDLED_CATALOG)), source="bundled")


def load_catalog(
    url: str, *, cache_dir: Path | None = None, timeout: float = CATALOG_TIMEOUT
) -> ModelCatalog:
    """The catalogue at url (cached on success), else offline_catalog(cache_dir)."""
    try:
        data = _fetch_with_deadline(url, timeout)
        models = parse_models(data)
        if not models:
            raise ValueError("it lists no image models")
    except Exception as exc:  # any failure falls back; the reason is logged
        log.warning("Model list at %s unavailable (%s); using a stored copy.", url, exc)
        return offline_catalog(cache_dir)
    if cache_dir is not None:
        _write_cache(Path(cache_dir), data)
    return ModelCatalog(models, source="remote", llms=parse_llms(data) or DEFAULT_LLMS)


class CatalogStore:
    """The one owner of the live catalogue, shared by every user of a client.

    Starts empty (the first read fetches, a few seconds at most) or from a local copy
    (start_offline); refresh() replaces it only with something at least as good.
    """

    def __init__(
        self, models_url: str, cache_dir: Path | None, catalog: ModelCatalog | None = None
    ) -> None:
        self.models_url = models_url
        self.cache_dir = cache_dir
        self._catalog = catalog
        self._lock = threading.Lock()

    @property
    def current(self) -> ModelCatalog:
        """The catalogue now, fetched on first use if nothing was loaded yet."""
        with self._lock:
            if self._catalog is None:
                self._catalog = load_catalog(self.models_url, cache_dir=self.cache_dir)
            return self._catalog

    def replace(self, catalog: ModelCatalog) -> None:
        with self._lock:
            self._catalog = catalog

    def start_offline(self) -> ModelCatalog:
        """Use the cached or bundled list at once, with no network."""
        catalog = offline_catalog(self.cache_dir)
        self.replace(catalog)
        return catalog

    def refresh(self) -> ModelCatalog:
        """Fetch the catalogue now, keeping the one held if the fetch falls back to a worse copy."""
        fresh = load_catalog(self.models_url, cache_dir=self.cache_dir)
        with self._lock:
            if (
                self._catalog is None
                or fresh.source == "remote"
                or self._catalog.source == "bundled"
            ):
                self._catalog = fresh
            return self._catalog

    def refresh_in_background(self) -> None:
        threading.Thread(target=self.refresh, name="heurist-catalog", daemon=True).start()
