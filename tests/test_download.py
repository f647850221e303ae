"""download: image links checked, redirects followed safely, bodies verified."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from image_helpers import (
    NON_LATIN,
    SECRET,
    image_bytes,
    make_record,
)
from PIL import Image

from heurist_ui import download
from heurist_ui.download import download_image, image_url_problem
from heurist_ui.errors import ImageDownloadError
from heurist_ui.pngfile import save_png

# The slow routes answer once this is set (the test sets it after its client gave up), or after
# HELD_AT_MOST seconds: no race between a server's sleep and a client's timeout.
SLOW_UNTIL = threading.Event()
SLOW_UNTIL.set()
HELD_AT_MOST = 60.0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/x.png", "private"),
        ("http://192.168.1.1/x.png", "private"),
        ("http://172.16.0.1/x.png", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/x.png", "loopback"),
        ("http://[::ffff:127.0.0.1]/x.png", "loopback"),
        ("http://[::ffff:10.0.0.1]/x.png", "private"),
        ("http://0.0.0.0/x.png", "unspecified"),
        ("http://224.0.0.1/x.png", "multicast"),
        ("http://127.0.0.1:8080/x.png", "loopback"),
        ("http://100.64.0.1/x.png", "non-public"),
        ("http://[fe80::1]/x.png", "link-local"),
        ("file:///etc/passwd", "only http and https"),
        ("data:image/png;base64,iVBORw0KGgo=", "only http and https"),
        ("ftp://example.com/x.png", "only http and https"),
        ("/x.png", "relative"),
        ("x.png", "relative"),
        ("http:///x.png", "no host"),
        ("http://user:pass@example.com/x.png", "user name or password"),
        ("http://evil.com\\@127.0.0.1/", "backslash"),
        ("http://example.com:99999/x.png", "invalid host or port"),
        ("http://[::1/x.png", "not a valid address"),
        (" http://example.com/x.png", "spaces"),
        ("http://example.com/x\n.png", "control"),
        ("http://exämple.com/x.png", "non-ASCII"),
        ("", "empty"),
        (None, "not text"),
    ],
)
def test_image_url_problem_refuses_unsafe_links(
    url: object, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    problem = image_url_problem(url)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/x.png",
        "https://93.184.216.34:8443/x.png?X-Amz-Signature=abc",
        "HTTPS://[2606:2800:220:1:248:1893:25c8:1946]/x.png",
    ],
)
def test_image_url_problem_allows_public_addresses_without_a_lookup(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    assert image_url_problem(url) is None


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f.1", "127.1"])
def test_image_url_problem_resolves_names_and_numeric_tricks(host: str) -> None:
    # All resolved by the system resolver itself, without DNS traffic.
    assert "loopback" in image_url_problem(f"http://{host}/x.png")


def test_image_url_problem_checks_every_resolved_address(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::ffff:10.0.0.5", 0, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    problem = image_url_problem("https://images.example.com/x.png")
    assert problem == "images.example.com resolves to a private-network address (::ffff:a00:5)"
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers[:1])
    assert image_url_problem("https://images.example.com/x.png") is None


def test_image_url_problem_refuses_hosts_that_do_not_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)
    assert image_url_problem("https://nowhere.invalid/x.png") == (
        "the host nowhere.invalid could not be resolved"
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8080/x.png", ["127.0.0.1"]),
        ("http://LocalHost/x.png", ["localhost"]),
        ("http://localhost:1/x.png", ["LOCALHOST"]),
        ("http://[::1]:9/x.png", ["::1"]),
        ("http://10.0.0.1/x.png", "10.0.0.1"),
    ],
)
def test_image_url_problem_trusts_allowed_hosts(url: str, allowed: list[str] | str) -> None:
    assert image_url_problem(url, allowed_hosts=allowed) is None


def test_allowed_hosts_match_exact_names_only(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    problem = image_url_problem("http://cdn.example.com/x.png", allowed_hosts=["example.com"])
    assert problem is not None
    assert "private" in problem
    assert image_url_problem("file:///x.png", allowed_hosts=["", "127.0.0.1"]) is not None


def _no_dns(*args: object, **kwargs: object) -> None:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --- downloads over a real local server -----------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Routes of the fake image host; every request is recorded in server.seen."""

    server: _ImageHost

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.seen.append((path, dict(self.headers)))
        png = self.server.png
        if path == "/image.png":
            self._reply(200, png, "image/png")
        elif path == "/missing.png":
            self._reply(404, b"Not Found", "text/plain")
        elif path == "/expired.png":
            self._reply(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        elif path == "/broken.png":
            self._reply(503, b"Service Unavailable", "text/plain")
        elif path == "/page.html":
            self._reply(200, b"<html><body>Sign in</body></html>", "text/html; charset=utf-8")
        elif path == "/not-image.png":
            self._reply(200, b'{"error": "this is not an image"}', "image/png")
        elif path == "/declared-huge.png":
            self._reply(200, png, "image/png", length=10 * 1024**3)
        elif path == "/huge.png":
            self._stream_forever()
        elif path == "/redirect-private":
            self._redirect(f"http://10.0.0.1/x.png?{SECRET}")
        elif path == "/redirect-self":
            self._redirect(f"/image.png?{SECRET}")
        elif path == "/redirect-loop":
            self._redirect("/redirect-loop")
        elif path == "/slow-headers.png":
            SLOW_UNTIL.wait(HELD_AT_MOST)
            self._reply(200, png, "image/png")
        elif path == "/slow-body.png":
            self._reply(200, png, "image/png", slow=True)
        else:
            self._reply(404, b"no such route", "text/plain")

    def _reply(
        self, status: int, body: bytes, content_type: str, *, length: int = 0, slow: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length or len(body)))
        self.end_headers()
        if slow:
            SLOW_UNTIL.wait(HELD_AT_MOST)
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream_forever(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        with contextlib.suppress(OSError):  # the client hangs up once it has had enough
            for _ in range(256):
                self.wfile.write(b"\x89PNG" * 16384)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class _ImageHost(ThreadingHTTPServer):
    daemon_threads = True
    png: bytes
    seen: list[tuple[str, dict[str, str]]]


@pytest.fixture(scope="module")
def image_host():
    server = _ImageHost(("127.0.0.1", 0), _Handler)
    server.png = image_bytes(size=(16, 16))
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def base_url(image_host: _ImageHost) -> str:
    return f"http://127.0.0.1:{image_host.server_address[1]}"


@pytest.fixture
def session():
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
        yield session


LOCAL = ("127.0.0.1",)


def test_download_image_fetches_from_an_allowed_host(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    data = download_image(session, f"{base_url}/image.png?{SECRET}", allowed_hosts=LOCAL)
    assert data == image_host.png


def test_download_image_never_sends_the_api_key(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    session.headers["Authorization"] = "Bearer user#secret-key"
    session.auth = ("user", "password")
    download_image(session, f"{base_url}/image.png", allowed_hosts=LOCAL)
    path, headers = image_host.seen[-1]
    assert path == "/image.png"
    assert "authorization" not in {name.lower() for name in headers}


def test_download_image_refuses_loopback_unless_allowed(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="loopback") as caught:
        download_image(session, f"{base_url}/image.png?{SECRET}")
    assert SECRET not in str(caught.value)
    assert f"Link: {base_url}/image.png" in str(caught.value)
    assert len(image_host.seen) == before


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "/image.png",
        "ftp://127.0.0.1/image.png",
        "http://user:hunter2@127.0.0.1/image.png",
    ],
)
def test_download_image_refuses_unsafe_links_without_a_request(
    session: requests.Session, image_host: _ImageHost, url: str
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="not allowed") as caught:
        download_image(session, url, allowed_hosts=LOCAL)
    assert "hunter2" not in str(caught.value)
    assert caught.value.status_code is None
    assert len(image_host.seen) == before


def test_download_image_checks_every_redirect(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match=r"redirected.*private") as caught:
        download_image(session, f"{base_url}/redirect-private", allowed_hosts=LOCAL)
    assert "SECRET" not in str(caught.value)
    assert "http://10.0.0.1/x.png" in str(caught.value)
    assert [path for path, _ in image_host.seen[before:]] == ["/redirect-private"]


def test_download_image_follows_safe_redirects(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    data = download_image(session, f"{base_url}/redirect-self", allowed_hosts=LOCAL)
    assert data == image_host.png
    assert [path for path, _ in image_host.seen[before:]] == ["/redirect-self", "/image.png"]


def test_download_image_stops_redirect_loops(
    session: requests.Session, base_url: str, image_host: _ImageHost
) -> None:
    before = len(image_host.seen)
    with pytest.raises(ImageDownloadError, match="redirected more than 5 times"):
        download_image(session, f"{base_url}/redirect-loop", allowed_hosts=LOCAL)
    assert len(image_host.seen) - before == download.MAX_REDIRECTS + 1


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/missing.png", 404, r"could not be downloaded \(404\): the link may have expired"),
        ("/expired.png", 403, r"\(403\): the link may have expired\. Generate again\."),
        ("/broken.png", 503, r"image host failed \(503\)\. Try again in a moment"),
    ],
)
def test_download_image_reports_error_statuses(
    session: requests.Session, base_url: str, path: str, status: int, message: str
) -> None:
    with pytest.raises(ImageDownloadError, match=message) as caught:
        download_image(session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL)
    assert caught.value.status_code == status
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/page.html", "returned a web page instead of an image"),
        ("/not-image.png", "not a PNG, JPEG or WebP image"),
        ("/huge.png", r"stopped after 0\.2 MB: the file is larger than the limit"),
        ("/declared-huge.png", r"too large to download \(10240\.0 MB; the limit is 0\.2 MB\)"),
    ],
)
def test_download_image_refuses_bodies_that_are_not_acceptable_images(
    session: requests.Session, base_url: str, path: str, message: str
) -> None:
    with pytest.raises(ImageDownloadError, match=message) as caught:
        download_image(
            session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL, max_bytes=256 * 1024
        )
    assert caught.value.status_code is None
    assert SECRET not in str(caught.value)
    assert f"Link: {base_url}{path}" in str(caught.value)


def test_download_image_refuses_too_many_pixels(
    session: requests.Session, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "MAX_IMAGE_PIXELS", 15 * 15)
    with pytest.raises(ImageDownloadError, match="too large: 16x16 pixels"):
        download_image(session, f"{base_url}/image.png", allowed_hosts=LOCAL)


@pytest.mark.parametrize("path", ["/slow-headers.png", "/slow-body.png"])
def test_download_image_reports_timeouts(session: requests.Session, base_url: str, path: str):
    SLOW_UNTIL.clear()  # the server answers only once the client has given up
    try:
        with pytest.raises(ImageDownloadError, match="timed out") as caught:
            download_image(
                session, f"{base_url}{path}?{SECRET}", allowed_hosts=LOCAL, timeout=(2.0, 0.2)
            )
    finally:
        SLOW_UNTIL.set()
    assert SECRET not in str(caught.value)


def test_download_image_reports_unreachable_hosts(
    session: requests.Session, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/image.png?{SECRET}"
    with pytest.raises(ImageDownloadError, match="could not be reached") as caught:
        download_image(session, url, allowed_hosts=LOCAL)
    assert SECRET not in str(caught.value)
    assert caught.value.status_code is None


def test_downloaded_image_saves_with_metadata(
    session: requests.Session, base_url: str, tmp_path: Path
) -> None:
    record = make_record(prompt=NON_LATIN, url=f"{base_url}/image.png")
    data = download_image(session, record["url"], allowed_hosts=LOCAL)
    path = save_png(data, record, tmp_path)
    with Image.open(path) as image:
        assert image.text["parameters"].startswith(NON_LATIN + "\n")
        assert image.size == (16, 16)
