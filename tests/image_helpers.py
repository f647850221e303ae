"""Records and images the infotext, PNG and download tests share."""

from __future__ import annotations

import io

from PIL import Image

from heurist_ui.infotext import format_infotext, parse_infotext

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
    assert parsed["extra"] == {"Sampler": "Default", "Job id": record["job_id"]}


# sd-parsers caches the last JPEG's metadata by id(image): an image opened later at the same
# address would read as the one before. Keeping every image it reads open keeps ids unique.
_OPENED: list[Image.Image] = []


def kept_open(path) -> Image.Image:
    """path opened, and kept open for the session: what to hand sd-parsers."""
    image = Image.open(path)
    _OPENED.append(image)
    return image
