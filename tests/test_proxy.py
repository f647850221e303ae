"""Deadlines hold behind an HTTP proxy: the client through a real forwarding proxy on loopback."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from heurist_ui.errors import APITimeoutError, ImageDownloadError

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class _Forward(socketserver.BaseRequestHandler):
    """One request: its absolute URL made a path, sent on with Connection: close both ways, and
    every byte of the answer's body passed back the moment it arrives (a buffering proxy would
    hide a trickle behind the read timeout)."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        request_line, *headers = head.decode("latin-1").split("\r\n")
        method, url, version = request_line.split(" ")
        target = urlsplit(url)
        self.server.seen.append(f"{method} {url}")
        length = next(
            (int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")),
            0,
        )
        while len(rest) < length:  # the whole body before the answer is awaited
            chunk = self.request.recv(65536)
            if not chunk:
                return
            rest += chunk
        kept = [
            h for h in headers if h.split(":")[0].lower() not in ("connection", "proxy-connection")
        ]
        path = target.path + (f"?{target.query}" if target.query else "")
        forwarded = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""])
        with socket.create_connection((target.hostname, target.port or 80)) as upstream:
            upstream.sendall(forwarded.encode("latin-1") + rest)
            # The answer's head says Connection: close, so the client never reuses a
            # connection this proxy is about to close.
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = upstream.recv(65536)
                if not chunk:
                    return
                answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            status_line, *answer_headers = head.decode("latin-1").split("\r\n")
            answer_headers = [h for h in answer_headers if not h.lower().startswith("connection:")]
            closing = "\r\n".join([status_line, *answer_headers, "Connection: close", "", ""])
            self.request.sendall(closing.encode("latin-1") + body)
            ends = [self.request, upstream]
            while True:
                readable, _, _ = select.select(ends, [], [], 30)
                if not readable:
                    return
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.request else self.request).sendall(data)


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def forwarding_proxy() -> Iterator[_Proxy]:
    proxy = _Proxy()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


@pytest.fixture
def proxy(monkeypatch) -> Iterator[_Proxy]:
    """HTTP_PROXY at a forwarding proxy on loopback, and no NO_PROXY to skip it for 127.0.0.1."""
    with forwarding_proxy() as server:
        for name in PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.setenv("http_proxy", server.url)
        yield server


def test_calls_go_through_the_proxy(make_client, sandbox, proxy):
    client = make_client()
    assert client.session.trust_env  # the client saw a proxy configured

    result = client.generate(prompt="a cat", model_id="SDXL")
    client.download(result.url)

    assert f"POST {sandbox.url}/submit_job" in proxy.seen
    assert f"GET {result.url}" in proxy.seen


def test_an_answer_trickled_through_the_proxy_is_stopped_at_the_deadline(
    make_client, sandbox, proxy
):
    # Each byte comes well within the read timeout (the sandbox's answer is about 90 bytes:
    # 20 s at this pace), so only the overall deadline ends it.
    sandbox.add_fault("trickle", seconds=0.25)

    with pytest.raises(APITimeoutError) as caught:
        make_client(timeout=(2, 1.0)).generate(prompt="a cat", model_id="SDXL")

    assert "did not finish answering within 2 s" in str(caught.value)
    assert f"POST {sandbox.url}/submit_job" in proxy.seen
    assert len(sandbox.submissions) == 1


def test_an_image_trickled_through_the_proxy_is_stopped_at_the_download_deadline(
    make_client, sandbox, proxy
):
    client = make_client(download_deadline=0.5)
    sandbox.add_fault("image", mode="trickle", seconds=0.05)
    result = client.generate(prompt="a cat", model_id="SDXL")

    with pytest.raises(ImageDownloadError, match=r"took longer than 0\.5 s"):
        client.download(result.url)
    assert f"GET {result.url}" in proxy.seen
