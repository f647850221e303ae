"""Image files: save an image with its record (infotext and JSON), and read them back.

A PNG answer is saved as PNG with "parameters" (the infotext) and "heurist" (the JSON record)
text chunks (tEXt for ASCII text, iTXt for any other). A JPEG or WebP answer is saved as it
came, .jpg or .webp, its compressed pixels untouched: the infotext goes in EXIF UserComment,
where A1111 puts it in these formats, and the record in an XMP packet (a heurist:record
property). Neither is decoded or re-encoded; only an
answer that is not a well-formed PNG, JPEG or WebP (or whose metadata would not fit a JPEG
segment) is decoded and saved as a new PNG.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import struct
import tempfile
import uuid
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, unescape

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
_JPEG_SOI = b"\xff\xd8"
_JPEG_EOI = b"\xff\xd9"
_JPEG_SOS = 0xDA
_JPEG_APP1 = 0xE1
_JPEG_UNSIZED = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length
_JPEG_MAX_SEGMENT = 0xFFFF - 2  # a segment's payload, after its two length bytes
_EXIF_HEADER = b"Exif\0\0"
_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"  # an XMP APP1 segment's, in JPEG
_VP8X_EXIF = 0x08
_VP8X_XMP = 0x04
_VP8X_ALPHA = 0x10
_XMP_NAMESPACE = "urn:heurist-ui:xmp:1.0/"
_XMP_RECORD = re.compile(rb"<heurist:record>([^<]*)</heurist:record>")

logger = logging.getLogger(__name__)


def save_png(
    data: bytes, record: Mapping[str, Any], output_dir: str | Path, *, now: datetime | None = None
) -> Path:
    """Save data carrying the record, atomically, in output_dir/YYYY-MM-DD/; return its path.

    PNG, JPEG and WebP data keep their format and pixel data (.png, .jpg, .webp); anything
    else Pillow reads is saved as a new PNG (see the module docs).
    """
    now = now or datetime.now()
    record = {**record, "url": _unsigned(record["url"])} if record.get("url") else record
    texts = {
        PARAMETERS_KEY: format_infotext(record),
        RECORD_KEY: json.dumps(dict(record), ensure_ascii=False, default=str),
    }
    encoded, suffix = _with_metadata(data, texts)
    folder = Path(output_dir) / now.strftime("%Y-%m-%d")
    temporary: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_path(folder, _file_name(record, now, suffix))
        # Hidden and not an image suffix, so galleries never list a half-written file.
        temporary = folder / f".{target.stem}.{uuid.uuid4().hex[:8]}.tmp"
        with open(temporary, "xb") as handle:
            handle.write(encoded)
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


def _with_metadata(data: bytes, texts: Mapping[str, str]) -> tuple[bytes, str]:
    """The file to save (data with texts added, or a new PNG) and its suffix."""
    if data.startswith(_PNG_SIGNATURE):
        png = _png_with_texts(data, texts)
        if png is not None:
            return png, ".png"
    elif data.startswith(_JPEG_SOI):
        jpeg = _jpeg_with_metadata(data, texts)
        if jpeg is not None:
            return jpeg, ".jpg"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        webp = _webp_with_metadata(data, texts)
        if webp is not None:
            return webp, ".webp"
    return _encode_png(_decode_for_saving(data), texts), ".png"


def _verified(data: bytes, image_format: str) -> Image.Image | None:
    """The image (opened, verified, closed: never decoded) if Pillow reads data as image_format.

    None if it does not; raises ImageDownloadError if the image has too many pixels.
    """
    try:
        with Image.open(io.BytesIO(data), formats=(image_format,)) as image:
            check_pixels(image.size)
            image.verify()  # checks what it can without decoding the pixels
            return image
    except ImageDownloadError:
        raise
    except Exception:
        return None


def _png_with_texts(data: bytes, texts: Mapping[str, str]) -> bytes | None:
    """data with these text chunks before the first IDAT (replacing any of the same keys).

    Before the pixels, as A1111 and Pillow write them, so Image.open(path).info finds them
    without decoding the image. The pixels are not decoded and re-encoded: a 1024² PNG costs
    a copy, not a compression. None when data is not a well-formed PNG that Pillow reads, so
    the caller re-encodes it.
    """
    if _verified(data, "PNG") is None:  # verify() checks the chunk CRCs
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
    """A tEXt chunk for ASCII text, else an uncompressed iTXt (UTF-8) one (see _plain)."""
    if _plain(value):
        kind, body = b"tEXt", key.encode("latin-1") + b"\0" + value.encode("ascii")
    else:
        kind, body = b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def _plain(text: str) -> bool:
    """Whether text can go in a tEXt chunk and read the same everywhere: ASCII only.

    tEXt is Latin-1 by the PNG standard (Pillow, A1111 and sd-parsers read it so), but ComfyUI
    decodes it as UTF-8, turning "café" into "caf\ufffd". Any other text goes in iTXt, which
    is UTF-8 for every reader.
    """
    return text.isascii()


def _jpeg_with_metadata(data: bytes, texts: Mapping[str, str]) -> bytes | None:
    """data with an Exif and an XMP segment right after SOI, its own Exif and XMP dropped.

    The rest, from the JFIF header to the entropy-coded pixels, is kept byte for byte. None
    when data is not a well-formed JPEG (segments up to SOS, EOI at the end) that Pillow
    reads, or when the metadata does not fit a JPEG segment, so the caller re-encodes it.
    """
    segments = _jpeg_header_segments(data)
    if segments is None or _verified(data, "JPEG") is None:
        return None
    exif = _EXIF_HEADER + _exif_user_comment(texts[PARAMETERS_KEY])
    xmp = _XMP_HEADER + _xmp_packet(texts[RECORD_KEY])
    if max(len(exif), len(xmp)) > _JPEG_MAX_SEGMENT:
        logger.debug("Metadata too large for a JPEG segment; saving a PNG instead")
        return None
    kept = [data[start:end] for start, end in segments if not _replaced(data[start:end])]
    pixels = data[segments[-1][1] :] if segments else data[2:]
    return _JPEG_SOI + _app1_segment(exif) + _app1_segment(xmp) + b"".join(kept) + pixels


def _replaced(segment: bytes) -> bool:
    """Whether a JPEG segment is an Exif or XMP one, which our own replace."""
    payload = segment[4:]
    return segment[1] == _JPEG_APP1 and payload.startswith((_EXIF_HEADER, _XMP_HEADER))


def _jpeg_header_segments(data: bytes) -> list[tuple[int, int]] | None:
    """(start, end) of each marker segment between SOI and SOS, or None if data is malformed.

    The SOS segment and the entropy-coded data after it are not listed. Well-formed means the
    segments chain up to an SOS and the data ends with EOI (padding zeros aside), so a cut
    download is refused (and a file with a trailer after EOI is re-encoded).
    """
    if not data.rstrip(b"\0").endswith(_JPEG_EOI):
        return None
    segments, position = [], len(_JPEG_SOI)
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == _JPEG_SOS:
            return segments
        end = position + 2
        if marker not in _JPEG_UNSIZED:
            end += int.from_bytes(data[position + 2 : position + 4], "big")
        segments.append((position, end))
        position = end
    return None


def _app1_segment(payload: bytes) -> bytes:
    return bytes((0xFF, _JPEG_APP1)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _webp_with_metadata(data: bytes, texts: Mapping[str, str]) -> bytes | None:
    """data with EXIF and XMP chunks (and the VP8X flags for them), its own EXIF/XMP dropped.

    The image chunks are kept byte for byte. None when data is not a well-formed WebP that
    Pillow reads, so the caller re-encodes it.
    """
    chunks = _riff_chunks(data)
    image = _verified(data, "WEBP") if chunks is not None else None
    if chunks is None or image is None:
        return None
    kept = [(kind, body) for kind, body in chunks if kind not in (b"EXIF", b"XMP ")]
    if not kept:
        return None
    if kept[0][0] == b"VP8X":
        flags, rest = kept[0][1][0], kept[0][1][1:]
        kept = kept[1:]
    else:
        width, height = image.size
        flags = _VP8X_ALPHA if "A" in image.getbands() else 0
        rest = b"\0\0\0" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    vp8x = bytes((flags | _VP8X_EXIF | _VP8X_XMP,)) + rest
    exif = _exif_user_comment(texts[PARAMETERS_KEY])  # no Exif\0\0 in a WebP's EXIF chunk
    xmp = _xmp_packet(texts[RECORD_KEY])
    body = b"".join(
        _riff_chunk(kind, body)
        for kind, body in [(b"VP8X", vp8x), *kept, (b"EXIF", exif), (b"XMP ", xmp)]
    )
    return b"RIFF" + (4 + len(body)).to_bytes(4, "little") + b"WEBP" + body


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """The (kind, body) chunks of a WebP file, or None unless they fill it exactly."""
    if int.from_bytes(data[4:8], "little") + 8 != len(data):
        return None
    chunks, position = [], 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        end = position + 8 + size
        if end > len(data):
            return None
        chunks.append((kind, data[position + 8 : end]))
        position = end + (size & 1)  # chunks are padded to an even length
    return chunks if chunks and position == len(data) else None


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + len(body).to_bytes(4, "little") + body + b"\0" * (len(body) & 1)


def _exif_user_comment(text: str) -> bytes:
    """EXIF (TIFF bytes) holding text as UserComment, written as A1111 (piexif) writes it.

    Big-endian: IFD0 at 8 holds one entry, the Exif IFD's offset (26); the Exif IFD holds one,
    UserComment, as UNDEFINED (type 7, which piexif-based readers expect; Pillow's Image.Exif
    writes BYTE), its value at 44.
    """
    comment = b"UNICODE\0" + text.encode("utf-16-be")
    return b"".join(
        (
            b"MM\0*" + struct.pack(">I", 8),
            struct.pack(">HHHIII", 1, _EXIF_IFD, 4, 1, 26, 0),  # LONG, 1 value; no next IFD
            struct.pack(">HHHIII", 1, _EXIF_USER_COMMENT, 7, len(comment), 44, 0),
            comment,
        )
    )


def _xmp_packet(record_json: str) -> bytes:
    """An XMP packet holding the JSON record as its heurist:record property."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:heurist="{_XMP_NAMESPACE}">'
        f"<heurist:record>{escape(record_json)}</heurist:record>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _xmp_record(xmp: object) -> str | None:
    """The JSON record of an XMP packet written by _xmp_packet, or None."""
    if isinstance(xmp, str):
        xmp = xmp.encode("utf-8")
    found = _XMP_RECORD.search(xmp) if isinstance(xmp, (bytes, bytearray)) else None
    return None if found is None else unescape(found.group(1).decode("utf-8", "replace"))


def _encode_png(image: Image.Image, texts: Mapping[str, str]) -> bytes:
    """image as PNG bytes carrying the texts (for answers not kept as they came)."""
    info = PngInfo()
    for key, value in texts.items():
        if _plain(value):
            info.add_text(key, value)
        else:
            info.add_itxt(key, value)
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


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def find_saved(
    output_dir: str | Path, job_id: object, suffixes: tuple[str, ...] = IMAGE_SUFFIXES
) -> Path | None:
    """The saved image (or file of `suffixes`) of this job in output_dir; None if it is gone."""
    tail = _job_tail(job_id)
    if tail == "nojob":
        return None
    folder = Path(output_dir)
    for pattern in (f"*/*_{tail}.*", f"*/*_{tail}-*.*"):
        for path in folder.glob(pattern):
            if path.suffix.lower() in suffixes and path.is_file():
                return path
    return None


def _job_tail(job_id: object) -> str:
    # Job ids share a prefix ("heurist-ui-..."): the unique tail tells files apart.
    return re.sub(r"[^A-Za-z0-9]", "", str(job_id or ""))[-8:] or "nojob"


def _file_name(record: Mapping[str, Any], now: datetime, suffix: str) -> str:
    seed = record.get("seed")
    seed_part = _name_part("" if seed is None else format_number(seed), "noseed")
    model = _name_part(str(record.get("model_id") or ""), "model")[:64].strip("-") or "model"
    job = _job_tail(record.get("job_id"))
    return f"{now:%H%M%S}-{now.microsecond:06d}_{seed_part}_{model}_{job}{suffix}"


def _name_part(value: str, default: str) -> str:
    return _UNSAFE_NAME_CHARS.sub("-", value).strip(".") or default


def _free_path(folder: Path, name: str) -> Path:
    target = folder / name
    stem = target.stem
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{stem}-{number}{target.suffix}"
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
    if raw_record is None:
        raw_record = _xmp_record(info.get("xmp"))
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
