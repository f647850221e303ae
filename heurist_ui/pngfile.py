"""PNG files: save an image with its record (infotext and JSON), and read them back."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import tempfile
import uuid
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .download import IMAGE_FORMATS, MAX_IMAGE_PIXELS, check_pixels
from .errors import HeuristError, ImageDownloadError
from .infotext import format_infotext, format_number

PARAMETERS_KEY = "parameters"
RECORD_KEY = "heurist"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "I;16B"})
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_EXIF_IFD = 0x8769
_EXIF_USER_COMMENT = 0x9286

logger = logging.getLogger(__name__)


def save_png(
    data: bytes, record: Mapping[str, Any], output_dir: str | Path, *, now: datetime | None = None
) -> Path:
    """Save data as a PNG carrying the record, atomically, in output_dir/YYYY-MM-DD/; return it."""
    now = now or datetime.now()
    record = {**record, "url": _unsigned(record["url"])} if record.get("url") else record
    texts = {
        PARAMETERS_KEY: format_infotext(record),
        RECORD_KEY: json.dumps(dict(record), ensure_ascii=False, default=str),
    }
    png = _png_with_texts(data, texts) if data.startswith(_PNG_SIGNATURE) else None
    if png is None:
        png = _encode_png(_decode_for_saving(data), texts)
    folder = Path(output_dir) / now.strftime("%Y-%m-%d")
    temporary: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_path(folder, _png_name(record, now))
        # Hidden and not *.png, so galleries never list a half-written file.
        temporary = folder / f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp"
        with open(temporary, "xb") as handle:
            handle.write(png)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()
        if not isinstance(exc, OSError):
            raise
        logger.warning("Could not save an image in %s: %s", folder, exc)
        raise HeuristError(
            f"The image could not be saved ({exc.strerror or type(exc).__name__}). Check that "
            "the output folder (HEURIST_OUTPUT_DIR) is writable and has space, then generate "
            "again."
        ) from exc
    logger.debug("Saved %s", target)
    return target


def read_png_metadata(
    source: str | Path | bytes | Image.Image,
) -> tuple[str | None, dict | None]:
    """(parameters text, heurist record) of an image file, bytes or PIL image; Nones if absent.

    Reads our PNGs, A1111 PNGs (only "parameters") and A1111 JPEG/WebP (EXIF UserComment).
    Never raises: anything unreadable gives (None, None).
    """
    try:
        if isinstance(source, Image.Image):
            return _metadata(source)
        if isinstance(source, (bytes, bytearray, memoryview)):
            opened: Any = io.BytesIO(bytes(source))
        elif isinstance(source, (str, os.PathLike)):
            opened = Path(source)
        else:
            return None, None
        with Image.open(opened, formats=IMAGE_FORMATS) as image:
            return _metadata(image)
    except Exception:  # promised never to raise on bad input; Pillow raises many types
        logger.debug("No metadata readable from %r", type(source).__name__, exc_info=True)
        return None, None


def _png_with_texts(data: bytes, texts: Mapping[str, str]) -> bytes | None:
    """data with these text chunks before the first IDAT (replacing any of the same keys).

    Before the pixels, as A1111 and Pillow write them, so Image.open(path).info finds them
    without decoding the image. The pixels are not decoded and re-encoded: a 1024² PNG costs
    a copy, not a compression. None when data is not a well-formed PNG that Pillow reads, so
    the caller re-encodes it.
    """
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            check_pixels(image.size)
            image.verify()  # checks the chunk CRCs without decoding the pixels
    except ImageDownloadError:
        raise
    except Exception:
        return None
    new = b"".join(_text_chunk(key, value) for key, value in texts.items())
    chunks, position, inserted = [], len(_PNG_SIGNATURE), False
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        body = data[position + 8 : end - 4]
        if kind == b"IDAT" and not inserted:
            chunks.append(new)
            inserted = True
        if kind == b"IEND":
            return _PNG_SIGNATURE + b"".join(chunks) + data[position:end] if inserted else None
        keyword = body.split(b"\0", 1)[0].decode("latin-1")
        if kind not in (b"tEXt", b"iTXt", b"zTXt") or keyword not in texts:
            chunks.append(data[position:end])
        position = end
    return None


def _text_chunk(key: str, value: str) -> bytes:
    """A tEXt chunk, or an iTXt (UTF-8) one when the text is not Latin-1, as Pillow writes."""
    try:
        kind, body = b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")
    except UnicodeEncodeError:
        kind, body = b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def _encode_png(image: Image.Image, texts: Mapping[str, str]) -> bytes:
    """image as PNG bytes carrying the texts (for JPEG/WebP answers, or odd PNGs)."""
    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    options: dict[str, Any] = {"pnginfo": info}
    if image.mode not in _PNG_MODES:
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _decode_for_saving(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            check_pixels(image.size)
            image.load()
            return image.copy()  # usable after the file is closed
    except ImageDownloadError:
        raise
    except Exception as exc:  # Pillow signals bad data with many exception types
        raise ImageDownloadError(
            "The image data is not a readable PNG, JPEG or WebP image, so it was not saved. "
            "Generate again."
        ) from exc


def find_saved(output_dir: str | Path, job_id: object) -> Path | None:
    """The saved image of this job in output_dir, if it is still there (None if it is gone)."""
    tail = _job_tail(job_id)
    if tail == "nojob":
        return None
    folder = Path(output_dir)
    for pattern in (f"*/*_{tail}.*", f"*/*_{tail}-*.*"):
        for path in folder.glob(pattern):
            if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp") and path.is_file():
                return path
    return None


def _job_tail(job_id: object) -> str:
    # Job ids share a prefix ("heurist-ui-..."): the unique tail tells files apart.
    return re.sub(r"[^A-Za-z0-9]", "", str(job_id or ""))[-8:] or "nojob"


def _png_name(record: Mapping[str, Any], now: datetime) -> str:
    seed = record.get("seed")
    seed_part = _name_part("" if seed is None else format_number(seed), "noseed")
    model = _name_part(str(record.get("model_id") or ""), "model")[:64].strip("-") or "model"
    job = _job_tail(record.get("job_id"))
    return f"{now:%H%M%S}-{now.microsecond:06d}_{seed_part}_{model}_{job}.png"


def _name_part(value: str, default: str) -> str:
    return _UNSAFE_NAME_CHARS.sub("-", value).strip(".") or default


def _free_path(folder: Path, name: str) -> Path:
    target = folder / name
    stem = target.stem
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}.png"
    return target


def _metadata(image: Image.Image) -> tuple[str | None, dict | None]:
    info = image.info or {}
    parameters, raw_record = info.get(PARAMETERS_KEY), info.get(RECORD_KEY)
    if parameters is None and _within_pixel_limit(image):
        # PngImageFile.text also holds chunks stored after the pixel data; reaching them decodes
        # the image, so look there only when the usual place, before the pixels, had nothing.
        with contextlib.suppress(Exception):
            text = getattr(image, "text", None) or {}
            parameters = text.get(PARAMETERS_KEY)
            raw_record = raw_record if raw_record is not None else text.get(RECORD_KEY)
    if parameters is None:
        with contextlib.suppress(Exception):
            parameters = _user_comment(image.getexif().get_ifd(_EXIF_IFD).get(_EXIF_USER_COMMENT))
    return _text_or_none(parameters), _record_or_none(raw_record)


def _within_pixel_limit(image: Image.Image) -> bool:
    width, height = image.size
    return width * height <= MAX_IMAGE_PIXELS


def _text_or_none(value: object) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value) if isinstance(value, str) else None


def _record_or_none(value: object) -> dict | None:
    text = _text_or_none(value)
    if text is None:
        return None
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _user_comment(value: object) -> str | None:
    """Decode an EXIF UserComment, where A1111 puts "parameters" in JPEG and WebP files."""
    if isinstance(value, str):
        return value or None
    if not isinstance(value, bytes) or len(value) <= 8:
        return None
    prefix, body = value[:8], value[8:]
    if prefix == b"UNICODE\0":
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16", "replace")
        # piexif (used by A1111) writes big-endian; other tools little-endian.
        big_endian = body[0::2].count(0) >= body[1::2].count(0)
        return body.decode("utf-16-be" if big_endian else "utf-16-le", "replace")
    return body.rstrip(b"\0").decode("utf-8", "replace") or None


def check_output_dir(output_dir: str | Path) -> None:
    """Raise a HeuristError (naming no server path) unless images can be saved in output_dir."""
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        logger.warning("The output folder %s is not writable: %s", folder, exc)
        raise HeuristError(
            f"Images cannot be saved right now ({exc.strerror or type(exc).__name__}), so "
            "nothing was sent (nothing billed). Whoever runs this studio must make its output "
            "folder (HEURIST_OUTPUT_DIR) writable, with space."
        ) from None


def _unsigned(url: object) -> str:
    """url without its query or fragment: a shared PNG must not share a signed, working link."""
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
