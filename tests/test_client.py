"""HeuristClient over real HTTP against the sandbox: request shape, answers, errors, retries."""

from __future__ import annotations

import dataclasses
import http.server
import io
import math
import re
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from waiting import wait_until

from heurist_ui.client import DEADLINE_SLACK, HeuristClient
from heurist_ui.deadline import Deadline
from heurist_ui.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    HeuristError,
    ImageDownloadError,
    InsufficientCreditsError,
    InvalidRequestError,
    MissingAPIKeyError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    UnknownModelError,
)
from heurist_ui.sandbox import key_fingerprint

SENTINEL_KEY = "user-123#SENTINEL-SECRET-KEY-42"
SECRET_PARTS = (SENTINEL_KEY, "user-123", "SENTINEL-SECRET-KEY-42")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def wait_for_submissions(sandbox, count: int) -> list:
    """The sandbox's submissions once it has recorded at least count of them."""
    wait_until(lambda: len(sandbox.submissions) >= count, f"{count} recorded submissions")
    return sandbox.submissions


def assert_no_secret(text: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text


# --- the request -------------------------------------------------------------------------------


def test_generate_sends_the_exact_submit_job_body(client, sandbox):
    result = client.generate(
        prompt="a lighthouse at dusk",
        model_id="SDXL",
        neg_prompt="blurry",
        width=1024,
        height=768,
        num_iterations=20,
        guidance_scale=7.0,
        seed=12345,
    )

    (submission,) = sandbox.submissions
    assert submission.payload == {
        "job_id": result.job_id,
        "model_input": {
            "SD": {
                "prompt": "a lighthouse at dusk",
                "neg_prompt": "blurry",
                "num_iterations": 20,
                "width": 1024,
                "height": 768,
                "guidance_scale": 7.0,
                "seed": 12345,
            }
        },
        "model_type": "SD",
        "model_id": "SDXL",
        "deadline": 60,
        "priority": 1,
    }


def test_job_id_is_prefixed_uuid4(client, sandbox):
    result = client.generate(prompt="a cat", model_id="SDXL")

    job_id = sandbox.submissions[0].payload["job_id"]
    assert job_id == result.job_id
    prefix, _, hex_part = job_id.rpartition("-")
    assert prefix == "heurist-ui"
    assert uuid.UUID(hex=hex_part).version == 4


def test_bearer_header_carries_the_whole_key(client, sandbox, api_key):
    client.generate(prompt="a cat", model_id="SDXL")

    assert sandbox.submissions[0].key_fingerprint == key_fingerprint(api_key)


def test_job_ids_are_unique_across_many_concurrent_calls(client, sandbox):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: client.generate(prompt=f"cat {i}", model_id="Aurora"), range(24))
        )

    sent_ids = [submission.payload["job_id"] for submission in sandbox.submissions]
    assert len(set(sent_ids)) == len(sent_ids) == 24
    assert {result.job_id for result in results} == set(sent_ids)


def test_random_seed_is_chosen_before_sending_and_reported(client, sandbox):
    first = client.generate(prompt="a cat", model_id="SDXL", seed=-1)
    second = client.generate(prompt="a cat", model_id="SDXL", seed=-1)

    sent = [s.payload["model_input"]["SD"]["seed"] for s in sandbox.submissions]
    assert sent == [first.seed, second.seed]
    assert all(seed >= 0 for seed in sent)
    assert first.seed != second.seed


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**53 - 1])
def test_explicit_seed_is_sent_unchanged(client, sandbox, seed):
    result = client.generate(prompt="a cat", model_id="SDXL", seed=seed)

    assert sandbox.submissions[0].payload["model_input"]["SD"]["seed"] == seed
    assert result.seed == seed


@pytest.mark.parametrize(
    ("asked", "sent"),
    [((1024, 768), (1024, 768)), ((1001, 777), (1000, 776)), ((71, 64), (64, 64))],
)
def test_sizes_are_floored_to_multiples_of_8_and_reported(client, sandbox, asked, sent):
    result = client.generate(prompt="a cat", model_id="SDXL", width=asked[0], height=asked[1])

    body = sandbox.submissions[0].payload["model_input"]["SD"]
    assert (body["width"], body["height"]) == sent
    assert (result.width, result.height) == sent


def test_model_defaults_fill_unset_parameters(client, sandbox):
    client.generate(prompt="a cat", model_id="SDXL")

    body = sandbox.submissions[0].payload["model_input"]["SD"]
    assert (body["width"], body["height"], body["num_iterations"]) == (1024, 1024, 22)
    assert body["guidance_scale"] == 5


def test_flux_model_sends_an_empty_negative_prompt(client, sandbox):
    result = client.generate(prompt="a cat", model_id="FLUX.1-dev", neg_prompt="blurry, ugly")

    assert sandbox.submissions[0].payload["model_input"]["SD"]["neg_prompt"] == ""
    assert result.neg_prompt == ""


def test_per_call_api_key_overrides_the_client_key(client, sandbox):
    client.generate(prompt="a cat", model_id="SDXL", api_key="other-user#other-key")

    assert sandbox.submissions[0].key_fingerprint == key_fingerprint("other-user#other-key")


def test_client_reads_key_and_urls_from_the_environment(monkeypatch, sandbox, tmp_path, api_key):
    monkeypatch.setenv("HEURIST_API_KEY", api_key)
    monkeypatch.setenv("HEURIST_BASE_URL", sandbox.url + "/")
    monkeypatch.setenv("HEURIST_MODELS_URL", sandbox.models_url)
    monkeypatch.setenv("HEURIST_CACHE_DIR", str(tmp_path / "cache"))

    with HeuristClient(backoff_factor=0) as client:
        client.generate(prompt="a cat", model_id="SDXL")

    assert sandbox.submissions[0].key_fingerprint == key_fingerprint(api_key)


def test_explicit_settings_without_a_key_ignore_the_environment(monkeypatch, settings):
    # A studio built for users who bring their own keys must not pick up a server key by chance.
    monkeypatch.setenv("HEURIST_API_KEY", "server-user#server-key")
    keyless = dataclasses.replace(settings, api_key=None)

    with HeuristClient(settings=keyless) as client, pytest.raises(MissingAPIKeyError):
        client.generate(prompt="a cat", model_id="SDXL")


# --- the answer --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["quoted", "bare", "object"])
def test_every_known_answer_shape_gives_the_url(client, sandbox, shape):
    sandbox.add_fault("shape", shape=shape)

    result = client.generate(prompt="a cat", model_id="SDXL")

    assert result.url.startswith("http")
    assert result.url == sandbox.submissions[0].image_url


@pytest.mark.parametrize(
    "body",
    [
        '"https://heurist-images.s3.us-east-1.amazonaws.com/a.png?X-Amz-Signature=abc&x=1"',
        "https://heurist-images.s3.us-east-1.amazonaws.com/a.png?X-Amz-Signature=abc&x=1",
        '{"image_url": "https://heurist-images.s3.us-east-1.amazonaws.com/a.png?X-Amz-Signature=abc&x=1"}',
        '  "https://heurist-images.s3.us-east-1.amazonaws.com/a.png?X-Amz-Signature=abc&x=1"\n',
    ],
)
def test_signed_urls_keep_their_query_string(client, sandbox, body):
    sandbox.add_fault("shape", body=body)

    result = client.generate(prompt="a cat", model_id="SDXL")

    assert result.url == (
        "https://heurist-images.s3.us-east-1.amazonaws.com/a.png?X-Amz-Signature=abc&x=1"
    )


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Bad gateway</body></html>",
        "",
        "   ",
        "{}",
        "null",
        "[]",
        "42",
        '""',
        '"not a url"',
        '{"image_url": null}',
        '{"image_url": 5}',
        '{"url": "https://example.com/a.png"}',
        '"file:///etc/passwd"',
        "file:///etc/passwd",
        '"ftp://example.com/a.png"',
        '{"image_url": "javascript:alert(1)"}',
        '"https://"',
        "https://example.com/a b.png",
        '"https://example.com/a.png',
    ],
)
def test_unusable_answers_raise_unexpected_response(client, sandbox, body):
    sandbox.add_fault("shape", body=body)

    with pytest.raises(UnexpectedResponseError, match="answered something unexpected"):
        client.generate(prompt="a cat", model_id="SDXL")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "data:image/png;base64,AA"])
def test_non_http_image_url_is_refused(client, sandbox, url):
    sandbox.add_fault("image_url", url=url)

    with pytest.raises(UnexpectedResponseError, match="answered something unexpected"):
        client.generate(prompt="a cat", model_id="SDXL")


def test_unexpected_answer_echoing_the_key_is_redacted(make_client, sandbox):
    sandbox.add_fault("shape", body=f"<p>hello {SENTINEL_KEY}</p>")

    with pytest.raises(UnexpectedResponseError) as caught:
        make_client(api_key=SENTINEL_KEY).generate(prompt="a cat", model_id="SDXL")

    assert_no_secret(str(caught.value))


def test_download_returns_the_png_the_sandbox_rendered(client):
    result = client.generate(prompt="a cat", model_id="SDXL", width=512, height=256)

    data = client.download(result.url)

    assert data.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(data)).size == (512, 256)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, InvalidRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (402, InsufficientCreditsError),
        (404, InvalidRequestError),
        (418, APIStatusError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_error_status_maps_to_its_class_without_the_key(make_client, sandbox, status, error_class):
    sandbox.add_fault("status", times=10, status=status, body=f"denied for {SENTINEL_KEY}")

    with pytest.raises(error_class) as caught:
        make_client(api_key=SENTINEL_KEY).generate(prompt="a cat", model_id="SDXL")

    error = caught.value
    assert error.status_code == status
    assert str(status) in str(error)
    assert "denied for" in str(error)  # the API's own words are kept, minus the key
    assert_no_secret(str(error))
    assert_no_secret(repr(error))


def test_key_without_credits_gets_insufficient_credits(client):
    with pytest.raises(InsufficientCreditsError, match="402"):
        client.generate(prompt="a cat", model_id="SDXL", api_key="no-credits")


def test_every_error_is_a_heurist_error():
    for error_class in (
        InvalidRequestError,
        UnknownModelError,
        MissingAPIKeyError,
        AuthenticationError,
        InsufficientCreditsError,
        RateLimitError,
        ServerError,
        APIConnectionError,
        APITimeoutError,
        UnexpectedResponseError,
    ):
        assert issubclass(error_class, HeuristError)


def test_connection_refused_raises_connection_error_naming_the_host(make_client, closed_port):
    client = make_client(base_url=f"http://127.0.0.1:{closed_port}")

    with pytest.raises(APIConnectionError) as caught:
        client.generate(prompt="a cat", model_id="SDXL")

    assert not isinstance(caught.value, APITimeoutError)
    assert f"127.0.0.1:{closed_port}" in str(caught.value)


def test_missing_key_fails_before_sending(make_client, sandbox):
    client = make_client(api_key=None)

    with pytest.raises(MissingAPIKeyError, match="HEURIST_API_KEY"):
        client.generate(prompt="a cat", model_id="SDXL")

    assert sandbox.submissions == []


def test_repr_never_shows_the_key(make_client):
    client = make_client(api_key=SENTINEL_KEY)

    for text in (repr(client), str(client), repr(client.settings), str(client.settings)):
        assert_no_secret(text)


# --- retries, counted on the server ------------------------------------------------------------


def test_one_503_is_retried_with_the_same_job(client, sandbox):
    sandbox.add_fault("status", status=503)

    result = client.generate(prompt="a cat", model_id="SDXL")

    first, second = sandbox.submissions
    assert (first.status, second.status) == (503, 200)
    assert first.payload["job_id"] == second.payload["job_id"] == result.job_id
    assert result.url == second.image_url


@pytest.mark.timeout(20)
def test_retry_after_is_honoured(client, sandbox):
    sandbox.add_fault("status", status=429, retry_after=1)

    client.generate(prompt="a cat", model_id="SDXL")

    first, second = sandbox.submissions
    assert second.received_at - first.received_at >= 0.9


@pytest.mark.timeout(20)
def test_long_retry_after_is_capped(make_client, sandbox):
    sandbox.add_fault("status", status=429, retry_after=3600)

    make_client(retry_after_max=1).generate(prompt="a cat", model_id="SDXL")

    first, second = sandbox.submissions
    assert 0.9 <= second.received_at - first.received_at < 60


@pytest.mark.parametrize("retry_after", ["soon", "0.2", "-5"])
def test_malformed_retry_after_is_still_a_retry_not_a_connection_error(
    client, sandbox, retry_after
):
    sandbox.add_fault("status", status=429, retry_after=retry_after)

    result = client.generate(prompt="a cat", model_id="SDXL")

    assert [s.status for s in sandbox.submissions] == [429, 200]
    assert result.url == sandbox.submissions[1].image_url


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_persistent_retryable_status_stops_after_max_retries(
    make_client, sandbox, status, max_retries
):
    sandbox.add_fault("status", times=10, status=status)

    with pytest.raises(APIStatusError):
        make_client(max_retries=max_retries).generate(prompt="a cat", model_id="SDXL")

    assert len(sandbox.submissions) == max_retries + 1


@pytest.mark.parametrize("status", [400, 401, 402, 403, 500])
def test_non_retryable_status_is_sent_once(client, sandbox, status):
    sandbox.add_fault("status", times=10, status=status)

    with pytest.raises(HeuristError) as caught:
        client.generate(prompt="a cat", model_id="SDXL")

    assert caught.value.status_code == status
    assert len(sandbox.submissions) == 1


def test_read_timeout_is_not_retried(make_client, sandbox):
    sandbox.add_fault("delay", seconds=1.0)

    with pytest.raises(APITimeoutError, match="not sent again"):
        make_client(timeout=(2, 0.3)).generate(prompt="a cat", model_id="SDXL")

    # The sandbox records a job when it answers, after the delay; a retry would have gone out
    # (and succeeded, the fault being spent) before the client raised.
    assert len(wait_for_submissions(sandbox, 1)) == 1


def test_dropped_connection_is_not_retried(client, sandbox):
    sandbox.add_fault("drop")

    with pytest.raises(APIConnectionError) as caught:
        client.generate(prompt="a cat", model_id="SDXL")

    assert not isinstance(caught.value, APITimeoutError)
    assert len(sandbox.submissions) == 1


# --- validation sends nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "error_class"),
    [
        ({"prompt": ""}, InvalidRequestError),
        ({"prompt": "   \n\t "}, InvalidRequestError),
        ({"prompt": None}, InvalidRequestError),
        ({"prompt": "\x00\x01"}, InvalidRequestError),
        ({"prompt": "x" * 8001}, InvalidRequestError),
        ({"model_id": "NoSuchModel"}, UnknownModelError),
        ({"num_iterations": 0}, InvalidRequestError),
        ({"num_iterations": 51}, InvalidRequestError),
        ({"num_iterations": 20.5}, InvalidRequestError),
        ({"num_iterations": "many"}, InvalidRequestError),
        ({"width": 0}, InvalidRequestError),
        ({"width": -8}, InvalidRequestError),
        ({"width": 5000}, InvalidRequestError),
        ({"width": 1032}, InvalidRequestError),  # SDXL's max is 1024
        ({"height": 2048}, InvalidRequestError),
        ({"height": 10**12}, InvalidRequestError),
        ({"width": math.nan}, InvalidRequestError),
        ({"width": math.inf}, InvalidRequestError),
        ({"guidance_scale": 0}, InvalidRequestError),
        ({"guidance_scale": 25}, InvalidRequestError),
        ({"guidance_scale": math.nan}, InvalidRequestError),
        ({"seed": -2}, InvalidRequestError),
        ({"seed": 1.5}, InvalidRequestError),
        ({"seed": "abc"}, InvalidRequestError),
        ({"seed": math.nan}, InvalidRequestError),
        ({"seed": True}, InvalidRequestError),
        ({"seed": 2**53}, InvalidRequestError),
    ],
)
def test_invalid_parameters_raise_and_send_nothing(client, sandbox, override, error_class):
    arguments = {"prompt": "a cat", "model_id": "SDXL", **override}

    with pytest.raises(error_class):
        client.generate(**arguments)

    assert sandbox.submissions == []


def test_unknown_model_error_names_the_model_and_the_choices(client):
    with pytest.raises(UnknownModelError) as caught:
        client.generate(prompt="a cat", model_id="NoSuchModel")

    message = str(caught.value)
    assert "NoSuchModel" in message
    assert "SDXL" in message
    assert "FLUX.1-dev" in message


def test_flux_accepts_sizes_up_to_2048(client, sandbox):
    result = client.generate(prompt="a cat", model_id="FLUX.1-dev", width=2048, height=512)

    assert (result.width, result.height) == (2048, 512)


def test_cookies_set_by_the_api_are_not_kept(sandbox, settings):
    # The studio shares one client among all users: a cookie one answer sets must not be sent
    # with another user's job.
    class SetsCookie(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Set-Cookie", "session=user-a; Path=/")
            self.end_headers()
            self.wfile.write(b'"http://127.0.0.1/images/x.png"')

        def log_message(self, *args):
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), SetsCookie) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_address[1]}"
        with HeuristClient("user#key", base_url, settings=settings) as client:
            client.generate(prompt="a cat", model_id="SDXL")
            assert len(client.session.cookies) == 0
        server.shutdown()


def test_an_absurdly_long_key_is_refused_before_sending(make_client, sandbox):
    with pytest.raises(InvalidRequestError, match="not a Heurist API key") as raised:
        make_client(api_key="user#" + "k" * 1_000_000).generate(prompt="a cat", model_id="SDXL")
    assert "kkkk" not in str(raised.value)
    assert sandbox.submissions == []


def test_a_connection_broken_after_sending_says_the_job_may_have_run(make_client, api_key):
    requests_seen = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def read_then_hang_up() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            requests_seen.append(connection.recv(65536))
            connection.close()

    threading.Thread(target=read_then_hang_up, daemon=True).start()
    try:
        client = make_client(base_url=f"http://127.0.0.1:{server.getsockname()[1]}")
        with pytest.raises(APIConnectionError) as raised:
            client.generate(prompt="a cat", model_id="SDXL")
    finally:
        server.close()
    message = str(raised.value)
    assert "broke after the job was sent" in message and "may have run" in message
    assert "Could not reach" not in message and api_key not in message
    assert len(requests_seen) == 1  # never sent twice


def test_a_refused_connection_still_says_could_not_reach(make_client, closed_port):
    with pytest.raises(APIConnectionError, match=r"Could not reach Heurist.*refused"):
        make_client(base_url=f"http://127.0.0.1:{closed_port}").generate(
            prompt="a cat", model_id="SDXL"
        )


def test_an_answer_trickled_byte_by_byte_is_stopped_at_the_deadline(make_client, sandbox):
    # Each byte comes well within the read timeout, so only an overall deadline can end this
    # (the sandbox's answer is about 90 bytes: 20 s at this pace).
    sandbox.add_fault("trickle", seconds=0.25)

    with pytest.raises(APITimeoutError) as caught:
        make_client(timeout=(2, 1.0)).generate(prompt="a cat", model_id="SDXL")

    message = str(caught.value)
    assert "did not finish answering within 2 s" in message  # the read timeout, plus 1 s
    assert "may still have run" in message and "not sent again" in message
    assert len(sandbox.submissions) == 1


def test_a_finished_call_leaves_its_pooled_connection_alone(make_client, sandbox):
    client = make_client(timeout=(2, 0.5))
    for _ in range(3):
        client.generate(prompt="a cat", model_id="SDXL")
    # The watchdog runs deadlines out in time order: once one set after the calls' own
    # deadlines (0.5 s + the slack) has expired, theirs have all been run out.
    with Deadline(0.5 + DEADLINE_SLACK + 0.1) as later:
        wait_until(lambda: later.expired, "the watchdog to pass the calls' deadlines")

    result = client.generate(prompt="a cat", model_id="SDXL")

    assert result.url.startswith(sandbox.url)
    assert len(sandbox.submissions) == 4


def test_an_image_trickled_byte_by_byte_is_stopped_at_the_download_deadline(make_client, sandbox):
    client = make_client(download_deadline=0.5)
    sandbox.add_fault("image", mode="trickle", seconds=0.05)
    result = client.generate(prompt="a cat", model_id="SDXL")

    with pytest.raises(ImageDownloadError) as caught:
        client.download(result.url)

    message = str(caught.value)
    assert "took longer than 0.5 s" in message and "generate again" in message
    assert "?" not in message.split("Link:")[1]  # the link is shown without its query


@pytest.mark.parametrize("key", [SENTINEL_KEY, "u7#SENTINEL-SECRET-KEY-42", "abcde#XY"])
def test_an_echoed_request_shows_neither_the_key_nor_its_user_id(make_client, sandbox, key):
    sandbox.add_fault("echo")  # a 400 whose body is the request, Authorization header and all

    with pytest.raises(InvalidRequestError) as caught:
        make_client(api_key=key).generate(prompt="a cat", model_id="SDXL")

    message = str(caught.value)
    assert "(400)" in message and "Authorization" in message  # the body was shown, redacted
    for piece in (key, *key.split("#")):
        assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])", message)


@pytest.mark.parametrize("url", ["http://[::1", "http://[bad]/x.png", "https://[::1]:99999/x.png"])
def test_an_image_url_with_a_broken_host_says_the_api_answered_wrongly(client, sandbox, url):
    sandbox.add_fault("image_url", url=url)

    with pytest.raises(UnexpectedResponseError, match="answered something unexpected"):
        client.generate(prompt="a cat", model_id="SDXL")


def test_a_redirect_to_a_broken_host_is_refused_plainly(client, sandbox):
    sandbox.add_fault("image", mode="redirect", location="http://[bad]/x.png")
    result = client.generate(prompt="a cat", model_id="SDXL")

    with pytest.raises(ImageDownloadError, match="redirected to a link that is not allowed"):
        client.download(result.url)
