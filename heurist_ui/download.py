"""Safe image downloads: public http(s) hosts only (after every redirect), size-capped, verified."""

from __future__ import annotations

import io
import ipaddress
import logging
import socket
from collections.abc import Callable, Collection
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image
from urllib3.exceptions import ReadTimeoutError

from .deadline import Deadline
from .errors import ImageDownloadError

MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
DOWNLOAD_TIMEOUT = (5.0, 30.0)  # connect, and each read
DOWNLOAD_DEADLINE = 60.0  # seconds for the whole download, every redirect included
MAX_REDIRECTS = 5

# Only these decoders ever see downloaded or uploaded bytes: Pillow's rarer plugins are a
# larger attack surface (EPS even runs Ghostscript on load).
IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")

_CHUNK_SIZE = 64 * 1024
# Never send the API key (or a session's cookies) to an image host.
_DOWNLOAD_HEADERS = {"Accept": "image/png,image/*;q=0.9", "Authorization": None, "Cookie": None}

logger = logging.getLogger(__name__)


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
    deadline: float = DOWNLOAD_DEADLINE,
    verify: Callable[[bytes, str], None] | None = None,
) -> bytes:
    """Fetch an image, checking every redirect hop, the size and that the bytes are an image.

    verify(data, url) replaces the image check for other files (videos); it raises
    ImageDownloadError when the bytes are not what was asked for.

    The whole download must finish within `deadline` seconds when session is mounted with a
    DeadlineAdapter (as HeuristClient's is): a host that trickles bytes cannot hold it longer.
    """
    watch = Deadline(deadline)
    try:
        with watch:
            return _download(session, url, allowed_hosts, max_bytes, timeout, verify)
    except ImageDownloadError:
        if watch.expired:
            raise ImageDownloadError(
                f"The image download took longer than {deadline:g} s, so it was stopped. The "
                f"image host is too slow right now: generate again later. Link: "
                f"{_display_url(url)}"
            ) from None
        raise


def _download(
    session: requests.Session,
    url: str,
    allowed_hosts: Collection[str],
    max_bytes: int,
    timeout: float | tuple[float, float],
    verify: Callable[[bytes, str], None] | None = None,
) -> bytes:
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
        (verify or _verify_image)(data, current)
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
    except ValueError:  # requests reads a redirect's Location first: "http://[bad]/" raises
        raise ImageDownloadError(
            _refusal_message(url, "its address cannot be read", redirected=True)
        ) from None


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
    except ValueError:  # requests reads a redirect's Location first: "http://[bad]/" raises
        raise ImageDownloadError(
            _refusal_message(url, "its address cannot be read", redirected=True)
        ) from None
    return b"".join(chunks)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _verify_image(data: bytes, url: str) -> None:
    shown = _display_url(url)
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
            check_pixels(image.size)
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


def check_pixels(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDownloadError(
            f"The image is too large: {width}x{height} pixels (the limit is "
            f"{MAX_IMAGE_PIXELS:,} pixels). Generate a smaller image."
        )
