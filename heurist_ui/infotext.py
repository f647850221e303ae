"""A1111 "parameters" infotext: a record written as the text other tools read, and read back.

A *record* is the dict a generation produces: job_id, the settings (params.SETTING_FIELDS), url,
credits, elapsed_s, model_type, created_at.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

_NEGATIVE_PREFIX = "Negative prompt:"
# A1111 always names a sampler, and readers such as sd-parsers need one. Heurist does not say
# which its miners use (each pipeline's default scheduler), so we say just that.
SAMPLER = "Default"
# A1111's own pattern (modules/infotext_utils.py), so we read what it writes, quirks included.
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE_RE = re.compile(r"(\d{1,9})x(\d{1,9})")
_INT_RE = re.compile(r"[+-]?\d{1,100}")


def format_infotext(record: Mapping[str, Any]) -> str:
    """Render a record as A1111 infotext: prompt, negative prompt, parameters line.

    The "Negative prompt:" line is always there, empty when none was sent (FLUX): A1111 leaves
    it out then, but ComfyUI's A1111 importer builds nothing without one.
    """
    lines = [
        _as_text(record.get("prompt")),
        f"{_NEGATIVE_PREFIX} {_as_text(record.get('neg_prompt'))}",
    ]
    width, height = record.get("width"), record.get("height")
    params = {
        "Steps": record.get("num_iterations"),
        "Sampler": SAMPLER,
        "CFG scale": record.get("guidance_scale"),
        "Seed": record.get("seed"),
        "Size": None
        if width is None or height is None
        else f"{format_number(width)}x{format_number(height)}",
        "Model": record.get("model_id"),
        "Job id": record.get("job_id"),
    }
    lines.append(
        ", ".join(
            f"{key}: {_quote(format_number(value))}"
            for key, value in params.items()
            if value is not None
        )
    )
    return "\n".join(lines)


def parse_infotext(text: str) -> dict[str, Any]:
    """Read A1111-style infotext back into record fields; unknown parameters go to "extra".

    Fields the text does not carry are absent. When a parameters line is present, "neg_prompt"
    is "" if there is no "Negative prompt:" line (A1111 leaves the line out when empty; we
    write it, empty).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return {}
    text = text.replace("\r\n", "\n").rstrip()
    if not text.strip():
        return {}
    *lines, last = text.split("\n")
    params = _parse_params_line(last)
    if params is None:
        lines.append(last)

    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is not None:
            negative_lines.append(line)
        elif line.startswith(_NEGATIVE_PREFIX):
            rest = line[len(_NEGATIVE_PREFIX) :]
            negative_lines = [rest[1:] if rest.startswith(" ") else rest]
        else:
            prompt_lines.append(line)

    result: dict[str, Any] = {"prompt": "\n".join(prompt_lines)}
    if negative_lines is not None:
        result["neg_prompt"] = "\n".join(negative_lines)
    elif params is not None:
        result["neg_prompt"] = ""
    if params is not None:
        result.update(_record_fields(params))
    return result


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def format_number(value: object) -> str:
    """Numbers as people write them: 7 rather than 7.0, 7.5 as is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quote(value: str) -> str:
    needs_quotes = (
        any(char in value for char in ",:\n\r") or value != value.strip() or value.startswith('"')
    )
    return json.dumps(value, ensure_ascii=False) if needs_quotes else value


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        with contextlib.suppress(ValueError):
            decoded = json.loads(value)
            if isinstance(decoded, str):
                return decoded
        return value
    return value.strip()


def _parse_params_line(line: str) -> dict[str, str] | None:
    """The "key: value, ..." pairs of line, or None unless the whole line is pairs with Steps."""
    pairs: dict[str, str] = {}
    position, end = 0, len(line.rstrip())
    while position < end:
        match = _PARAM_RE.match(line, position)
        if match is None:
            return None
        pairs[match.group(1).strip()] = _unquote(match.group(2))
        position = match.end()
    return pairs if "Steps" in pairs else None


def _record_fields(params: Mapping[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    extra: dict[str, str] = {}
    for key, value in params.items():
        size = _SIZE_RE.fullmatch(value.strip()) if key == "Size" else None
        if key == "Steps" and (steps := _to_int(value)) is not None:
            fields["num_iterations"] = steps
        elif key == "CFG scale" and (scale := _to_float(value)) is not None:
            fields["guidance_scale"] = scale
        elif key == "Seed" and (seed := _to_int(value)) is not None:
            fields["seed"] = seed
        elif size is not None:
            fields["width"], fields["height"] = int(size.group(1)), int(size.group(2))
        elif key == "Model":
            fields["model_id"] = value
        else:
            extra[key] = value
    fields["extra"] = extra
    return fields


def _to_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if _INT_RE.fullmatch(value) else None


def _to_float(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
