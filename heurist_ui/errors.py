"""Errors raised by heurist_ui.

Every message says what happened and what the user can do next, carries the HTTP
status where there is one, and never contains an API key. The errors a visitor meets most
also carry a code and the named values of their message, so that a front end can say the
same in the visitor's language (the studio's ui/messages.py); the message stays English.

    HeuristError
    ├── InvalidRequestError          bad input, refused before sending (or 400/422)
    │   └── UnknownModelError        model id not in the catalogue
    ├── MissingAPIKeyError           no key configured
    ├── APIStatusError               the API answered with an error status
    │   ├── AuthenticationError      401 / 403
    │   ├── InsufficientCreditsError 402
    │   ├── RateLimitError           429
    │   └── ServerError              5xx
    ├── APIConnectionError           could not reach the API
    │   └── APITimeoutError          no answer in time
    ├── UnexpectedResponseError      the API answered something we cannot use
    └── ImageDownloadError           the image could not be fetched safely
"""

from __future__ import annotations

import re


class HeuristError(Exception):
    """Base class of every error heurist_ui raises."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        values: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code  # what happened, for a front end's own words: "empty_prompt"
        self.values = dict(values or {})  # the message's named values, "detail" included

    def __str__(self) -> str:
        return self.message


class InvalidRequestError(HeuristError):
    """The request was refused: fix the named parameter and try again."""


class UnknownModelError(InvalidRequestError):
    """The model id is not in the catalogue."""


class MissingAPIKeyError(HeuristError):
    """No API key is configured."""


class APIStatusError(HeuristError):
    """The API answered with an error status."""


class AuthenticationError(APIStatusError):
    """The API key was rejected (401/403)."""


class InsufficientCreditsError(APIStatusError):
    """The account has no credits left (402)."""


class RateLimitError(APIStatusError):
    """Too many requests (429)."""


class ServerError(APIStatusError):
    """The API failed on its side (5xx)."""


class APIConnectionError(HeuristError):
    """The API could not be reached."""


class APITimeoutError(APIConnectionError):
    """The API did not answer in time."""


class UnexpectedResponseError(HeuristError):
    """The API answered something that is not an image URL."""


class ImageDownloadError(HeuristError):
    """The generated image could not be fetched, or was refused as unsafe."""


SHORT_PIECE = 6  # characters: a shorter part of a key is masked only as a whole word


def redact(text: str, secret: str | None) -> str:
    """Return text with every occurrence of secret (and its parts around '#') masked.

    A part of any length is masked (a user id of 3 characters is still the key's owner), but
    one shorter than SHORT_PIECE only where it stands alone, so that a user id "5" leaves
    "(500)" readable.
    """
    if not secret:
        return text
    pieces = {secret, *(part for part in secret.split("#") if part.strip())}
    for piece in sorted(pieces, key=len, reverse=True):
        if len(piece) >= SHORT_PIECE:
            text = text.replace(piece, "[redacted]")
        else:
            alone = rf"(?<![^\W_]){re.escape(piece)}(?![^\W_])"
            text = re.sub(alone, "[redacted]", text, flags=re.IGNORECASE)
    return text


def error_from_status(status: int, body: str = "", *, api_key: str | None = None) -> HeuristError:
    """Map an HTTP error status from the API to the matching HeuristError."""
    detail = " ".join(redact(body, api_key).split())[:200]
    suffix = f" The API said: {detail}" if detail else ""
    said = {"status": status, "detail": detail}
    if status in (401, 403):
        return AuthenticationError(
            f"The API key was rejected ({status}). Check HEURIST_API_KEY or paste a valid key "
            f"(format user_id#api_key) in the API key field.{suffix}",
            status_code=status,
            code="rejected_key",
            values=said,
        )
    if status == 402:
        return InsufficientCreditsError(
            f"The account has no credits left ({status}). Top up your Heurist credits or use "
            f"another key, then try again.{suffix}",
            status_code=status,
            code="no_credits",
            values=said,
        )
    if status == 429:
        return RateLimitError(
            f"Heurist is rate limiting this key ({status}). Wait a minute, or generate fewer "
            f"images at once, then try again.{suffix}",
            status_code=status,
            code="rate_limited",
            values=said,
        )
    if status in (400, 404, 405, 413, 422):
        return InvalidRequestError(
            f"The API refused the request ({status}). Check the model, size and steps, then try "
            f"again.{suffix}",
            status_code=status,
            code="refused",
            values=said,
        )
    if status >= 500:
        return ServerError(
            f"Heurist failed on its side ({status}). Try again in a moment; if it keeps "
            f"happening, try another model.{suffix}",
            status_code=status,
            code="server_failed",
            values=said,
        )
    return APIStatusError(
        f"The API answered with an unexpected status ({status}). Try again later.{suffix}",
        status_code=status,
        code="unexpected_status",
        values=said,
    )
