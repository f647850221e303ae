"""Generation parameters inside PNGs (A1111 "parameters" infotext) and safe image downloads.

Plain Python (requests, Pillow, stdlib) so a CLI or another UI can reuse it. A *record* is the
dict a generation produces: job_id, model_id, seed, width, height, num_iterations,
guidance_scale, prompt, neg_prompt, url, credits, elapsed_s (maybe model_type, created_at).
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import logging
import math
import os
import re
import socket
import uuid
import zlib
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from urllib3.exceptions import ReadTimeoutError

from heurist_ui.errors import HeuristError, ImageDownloadError

MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
DOWNLOAD_TIMEOUT = (5.0, 30.0)
MAX_REDIRECTS = 5

# Only these decoders ever see downloaded or uploaded bytes: Pillow's rarer plugins are a
# larger attack surface (EPS even runs Ghostscript on load).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")
PARAMETERS_KEY = "parameters"
RECORD_KEY = "heurist"

_CHUNK_SIZE = 64 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "I;16B"})
_NEGATIVE_PREFIX = "Negative prompt:"
# A1111's own pattern (modules/infotext_utils.py), so we read what it writes, quirks included.
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE_RE = re.compile(r"(\d{1,9})x(\d{1,9})")
_INT_RE = re.compile(r"[+-]?\d{1,100}")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
# Never send the API key (or a session's cookies) to an image host.
_DOWNLOAD_HEADERS = {"Accept": "image/png,image/*;q=0.9", "Authorization": None, "Cookie": None}
_EXIF_IFD = 0x8769
_EXIF_USER_COMMENT = 0x9286

logger = logging.getLogger(__name__)


# --- infotext -------------------------------------------------------------------------------


def format_infotext(record: Mapping[str, Any]) -> str:
    """Render a record as A1111 infotext: prompt, optional negative prompt, parameters line."""
    lines = [_as_text(record.get("prompt"))]
    negative = _as_text(record.get("neg_prompt"))
    if negative:
        lines.append(f"{_NEGATIVE_PREFIX} {negative}")
    width, height = record.get("width"), record.get("height")
    params = {
        "Steps": record.get("num_iterations"),
        "CFG scale": record.get("guidance_scale"),
        "Seed": record.get("seed"),
        "Size": None if width is None or height is None else f"{_num(width)}x{_num(height)}",
        "Model": record.get("model_id"),
        "Job id": record.get("job_id"),
    }
    lines.append(
        ", ".join(
            f"{key}: {_quote(_num(value))}" for key, value in params.items() if value is not None
        )
    )
    return "\n".join(lines)


def parse_infotext(text: str) -> dict[str, Any]:
    """Read A1111-style infotext back into record fields; unknown parameters go to "extra".

    Fields the text does not carry are absent. When a parameters line is present, "neg_prompt"
    is "" if there is no "Negative prompt:" line (A1111 leaves the line out when empty).
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


def _num(value: object) -> str:
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


# --- URL checks and download ----------------------------------------------------------------


def image_url_problem(url: object, *, allowed_hosts: Collection[str] = ()) -> str | None:
    """None if url may be fetched, else a short reason it may not.

    Only absolute http(s) links without user info, to hosts that resolve only to public
    addresses, unless the host is listed in allowed_hosts (exact name, any case, any port).
    """
    if not isinstance(url, str):
        return "the link is not text"
    if not url:
        return "the link is empty"
    if any(char.isspace() or not char.isprintable() for char in url):
        return "the link contains spaces or control characters"
    if "\\" in url:
        return "the link contains a backslash"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the link is not a valid address"
    scheme = parts.scheme.lower()
    if not scheme:
        return "the link is relative, not a full http(s) address"
    if scheme not in ("http", "https"):
        return f"only http and https links are allowed, not {scheme}:"
    if "@" in parts.netloc:
        return "the link contains a user name or password"
    try:
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return "the link has an invalid host or port"
    if not host:
        return "the link has no host"
    if not host.isascii():
        # The resolver and requests encode international names differently: do not guess.
        return "the host name has non-ASCII characters"
    if isinstance(allowed_hosts, str):
        allowed_hosts = (allowed_hosts,)
    allowed = {_normal_host(name) for name in allowed_hosts if isinstance(name, str) and name}
    if _normal_host(host) in allowed:
        return None
    literal = _ip_literal(host)
    try:
        addresses = [literal] if literal is not None else _resolve(host)
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        return f"the host {host} could not be resolved"
    for address in addresses:
        kind = _non_public_kind(address)
        if kind is not None:
            if literal is not None:
                return f"{address} is {kind}"
            return f"{host} resolves to {kind} ({address})"
    return None


def download_image(
    session: requests.Session,
    url: str,
    *,
    allowed_hosts: Collection[str] = (),
    max_bytes: int = MAX_IMAGE_BYTES,
    timeout: float | tuple[float, float] = DOWNLOAD_TIMEOUT,
) -> bytes:
    """Fetch an image, checking every redirect hop, the size and that the bytes are an image."""
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        problem = image_url_problem(current, allowed_hosts=allowed_hosts)
        if problem is not None:
            raise ImageDownloadError(_refusal_message(current, problem, redirected=hop > 0))
        logger.debug("Downloading image (hop %d) from %s", hop, _display_url(current))
        with _get(session, current, timeout) as response:
            if response.is_redirect:
                current = urljoin(current, response.headers["Location"])
                continue
            data = _read_body(response, current, max_bytes)
        _verify_image(data, current)
        return data
    raise ImageDownloadError(
        f"The image link redirected more than {MAX_REDIRECTS} times, so the download was "
        f"stopped. Generate again. Link: {_display_url(url)}"
    )


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def _resolve(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def _non_public_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private-network address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, kind in checks:
        if getattr(address, attribute):
            return kind
    return None if address.is_global else "a non-public address"


def _display_url(url: object) -> str:
    """scheme://host[:port]/path of url: never the query (signed URLs) nor user info."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "(an invalid link)"
    if parts.netloc:
        shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
    elif parts.scheme:
        shown = f"{parts.scheme}:{parts.path}"
    else:
        shown = parts.path
    shown = "".join(char if char.isprintable() and not char.isspace() else "?" for char in shown)
    return shown if len(shown) <= 120 else shown[:117] + "..."


def _refusal_message(url: str, problem: str, *, redirected: bool) -> str:
    if redirected:
        return (
            f"The image host redirected to a link that is not allowed ({problem}), so the "
            f"download was stopped. Generate again; if it keeps happening, report it. "
            f"Link: {_display_url(url)}"
        )
    return (
        f"The image link is not allowed ({problem}), so it was not downloaded. Generate again; "
        f"if it keeps happening, the API is returning unsafe links. Link: {_display_url(url)}"
    )


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Auth hook that adds nothing: keeps session auth and ~/.netrc away from image hosts."""
    return request


def _get(
    session: requests.Session, url: str, timeout: float | tuple[float, float]
) -> requests.Response:
    try:
        return session.get(
            url,
            headers=_DOWNLOAD_HEADERS,
            auth=_no_auth,
            allow_redirects=False,
            stream=True,
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise _connection_error(exc, url) from exc


def _connection_error(exc: requests.RequestException, url: str) -> ImageDownloadError:
    # Never put str(exc) in the message: requests includes the full URL, query and all.
    shown = _display_url(url)
    timed_out = isinstance(exc, requests.Timeout) or any(
        isinstance(arg, ReadTimeoutError) for arg in exc.args
    )
    if timed_out:
        return ImageDownloadError(
            f"The image download timed out. Check your connection and try again. Link: {shown}"
        )
    if isinstance(exc, requests.ConnectionError):
        return ImageDownloadError(
            f"The image host could not be reached or dropped the connection. Check your "
            f"connection and try again. Link: {shown}"
        )
    return ImageDownloadError(
        f"The image could not be downloaded ({type(exc).__name__}). Generate again. Link: {shown}"
    )


def _status_message(status: int) -> str:
    if status in (401, 403, 404, 410):
        return (
            f"The image could not be downloaded ({status}): the link may have expired. "
            "Generate again."
        )
    if status == 429:
        return (
            f"The image host is limiting downloads ({status}). Wait a moment, then generate again."
        )
    if status >= 500:
        return f"The image host failed ({status}). Try again in a moment, or generate again."
    return f"The image could not be downloaded ({status}). Generate again."


def _read_body(response: requests.Response, url: str, max_bytes: int) -> bytes:
    shown = _display_url(url)
    status = response.status_code
    if not 200 <= status < 300:
        raise ImageDownloadError(f"{_status_message(status)} Link: {shown}", status_code=status)
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise ImageDownloadError(
            f"The image link returned a web page instead of an image; it may have expired. "
            f"Generate again. Link: {shown}"
        )
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ImageDownloadError(
            f"The image is too large to download ({_megabytes(int(declared))}; the limit is "
            f"{_megabytes(max_bytes)}). Generate a smaller image. Link: {shown}"
        )
    chunks: list[bytes] = []
    received = 0
    try:
        for chunk in response.iter_content(_CHUNK_SIZE):
            received += len(chunk)
            if received > max_bytes:
                raise ImageDownloadError(
                    f"The image download was stopped after {_megabytes(max_bytes)}: the file "
                    f"is larger than the limit. Generate a smaller image. Link: {shown}"
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise _connection_error(exc, url) from exc
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _verify_image(data: bytes, url: str) -> None:
    shown = _display_url(url)
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            _check_pixels(image.size)
            image.verify()
    except ImageDownloadError as exc:
        raise ImageDownloadError(f"{exc.message} Link: {shown}") from None
    except Image.DecompressionBombError as exc:
        raise ImageDownloadError(
            f"The image has too many pixels to open safely. Generate a smaller image. Link: {shown}"
        ) from exc
    except Exception as exc:  # Pillow signals bad data with many exception types
        raise ImageDownloadError(
            f"The downloaded file is not a PNG, JPEG or WebP image. Generate again. Link: {shown}"
        ) from exc


def _check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDownloadError(
            f"The image is too large: {width}x{height} pixels (the limit is "
            f"{MAX_IMAGE_PIXELS:,} pixels). Generate a smaller image."
        )


# --- PNG files ------------------------------------------------------------------------------


def save_png(
    data: bytes, record: Mapping[str, Any], output_dir: str | Path, *, now: datetime | None = None
) -> Path:
    """Save data as a PNG carrying the record, atomically, in output_dir/YYYY-MM-DD/; return it."""
    now = now or datetime.now()
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
        raise HeuristError(
            f"The image could not be saved in {folder} ({exc.strerror or type(exc).__name__}). "
            f"Check that the output folder (HEURIST_OUTPUT_DIR) is writable and has space, "
            f"then generate again."
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
    """data with these text chunks before IEND (replacing any of the same keys), or None.

    The pixels are not decoded and re-encoded: a 1024² PNG costs a copy, not a compression.
    None when data is not a well-formed PNG that Pillow reads, so the caller re-encodes it.
    """
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            _check_pixels(image.size)
            image.verify()  # checks the chunk CRCs without decoding the pixels
    except ImageDownloadError:
        raise
    except Exception:
        return None
    chunks, position = [], len(_PNG_SIGNATURE)
    while position + 12 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        body = data[position + 8 : end - 4]
        if kind == b"IEND":
            new = [_text_chunk(key, value) for key, value in texts.items()]
            return _PNG_SIGNATURE + b"".join(chunks) + b"".join(new) + data[position:end]
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
            _check_pixels(image.size)
            image.load()
            return image.copy()  # usable after the file is closed
    except ImageDownloadError:
        raise
    except Exception as exc:  # Pillow signals bad data with many exception types
        raise ImageDownloadError(
            "The image data is not a readable PNG, JPEG or WebP image, so it was not saved. "
            "Generate again."
        ) from exc


def _png_name(record: Mapping[str, Any], now: datetime) -> str:
    seed = record.get("seed")
    seed_part = _name_part("" if seed is None else _num(seed), "noseed")
    model = _name_part(_as_text(record.get("model_id")), "model")[:64].strip("-") or "model"
    # Job ids share a prefix ("heurist-ui-..."): the unique tail tells files apart.
    job = re.sub(r"[^A-Za-z0-9]", "", _as_text(record.get("job_id")))[-8:] or "nojob"
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
