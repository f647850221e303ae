"""SmartGen: a short description made into a prompt the way the image model's family likes it.

Asks Heurist's OpenAI-compatible LLM gateway through the `openai` client. Retries follow the
image jobs' rules: a refused connection or a 429/502/503/504 is tried again; a read timeout, a
dropped answer or a 500 never is (the tokens may have been billed).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from .client import check_key
from .config import Settings
from .errors import (
    InvalidRequestError,
    UnexpectedResponseError,
    redact,
)

DEFAULT_TIMEOUT = 30.0  # seconds for one answer
DEFAULT_DEADLINE = 40.0  # seconds for the whole of one exchange, however the bytes trickle
DEFAULT_MAX_RETRIES = 2
TEMPERATURE = 0.7
MAX_TOKENS = 200
MAX_DESCRIPTION_CHARS = 1000
MAX_MUST_INCLUDE_CHARS = 200
MAX_PROMPT_CHARS = 1500
MAX_SD_WEIGHT = 1.4
LEVEL_NAMES = ("stylization", "detail", "color", "lighting")

# Level 3 of each adds nothing; the others say how far to go, as SmartGen's levels do.
LEVEL_WORDS: dict[str, dict[int, str]] = {
    "stylization": {
        1: "strictly photorealistic, like an unedited photograph",
        2: "mostly realistic, with a light artistic touch",
        4: "clearly stylized, like an illustration or painting",
        5: "highly stylized and abstract, bold artistic interpretation",
    },
    "detail": {
        1: "minimal and clean, few elements, lots of empty space",
        2: "simple, with only the essential details",
        4: "richly detailed, with textures and small elements",
        5: "hyper-detailed, intricate textures everywhere",
    },
    "color": {
        1: "monochrome or black and white",
        2: "muted, desaturated colors",
        4: "vivid, saturated colors",
        5: "hyper-saturated, electric colors",
    },
    "lighting": {
        1: "flat, even lighting without shadows",
        2: "soft, gentle lighting",
        4: "dramatic lighting with strong contrast",
        5: "extreme, theatrical lighting with deep shadows and bright highlights",
    },
}

SD_INSTRUCTIONS = (
    "You write prompts for Stable Diffusion image models. Answer with the prompt only: "
    "comma-separated tags and short phrases, at most 15, most important first (subject, then "
    "style, lighting, composition). No sentences, no explanations, no quotes. You may weight "
    f"a key tag like (tag:1.2), never above {MAX_SD_WEIGHT}. "
)
FLUX_INSTRUCTIONS = (
    "You write prompts for the FLUX image model. Answer with the prompt only: one direct "
    "visual description in plain sentences, under 50 words, using photographic or "
    "illustration terms. Do not start with 'create' or 'an image of'; no quotes, no "
    "explanations, no weights. "
)
# Any language in, an English prompt out; a translation says so with a marker we take off.
TRANSLATION = (
    "Always write the prompt in English. If the description is not in English, translate "
    "it, and begin your answer with [from <language>], e.g. [from French]."
)
SD_INSTRUCTIONS += TRANSLATION
FLUX_INSTRUCTIONS += TRANSLATION
_TRANSLATED = re.compile(r"^\[from ([^\]]{1,40})\]\s*", re.IGNORECASE)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WEIGHT = re.compile(r"\(([^():]+):\s*([0-9]*\.?[0-9]+)\)")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


@dataclass(frozen=True)
class EnhanceRequest:
    """What to enhance, and how; checked before anything is sent."""

    description: str
    family: str  # "sd15", "sdxl" or "flux": which kind of prompt to write
    llm_model: str
    stylization: int = 3
    detail: int = 3
    color: int = 3
    lighting: int = 3
    must_include: str = ""

    @property
    def is_sd(self) -> bool:
        return self.family != "flux"


def check_request(
    description: Any,
    *,
    family: str,
    llm_model: Any,
    llm_models: list[str] | None = None,
    must_include: Any = "",
    **levels: Any,
) -> EnhanceRequest:
    """An EnhanceRequest, or an InvalidRequestError saying what to change."""
    raw = description if isinstance(description, str) else str(description or "")
    if len(raw) > MAX_DESCRIPTION_CHARS * 2:  # before any work on it: bounded whatever is sent
        raise InvalidRequestError(
            f"The description is too long to enhance ({len(raw)} characters; at most "
            f"{MAX_DESCRIPTION_CHARS})."
        )
    text = _CONTROL.sub("", raw).strip()
    if not text:
        raise InvalidRequestError("Describe the image in a few words first, then press Enhance.")
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(
            f"The description is too long to enhance ({len(text)} characters; at most "
            f"{MAX_DESCRIPTION_CHARS})."
        )
    model = str(llm_model or "").strip()
    if llm_models is not None and model not in llm_models:
        raise InvalidRequestError(
            f"Unknown language model {model[:60]!r}. Choose one of: {', '.join(llm_models)}."
        )
    keep = _CONTROL.sub("", str(must_include or "")).strip()
    if len(keep) > MAX_MUST_INCLUDE_CHARS:
        raise InvalidRequestError(
            f"'Must include' is too long ({len(keep)} characters; at most "
            f"{MAX_MUST_INCLUDE_CHARS})."
        )
    checked = {name: _level(levels.get(name, 3), name) for name in LEVEL_NAMES}
    return EnhanceRequest(text, family, model, must_include=keep, **checked)


def _level(value: Any, name: str) -> int:
    try:
        number = float(3 if value is None else value)
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not 1 <= number <= 5:
        raise InvalidRequestError(f"The {name} level must be a whole number from 1 to 5.")
    return int(number)


def build_messages(request: EnhanceRequest) -> list[dict[str, str]]:
    """The chat messages: our instructions for the family, then the user's wishes."""
    lines = [f"Description: {request.description}"]
    for name in LEVEL_NAMES:
        words = LEVEL_WORDS[name].get(getattr(request, name))
        if words:
            lines.append(f"{name.capitalize()}: {words}.")
    if request.must_include:
        lines.append(f'Must include, word for word: "{request.must_include}"')
    system = SD_INSTRUCTIONS if request.is_sd else FLUX_INSTRUCTIONS
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def split_translation(answer: Any) -> tuple[str | None, str]:
    """(the language the description was translated from, or None; the rest of the answer)."""
    text = _CONTROL.sub(" ", str(answer or "")).strip()
    found = _TRANSLATED.match(text)
    if not found:
        return None, text
    language = " ".join(found.group(1).split()).strip(".:")
    return (language if language.lower() != "english" else None), text[found.end() :]


def clean_answer(answer: Any, request: EnhanceRequest) -> str:
    """The prompt in the answer: unwrapped, unquoted, weights capped, must-include kept."""
    _, text = split_translation(answer)
    text = _FENCE.sub("", text).strip()
    if text.startswith("{"):
        text = _from_json(text)
    for prefix in ("prompt:", "enhanced prompt:", "here is the prompt:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    text = text.strip().strip("\"'“”‘’`").strip()
    text = " ".join(text.split())
    if request.is_sd:
        text = text.replace(";", ",")
        text = _WEIGHT.sub(_capped_weight, text)
    if not text or not any(char.isalnum() for char in text):
        raise UnexpectedResponseError(
            "The language model gave an empty or unreadable answer. Try Enhance again, or pick "
            "another language model."
        )
    keep = request.must_include
    if keep and keep.lower() not in text.lower():
        text = f"{keep}, {text}" if request.is_sd else f"{keep}. {text}"
    return text[:MAX_PROMPT_CHARS]


def _from_json(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        for key in ("prompt", "enhanced_prompt", "text", "content"):
            if isinstance(data.get(key), str):
                return data[key]
    return text


def _capped_weight(match: re.Match[str]) -> str:
    weight = min(float(match.group(2)), MAX_SD_WEIGHT)
    return f"({match.group(1).strip()}:{weight:g})"


class PromptEnhancer:
    """One openai client for the gateway, shared by every user (each call brings its key).

    The client (and `openai`) is made on the first enhancement, not at start-up.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self._client: Any = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _gateway(self) -> Any:
        with self._lock:
            if self._client is None:
                from .gateway import gateway_client

                self._client = gateway_client(
                    self.settings.llm_base_url, self.timeout, self.max_retries, self.deadline
                )
            return self._client

    def enhance(self, request: EnhanceRequest, *, api_key: str | None = None) -> str:
        """The enhanced prompt; raises HeuristError (never with the key in it)."""
        return self.enhance_noted(request, api_key=api_key)[0]

    def enhance_noted(
        self, request: EnhanceRequest, *, api_key: str | None = None
    ) -> tuple[str, str | None]:
        """(the enhanced prompt, the language it was translated from or None)."""
        key = check_key(api_key or self.settings.api_key)
        from .gateway import complete

        completion = complete(
            self._gateway(),
            key,
            model=request.llm_model,
            messages=build_messages(request),
            temperature=TEMPERATURE,
            max_tokens=MAX_TOKENS,
        )
        try:
            answer = completion.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            answer = None
        # A gateway that echoes its request would hand the key (or its user id) to the visitor.
        answer = redact(str(answer or ""), key)
        language, _ = split_translation(answer)
        return clean_answer(answer, request), language
