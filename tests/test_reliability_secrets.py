"""Secrets: a session run with a sentinel key leaves no trace of it anywhere the app writes.

The sentinel is given once as the server's key and once as a per-call key, through successes,
rejections, API errors that echo the key back, and mangled keys. Then every log record (all
loggers at DEBUG), the process's stdout/stderr, every file under the app's folders and every
gallery copy Gradio serves (bytes and decoded PNG text chunks), every /generate response and
error message, the page, /config and /gradio_api/info are searched: zero hits.
"""

from __future__ import annotations

import base64
import logging
import struct
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from gradio_client.exceptions import AppError
from test_reliability_support import (
    Outcome,
    call_generate,
    fast_retries,
    gallery_paths,
    generate_data,
)
from ui_helpers import api_client, running_studio

from heurist_ui.sandbox import Sandbox, key_fingerprint

SENTINEL = "sentinel-user#SENTINEL-KEY-7f3a9c"
REJECTED = "rejected-user#SENTINEL-KEY-rejected-0b1d"  # a key the API does not accept
ALICE = "alice#alice-secret-51d0"
BOB = "bob#bob-secret-c28e"
SECRET_KEYS = (SENTINEL, REJECTED)


def needles() -> list[bytes]:
    """Every form in which a secret key could show up."""
    forms: set[str] = set()
    for key in SECRET_KEYS:
        secret = key.split("#", 1)[1]
        forms |= {key, secret, quote(key, safe=""), quote(key), key.replace("#", "%23")}
        forms |= {base64.b64encode(text.encode()).decode() for text in (key, secret)}
    forms.add("SENTINEL-KEY")  # any piece of the secret parts
    return sorted({form.encode() for form in forms} | {form.lower().encode() for form in forms})


NEEDLES = needles()


def leaks(where: str, content: str | bytes) -> list[str]:
    """Where a secret shows up in content, as "where: needle" lines."""
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    lowered = data.lower()
    return [f"{where}: {needle.decode()}" for needle in NEEDLES if needle.lower() in lowered]


def png_texts(data: bytes) -> Iterator[str]:
    """The decoded text of every tEXt, zTXt and iTXt chunk (compressed or not) of a PNG."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return
    position = 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"tEXt":
            yield body.decode("latin-1")
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\0")
            yield keyword.decode("latin-1") + zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            text = zlib.decompress(text) if compressed else text
            yield keyword.decode("latin-1") + text.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def key_sandbox():
    """A sandbox that accepts only the sentinel and the two users' keys."""
    with Sandbox(port=0, valid_keys=[SENTINEL, ALICE, BOB]) as server:
        yield server


@pytest.fixture
def every_log_record(caplog):
    """caplog at DEBUG on every logger, including those that do not propagate to the root.

    Call the fixture's value again after launching: uvicorn resets its loggers' levels then.
    """
    attached: set[logging.Logger] = set()

    def listen():
        caplog.set_level(logging.DEBUG)
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                caplog.set_level(logging.DEBUG, logger=name)
                if not logger.propagate and logger not in attached:
                    logger.addHandler(caplog.handler)
                    attached.add(logger)
        return caplog

    listen()
    yield listen
    for logger in attached:
        logger.removeHandler(caplog.handler)


class Session:
    """Everything one run showed or returned, to be searched afterwards."""

    def __init__(self, app, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox
        self.outcomes: list[Outcome] = []
        self.texts: list[tuple[str, str]] = []
        self.gradio = api_client(app.url)

    def rest(self, label: str, **inputs) -> Outcome:
        outcome = call_generate(self.app.url, generate_data(**inputs))
        self.outcomes.append(outcome)
        self.texts.append((f"/generate response ({label})", outcome.raw))
        if outcome.message:
            self.texts.append((f"error message ({label})", outcome.message))
        return outcome

    def client(self, label: str, **inputs) -> None:
        data = generate_data(**inputs)
        try:
            result = self.gradio.predict(*data, api_name="/generate")
        except AppError as error:
            self.texts.append((f"gradio_client error ({label})", f"{error!s} {error!r}"))
        else:
            self.texts.append((f"gradio_client result ({label})", repr(result)))

    def run_everything(self, key: str) -> None:
        """Successes, rejections, errors that echo the key, and mangled keys."""
        sandbox = self.sandbox
        assert self.rest("success", api_key=key, num_images=2).ok
        self.client("success", api_key=key)

        sandbox.add_fault("status", status=401, body=f"Invalid API key {SENTINEL}, rejected")
        assert not self.rest("rejected, echoed", api_key=key).ok
        sandbox.add_fault("status", status=403, body=f"Bearer {SENTINEL}")
        self.client("rejected, echoed", api_key=key)
        assert not self.rest("rejected by the API", api_key=REJECTED).ok

        sandbox.add_fault("status", status=500, body=f"Authorization: Bearer {SENTINEL}")
        sandbox.add_fault("status", status=402, body=f"key {SENTINEL} has no credits")
        sandbox.add_fault("shape", body=f'"not a url: {SENTINEL}"')
        sandbox.add_fault("shape", body=f'{{"image_url": "{SENTINEL}"}}')
        sandbox.add_fault("image_url", url=f"{sandbox.url}/images/none.png?key={SENTINEL}")
        sandbox.add_fault("drop")
        sandbox.add_fault("image", mode="html")
        for n in range(7):
            assert not self.rest(f"error {n}", api_key=key).ok

        # A key mangled by copy and paste takes other code paths (header encoding, checks).
        for mangled in (f"{SENTINEL}\u200b", f"{SENTINEL}\nX-Injected: 1", f" {SENTINEL}\t"):
            self.rest("mangled key", api_key=mangled)
        self.rest("success again", api_key=key)

        # A script that sends one value too few or too many, the key (SENTINEL whatever the
        # server has) among them: Gradio's own check would log every value it got. One short
        # (the first left out) shifts every value: the key lands where the image count goes.
        data = generate_data(api_key=SENTINEL)
        for label, values in (("one value short", data[1:]), ("one extra", [*data, SENTINEL])):
            outcome = call_generate(self.app.url, values)
            self.texts.append((f"/generate response ({label})", outcome.raw))
            assert outcome.clear_error, outcome.raw
        assert f"takes {len(data)} values" in outcome.message  # the one extra: named

    def surfaces(self) -> list[tuple[str, str | bytes]]:
        """Every place the session could have leaked a key into."""
        found: list[tuple[str, str | bytes]] = list(self.texts)
        url = self.app.url
        for path in ("", "config", "gradio_api/info", "gradio_api/info?all_endpoints=true"):
            response = requests.get(f"{url}{path}", timeout=10)
            assert response.status_code == 200, path
            found.append((f"GET /{path}", response.content))
        found.append(("repr(client)", repr(self.app.studio.client)))
        found.append(("repr(settings)", repr(self.app.settings)))
        for outcome in self.outcomes:
            for item in outcome.gallery:
                served = requests.get(item["image"]["url"], timeout=10)
                found.append((f"served {item['image']['url']}", served.content))
            for path in gallery_paths(outcome):
                found.append((f"gallery copy {path}", path.read_bytes()))
        return found


def files_under(*folders: Path) -> Iterator[tuple[str, bytes]]:
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                yield str(path), path.read_bytes()


def assert_no_leaks(session: Session, folder: Path, caplog, capfd) -> None:
    surfaces = session.surfaces()
    surfaces += list(files_under(folder))
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.records
    assert records, "no log records were captured: the search would prove nothing"
    surfaces += [(f"log {record.name}", formatter.format(record)) for record in records]
    surfaces.append(("caplog.text", caplog.text))
    out, err = capfd.readouterr()
    surfaces += [("stdout", out), ("stderr", err)]

    pngs = [(where, data) for where, data in surfaces if isinstance(data, bytes)]
    texts = [(f"{where} PNG text", text) for where, data in pngs for text in png_texts(data)]
    assert any("parameters" in text for _, text in texts), "no PNG metadata was searched"
    surfaces += texts

    found = [line for where, content in surfaces for line in leaks(where, content)]
    assert found == [], "a key leaked:\n" + "\n".join(found[:20])


def test_a_server_key_session_leaves_no_trace(key_sandbox, tmp_path, every_log_record, capfd):
    key_sandbox.reset()
    with running_studio(key_sandbox, tmp_path, api_key=SENTINEL) as app:
        caplog = every_log_record()
        fast_retries(app.studio.client)
        session = Session(app, key_sandbox)
        session.run_everything(key="")
        fingerprints = {sub.key_fingerprint for sub in key_sandbox.submissions}
        assert key_fingerprint(SENTINEL) in fingerprints  # the server key really was used
        assert_no_leaks(session, tmp_path, caplog, capfd)


def test_a_per_call_key_session_leaves_no_trace(key_sandbox, tmp_path, every_log_record, capfd):
    key_sandbox.reset()
    with running_studio(key_sandbox, tmp_path, api_key=None) as app:
        caplog = every_log_record()
        fast_retries(app.studio.client)
        session = Session(app, key_sandbox)
        outcome = session.rest("no key at all", api_key="")
        assert not outcome.ok and "No API key" in outcome.message
        session.run_everything(key=SENTINEL)
        fingerprints = {sub.key_fingerprint for sub in key_sandbox.submissions}
        assert key_fingerprint(SENTINEL) in fingerprints
        assert_no_leaks(session, tmp_path, caplog, capfd)


def test_two_users_at_once_each_reach_the_api_with_their_own_key(key_sandbox, tmp_path):
    key_sandbox.reset()
    users = {"alice": ALICE, "bob": BOB, "server": ""}
    start = threading.Barrier(len(users))

    def as_user(key: str) -> Outcome:
        start.wait()
        return call_generate(app.url, generate_data(api_key=key, num_images=3))

    with (
        running_studio(key_sandbox, tmp_path, api_key=SENTINEL) as app,
        ThreadPoolExecutor(max_workers=len(users)) as pool,
        key_sandbox.hold() as gate,
    ):
        calls = {user: pool.submit(as_user, key) for user, key in users.items()}
        gate.wait_for(9)  # every user's three jobs at the API at once
        gate.release()
        outcomes = {user: call.result() for user, call in calls.items()}

    by_job = {sub.job_id: sub for sub in key_sandbox.submissions}
    assert len(by_job) == len(key_sandbox.submissions) == 9
    expected = {"alice": ALICE, "bob": BOB, "server": SENTINEL}
    spans = {}
    for user, outcome in outcomes.items():
        assert outcome.ok and len(outcome.records) == 3, outcome.message
        jobs = [by_job[record["job_id"]] for record in outcome.records]
        assert {job.key_fingerprint for job in jobs} == {key_fingerprint(expected[user])}, user
        spans[user] = (min(j.received_at for j in jobs), max(j.answered_at for j in jobs))
    # The point is a race: the users' batches were at the API at the same time.
    assert max(first for first, _ in spans.values()) < min(last for _, last in spans.values())
