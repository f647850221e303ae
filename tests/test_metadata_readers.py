"""The images we save, read by the tools users read them with: each gets back what was sent.

sd-parsers and sd-prompt-reader are installed and run as they are. A1111 (a web UI) and ComfyUI
(a web page) cannot be: their readers are followed step by step below, from their sources
(A1111's modules/infotext_utils.py and images.py; ComfyUI's scripts/metadata/png.ts and
pnginfo.ts importA1111).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from image_helpers import image_bytes, kept_open, make_record
from PIL import Image

from heurist_ui.infotext import parse_infotext
from heurist_ui.pngfile import read_png_metadata, save_png

ACCENTS = "café crème, déjà vu"  # Latin-1: once a tEXt chunk that ComfyUI misread
PROMPTS = ["a lighthouse at dusk", ACCENTS, "灯塔 🌅 منارة", "a fox 🦊 in the snow ❄"]
NEGATIVES = ["blurry, low quality", "", "flou, mauvaise qualité 😡"]
FORMATS = ["PNG", "JPEG", "WEBP"]

# A1111's parameter pattern and size pattern (modules/infotext_utils.py).
_A1111_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_A1111_SIZE = re.compile(r"^(\d+)x(\d+)$")
# ComfyUI's pattern for the options of the "Steps:" line (importA1111).
_COMFY_OPTION = re.compile(r'\s*([^:]+:\s*([^"\{].*?|".*?"|\{.*?\}))\s*(,|$)')


def _record(prompt: str, negative: str | None, **changes) -> dict:
    return make_record(prompt=prompt, neg_prompt=negative, **changes)


def _saved(tmp_path: Path, record: dict, fmt: str = "PNG") -> Path:
    path = save_png(image_bytes(fmt=fmt, size=(64, 48)), record, tmp_path)
    assert path.suffix == {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}[fmt]
    return path


def a1111_read(path: Path) -> str | None:
    """The infotext as A1111's PNG Info finds it: info["parameters"], or EXIF UserComment."""
    import piexif
    import piexif.helper

    with Image.open(path) as image:
        items = dict(image.info or {})
    text = items.pop("parameters", None)
    if "exif" in items:
        exif = piexif.load(items["exif"])
        comment = exif.get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        comment = piexif.helper.UserComment.load(comment) if comment else ""
        text = comment or text
    return text


def a1111_parse(text: str) -> dict[str, str]:
    """A1111's parse_generation_parameters, for the fields we write."""
    result: dict[str, str] = {}
    prompt, negative, done_with_prompt = "", "", False
    *lines, last = text.strip().split("\n")
    if len(_A1111_PARAM.findall(last)) < 3:
        lines.append(last)
        last = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative += ("" if negative == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    result["Prompt"], result["Negative prompt"] = prompt, negative
    for key, value in _A1111_PARAM.findall(last):
        if value[:1] == '"' and value[-1:] == '"':
            value = json.loads(value)
        size = _A1111_SIZE.match(value)
        if size:
            result[f"{key}-1"], result[f"{key}-2"] = size.group(1), size.group(2)
        else:
            result[key] = value
    return result


def comfyui_text_chunks(data: bytes) -> dict[str, str]:
    """ComfyUI's getFromPngBuffer: every tEXt and iTXt chunk's text, decoded as UTF-8."""
    chunks, offset = {}, 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        if kind in (b"tEXt", b"iTXt"):
            keyword, start = body.split(b"\0", 1)[0], body.index(b"\0") + 1
            if kind == b"iTXt":  # compression flag and method, language tag, translated keyword
                start += 2
                start = body.index(b"\0", start) + 1
                start = body.index(b"\0", start) + 1
            chunks[keyword.decode("latin-1")] = body[start:].decode("utf-8", "replace")
        offset += 12 + length
    return chunks


def comfyui_import_a1111(parameters: str) -> dict[str, str] | None:
    """What ComfyUI's importA1111 puts in its nodes, or None where it builds nothing."""
    steps = parameters.rfind("\nSteps:")
    if steps < 0:
        return None
    options = {}
    for match in _COMFY_OPTION.finditer(parameters[steps:].split("\n")[1]):
        key, value = match.group(0).split(":")[:2]
        options[key.strip().lower()] = value.removesuffix(",").strip()
    negative_at = parameters.rfind("\nNegative prompt:", 0, steps + 1)
    if negative_at < 0:
        return None
    start, end = sorted((negative_at + 18, steps))  # JavaScript's substring swaps them
    return {
        "positive": parameters[:negative_at].strip(),
        "negative": parameters[start:end].strip(),
        **options,
    }


@pytest.mark.parametrize("negative", NEGATIVES)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_comfyui_decodes_the_parameters_chunk_to_the_exact_prompt(tmp_path, prompt, negative):
    record = _record(prompt, negative)
    data = _saved(tmp_path, record).read_bytes()

    imported = comfyui_import_a1111(comfyui_text_chunks(data)["parameters"])

    assert imported is not None  # the importer built a workflow
    assert (imported["positive"], imported["negative"]) == (prompt, negative)
    assert (imported["steps"], imported["cfg scale"], imported["seed"]) == ("20", "7", "123")
    assert (imported["size"], imported["model"]) == ("1024x768", "SDXL")
    assert json.loads(comfyui_text_chunks(data)["heurist"])["prompt"] == prompt


def test_text_that_is_not_ascii_goes_in_an_itxt_chunk(tmp_path):
    ascii_only = _saved(tmp_path, _record("a lighthouse", "")).read_bytes()
    accented = _saved(tmp_path, _record(ACCENTS, "")).read_bytes()

    assert b"tEXtparameters\0a lighthouse\n" in ascii_only
    assert b"iTXtparameters\0\0\0\0\0" + ACCENTS.encode() + b"\n" in accented
    assert b"tEXtparameters" not in accented and ACCENTS.encode("latin-1") not in accented


def test_a_flux_image_carries_an_empty_negative_prompt_that_comfyui_imports(tmp_path):
    record = _record("a fox in the snow", None, model_id="FLUX.1-dev", guidance_scale=3.5)
    parameters = comfyui_text_chunks(_saved(tmp_path, record).read_bytes())["parameters"]

    assert parameters.split("\n")[1] == "Negative prompt: "
    imported = comfyui_import_a1111(parameters)
    assert imported is not None
    assert (imported["positive"], imported["negative"]) == ("a fox in the snow", "")
    assert (imported["model"], imported["cfg scale"]) == ("FLUX.1-dev", "3.5")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("negative", [*NEGATIVES, None])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_a1111_reads_what_was_sent(tmp_path, prompt, negative, fmt):
    path = _saved(tmp_path, _record(prompt, negative), fmt)

    parsed = a1111_parse(a1111_read(path))

    assert (parsed["Prompt"], parsed["Negative prompt"]) == (prompt, negative or "")
    assert (parsed["Steps"], parsed["CFG scale"], parsed["Seed"]) == ("20", "7", "123")
    assert (parsed["Size-1"], parsed["Size-2"], parsed["Model"]) == ("1024", "768", "SDXL")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("negative", [*NEGATIVES, None])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_our_own_reader_reads_what_was_sent(tmp_path, prompt, negative, fmt):
    record = _record(prompt, negative)
    parameters, saved_record = read_png_metadata(_saved(tmp_path, record, fmt))

    parsed = parse_infotext(parameters)

    assert (parsed["prompt"], parsed["neg_prompt"]) == (prompt, negative or "")
    assert (parsed["num_iterations"], parsed["seed"], parsed["model_id"]) == (20, 123, "SDXL")
    assert (saved_record["prompt"], saved_record["neg_prompt"]) == (prompt, negative)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("negative", [*NEGATIVES, None])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_sd_parsers_reads_what_was_sent(tmp_path, prompt, negative, fmt):
    from sd_parsers import ParserManager

    info = ParserManager().parse(kept_open(_saved(tmp_path, _record(prompt, negative), fmt)))

    (sampler,) = info.samplers
    assert [p.value for p in sampler.prompts] == [prompt]
    assert [p.value for p in sampler.negative_prompts] == ([negative] if negative else [])
    assert sampler.parameters == {"cfg_scale": "7", "seed": "123", "steps": "20"}
    assert sampler.model.name == "SDXL"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("negative", [*NEGATIVES, None])
@pytest.mark.parametrize("prompt", PROMPTS)
def test_sd_prompt_reader_reads_what_was_sent(tmp_path, prompt, negative, fmt):
    from sd_prompt_reader.image_data_reader import ImageDataReader

    reader = ImageDataReader(str(_saved(tmp_path, _record(prompt, negative), fmt)))

    assert (reader.positive, reader.negative) == (prompt, negative or "")
    assert (reader.parameter["seed"], reader.parameter["steps"]) == ("123", "20")
    assert (reader.parameter["model"], reader.parameter["size"]) == ("SDXL", "1024x768")


def test_pillow_reads_an_itxt_parameters_chunk_without_decoding_the_pixels(tmp_path):
    path = _saved(tmp_path, _record(ACCENTS, ""))
    with Image.open(io.BytesIO(path.read_bytes())) as image:
        assert image.info["parameters"].startswith(ACCENTS + "\nNegative prompt: \n")
