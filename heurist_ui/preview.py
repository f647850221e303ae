"""Compact previews: a batch's images side by side in one small WebP, for agents and links."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from .download import IMAGE_FORMATS

PREVIEW_SIDE = 512  # pixels, the longest side of each image in a preview
PREVIEW_QUALITY = 70
MAX_COLUMNS = 4
GAP = 8


def contact_sheet(paths: Sequence[str | Path], side: int = PREVIEW_SIDE) -> Image.Image:
    """The images, each shrunk to fit side × side, in rows of up to four, in order."""
    thumbnails = []
    for path in paths:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            image.thumbnail((side, side))
            thumbnails.append(image.convert("RGB"))
    columns = min(MAX_COLUMNS, len(thumbnails))
    rows = math.ceil(len(thumbnails) / columns)
    cell_w = max(t.width for t in thumbnails)
    cell_h = max(t.height for t in thumbnails)
    sheet = Image.new(
        "RGB", (columns * cell_w + (columns - 1) * GAP, rows * cell_h + (rows - 1) * GAP), "white"
    )
    for index, thumbnail in enumerate(thumbnails):
        row, column = divmod(index, columns)
        sheet.paste(thumbnail, (column * (cell_w + GAP), row * (cell_h + GAP)))
    return sheet


def webp_bytes(image: Image.Image, quality: int = PREVIEW_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality)
    return buffer.getvalue()
