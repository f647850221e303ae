"""The openai client for Heurist's LLM gateway, with the image jobs' retry rules and deadline.

A module of its own so that `openai` (over half a second to import) loads on the first
✨ Enhance, not while the studio starts; only `openai_is_tested` runs at start-up.

httpx's timeouts restart with every byte, so a gateway sending a byte a second could hold an
enhancement for as long as it liked. Each exchange runs under a `Deadline` (heurist_ui.deadline):
its watchdog shuts the exchange's socket when the time is up. Connections are not kept alive,
so every exchange's socket is its own and is seen as it connects.

Every use of openai's private parts is in `_classes`, tested with TESTED_OPENAI (the tests
compare the openai functions they rely on with OPENAI_SOURCES). On another version the client
is openai's own with retries off, after ONE warning: no retry is safer than one that might send
a job twice.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from .deadline import Deadline, DeadlinePassed
from .errors import (
    APIConnectionError,
    APITimeoutError,
    HeuristError,
    UnexpectedResponseError,
    error_from_status,
    redact,
)
from .versions import is_tested

TESTED_OPENAI = "3.57.0"

# versions.source_hash of each openai function the private parts rely on, as in TESTED_OPENAI:
# the retry decision we narrow, and the request loop that calls it and passes an OpenAIError
# raised by the transport on without retrying.
OPENAI_SOURCES = {
    "openai._base_client.BaseClient._should_retry": "941d848d2289c090",
    "openai._base_client.SyncAPIClient.request": "ebf121f43ae10a45",
}

RETRY_STATUSES = frozenset({429, 502, 503, 504})


def openai_is_tested() -> bool:
    """Whether the installed openai is TESTED_OPENAI; the first call on another logs a warning."""
    return is_tested(
        "openai",
        TESTED_OPENAI,
        "heurist_ui/gateway.py",
        "✨ Enhance makes one attempt per request (openai's own client, its retries off)",
    )


class _Socket:
    """What a Deadline watches: an object whose `sock` it shuts when the time is up."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock


class _Watch:
    """An httpcore trace hook: puts each socket the exchange connects under its deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, event: str, info: dict[str, Any]) -> None:
        stream = info.get("return_value") if event.endswith(".complete") else None
        sock = getattr(stream, "get_extra_info", lambda _: None)("socket")
        if sock is not None:
            with contextlib.suppress(DeadlinePassed):  # then attach() has shut it already
                self.deadline.attach(_Socket(sock), new_request=False)


@functools.cache
def _classes() -> tuple[type, type]:
    """(transport, client class). The client's retry rule leans on openai's private behaviour
    (TESTED_OPENAI); the transport uses only its public errors and httpcore's trace hook."""
    import httpx2
    import openai

    class SafeRetries(httpx2.HTTPTransport):
        """Lets openai retry only what never reached the gateway; bounds each exchange.

        A read timeout, a passed deadline or a broken answer becomes an openai error here, which
        openai passes on without retrying; a failed connect stays an httpx error, which it
        retries.
        """

        def __init__(self, deadline: float) -> None:
            super().__init__(limits=httpx2.Limits(max_keepalive_connections=0))
            self.deadline = deadline

        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            deadline = Deadline(self.deadline)
            request.extensions = {**request.extensions, "trace": _Watch(deadline)}
            try:
                with deadline:
                    response = super().handle_request(request)
                    response.read()
                    return response
            except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout):
                if deadline.expired:
                    raise openai.APITimeoutError(request=request) from None
                raise
            except httpx2.TimeoutException as error:
                raise openai.APITimeoutError(request=request) from error
            except httpx2.TransportError as error:
                if deadline.expired:
                    raise openai.APITimeoutError(request=request) from error
                raise openai.APIConnectionError(message="dropped", request=request) from error

    class GatewayClient(openai.OpenAI):
        def _should_retry(self, response: httpx2.Response) -> bool:
            return response.status_code in RETRY_STATUSES and super()._should_retry(response)

    return SafeRetries, GatewayClient


def gateway_client(
    base_url: str, timeout: float, max_retries: int, deadline: float | None = None
) -> Any:
    """One client for every user: each request sets its own key.

    timeout bounds each wait (connect, each read); deadline (timeout by default) the whole of
    each exchange.
    """
    import httpx2
    import openai

    transport, client_class = _classes()
    http_client = httpx2.Client(
        transport=transport(timeout if deadline is None else deadline), timeout=timeout
    )
    if not openai_is_tested():
        client_class, max_retries = openai.OpenAI, 0
    return client_class(
        api_key="unset",
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        http_client=http_client,
    )


def complete(client: Any, key: str, **request: Any) -> Any:
    """A chat completion with this key; raises HeuristError (never with the key in it)."""
    import openai

    try:
        return client.with_options(api_key=key).chat.completions.create(**request)
    except (openai.OpenAIError, ValueError) as error:  # ValueError: a body that is not JSON
        raise project_error(error, key) from None


def project_error(error: Exception, key: str) -> HeuristError:
    import openai

    host = _host_of(error)
    if isinstance(error, openai.APIStatusError):
        mapped = error_from_status(error.status_code, _body(error), api_key=key)
        mapped.message = f"Enhancing the prompt failed. {mapped.message}"
        return mapped
    if isinstance(error, openai.APITimeoutError):
        return APITimeoutError(
            "Heurist's language model did not answer in time. Your description is unchanged; "
            "try Enhance again in a moment."
        )
    if isinstance(error, openai.APIConnectionError):
        return APIConnectionError(
            f"Could not reach Heurist's LLM gateway{host}. Check your internet connection and "
            "HEURIST_LLM_BASE_URL, then try again. Your description is unchanged."
        )
    return UnexpectedResponseError(
        redact(
            "The LLM gateway answered something unexpected. Your description is unchanged; try "
            "again or pick another language model.",
            key,
        )
    )


def _host_of(error: Exception) -> str:
    request = getattr(error, "request", None)
    try:
        return f" at {request.url.host}" if request is not None else ""
    except AttributeError:
        return ""


def _body(error: Any) -> str:
    try:
        return error.response.text
    except Exception:  # a body that cannot be read says nothing more
        return ""
