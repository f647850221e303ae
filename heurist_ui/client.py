"""The HTTP client for Heurist's image API: submit a job, get the image URL back."""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.request
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlparse

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.util.retry import Retry

from .catalog import CatalogStore, ModelCatalog
from .config import Settings, load_settings
from .cost import estimate_credits
from .deadline import Deadline, DeadlineAdapter
from .download import DOWNLOAD_DEADLINE, download_image
from .errors import (
    APIConnectionError,
    APITimeoutError,
    HeuristError,
    InvalidRequestError,
    MissingAPIKeyError,
    UnexpectedResponseError,
    error_from_status,
    redact,
)
from .params import SETTING_FIELDS, GenerationParams, prepare, resolve_seed

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 90.0)  # connect, read: the job's deadline is 60 s, then slack
DEFAULT_MAX_RETRIES = 3
DEFAULT_BACKOFF_FACTOR = 0.5
DEFAULT_RETRY_AFTER_MAX = 30  # seconds; a longer Retry-After is cut to this
DEFAULT_POOL_SIZE = 64  # connections kept per host: one per job running at once
DEFAULT_DEADLINE = 60  # seconds the network has to finish the job
DEADLINE_SLACK = 1.0  # seconds past the read timeout that a whole answer may take
JOB_ID_PREFIX = "heurist-ui-"
MAX_KEY_CHARS = 256  # a key is user_id#api_key; anything longer is debris (or an attack)
# Safe to retry: the job was refused before it ran. Never a read timeout or a 500: the job may
# have run, and been billed.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class GenerationResult:
    """A finished job: where its image is, and the parameters that made it.

    The parameters' fields read as the result's own: result.seed is result.params.seed.
    """

    url: str
    job_id: str
    params: GenerationParams
    credits: float
    elapsed_s: float
    created_at: str

    def __getattr__(self, name: str) -> Any:
        if name in _PARAM_NAMES:
            return getattr(self.params, name)
        raise AttributeError(name)

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict: the RECORD_KEYS first, then model_type and created_at."""
        return {
            "job_id": self.job_id,
            **self.params.settings(),
            "url": self.url,
            "credits": self.credits,
            "elapsed_s": self.elapsed_s,
            "model_type": self.params.model_type,
            "created_at": self.created_at,
            **dict(self.params.notes),
        }


_PARAM_NAMES = frozenset(f.name for f in fields(GenerationParams))
RECORD_KEYS = ("job_id", *SETTING_FIELDS, "url", "credits", "elapsed_s")


def new_job_id() -> str:
    """A job id unique to one image."""
    return f"{JOB_ID_PREFIX}{uuid.uuid4().hex}"


def build_payload(params: GenerationParams, job_id: str, deadline: int = DEFAULT_DEADLINE) -> dict:
    """The submit_job body, exactly as the sequencer expects it."""
    return {
        "job_id": job_id,
        "model_input": {
            "SD": {
                "prompt": params.prompt,
                "neg_prompt": params.neg_prompt,
                "num_iterations": params.num_iterations,
                "width": params.width,
                "height": params.height,
                "guidance_scale": params.guidance_scale,
                "seed": params.seed,
            }
        },
        "model_type": "SD",
        "model_id": params.model_id,
        "deadline": deadline,
        "priority": 1,
    }


def parse_image_url(body: str) -> str:
    """The image URL from any of the three answer shapes the API is known to give."""
    text = body.strip()
    url: Any = text
    if text[:1] in ('"', "{"):
        try:
            url = json.loads(text)
        except ValueError:
            url = None
        if isinstance(url, dict):
            url = url.get("image_url")
    if not isinstance(url, str):
        url = ""
    url = url.strip()
    if not _is_web_address(url):
        shown = " ".join(text.split())[:80] or "an empty answer"
        raise UnexpectedResponseError(
            f"The API answered something unexpected instead of an image URL ({shown!r}). "
            "Try again; if it keeps happening, the API may have changed."
        )
    return url


def _is_web_address(url: str) -> bool:
    """Whether url is an absolute http(s) address with a readable host and port."""
    try:
        parsed = urlparse(url)
        host, _ = parsed.hostname, parsed.port  # a broken [host] or port raises ValueError
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(host) and not any(c in url for c in " \n")


class _Retry(Retry):
    """urllib3's Retry, except that a malformed Retry-After falls back to the backoff.

    urllib3 raises InvalidHeader on values such as "soon" or "0.2", which would escape as a
    bare exception from the middle of a retry.
    """

    def parse_retry_after(self, retry_after: str) -> float:
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            try:
                seconds = float(retry_after)
            except ValueError:
                return 0.0
            return min(max(seconds, 0.0), self.retry_after_max) if math.isfinite(seconds) else 0.0


def _make_retry(max_retries: int, backoff_factor: float, retry_after_max: float) -> Retry:
    return _Retry(
        total=max_retries,
        connect=max_retries,
        read=False,  # a dropped or slow answer may mean the job ran: never send it again
        status=max_retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        respect_retry_after_header=True,
        retry_after_max=retry_after_max,
        raise_on_status=False,  # the last error answer is mapped to a HeuristError below
    )


class HeuristClient:
    """A thread-safe client for Heurist's image API, one pooled session for many jobs."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        settings: Settings | None = None,
        catalog: ModelCatalog | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_factor: float = DEFAULT_BACKOFF_FACTOR,
        retry_after_max: float = DEFAULT_RETRY_AFTER_MAX,
        pool_size: int = DEFAULT_POOL_SIZE,
        deadline: int = DEFAULT_DEADLINE,
        download_deadline: float = DOWNLOAD_DEADLINE,
    ) -> None:
        """Arguments win over settings; without settings, load_settings() (env, then .env)."""
        if settings is None:
            settings = load_settings(api_key=api_key, base_url=base_url)
        elif api_key or base_url:
            settings = replace(
                settings,
                api_key=api_key or settings.api_key,
                base_url=(base_url or settings.base_url).rstrip("/"),
            )
        self.settings = settings
        self.timeout = timeout
        self.deadline = deadline
        self.download_deadline = download_deadline
        self.catalogs = CatalogStore(settings.models_url, settings.cache_dir, catalog)
        self.session = requests.Session()
        # With no proxy configured, skip what requests does for every call otherwise: scan
        # the environment for proxy settings and look for a ~/.netrc (about 1 ms a call, two
        # calls an image). The key is sent explicitly, so ~/.netrc must never apply anyway.
        if not urllib.request.getproxies():
            self.session.trust_env = False
        adapter = DeadlineAdapter(
            pool_connections=4,
            pool_maxsize=pool_size,
            max_retries=_make_retry(max_retries, backoff_factor, retry_after_max),
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "heurist_ui"
        # One session serves every user of a studio: a cookie set for one must not ride along
        # with another's jobs.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def __repr__(self) -> str:
        return f"HeuristClient(base_url={self.base_url!r}, has_key={self.has_key})"

    def __enter__(self) -> HeuristClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def has_key(self) -> bool:
        return self.settings.has_key

    @property
    def catalog(self) -> ModelCatalog:
        """The model catalogue, fetched on first use (a few seconds at most, then a copy)."""
        return self.catalogs.current

    @catalog.setter
    def catalog(self, catalog: ModelCatalog) -> None:
        self.catalogs.replace(catalog)

    def prepare(self, prompt: Any, model_id: str, **settings: Any) -> GenerationParams:
        """Validated parameters with a concrete seed (params.prepare on this catalogue)."""
        return prepare(self.catalog, prompt, model_id, **settings)

    def generate(
        self, prompt: Any, model_id: str, *, api_key: str | None = None, **settings: Any
    ) -> GenerationResult:
        """Generate one image and return its URL and parameters; raises HeuristError.

        Takes the settings of prepare(); api_key overrides the client's key.
        """
        return self.submit(self.prepare(prompt, model_id, **settings), api_key=api_key)

    def submit(self, params: GenerationParams, *, api_key: str | None = None) -> GenerationResult:
        """Submit validated parameters as one job; api_key overrides the client's key."""
        key = check_key(api_key or self.settings.api_key)
        if params.seed < 0:
            params = params.with_seed(resolve_seed(params.seed))
        job_id = new_job_id()
        host = urlparse(self.base_url).netloc
        log.info(
            "Submitting %s: %s %dx%d, %d steps, seed %d",
            job_id,
            params.model_id,
            params.width,
            params.height,
            params.num_iterations,
            params.seed,
        )
        started = time.monotonic()
        # Past the read timeout, so an answer that never starts still reads as a timeout.
        deadline = Deadline(self.timeout[1] + DEADLINE_SLACK, per_request=True)
        try:
            with deadline:
                response = self.session.post(
                    f"{self.base_url}/submit_job",
                    json=build_payload(params, job_id, self.deadline),
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=self.timeout,
                )
        except requests.exceptions.RequestException as exc:
            raise self._submit_error(exc, host, job_id, deadline) from None
        elapsed = time.monotonic() - started
        if response.status_code >= 400:
            error = error_from_status(response.status_code, response.text, api_key=key)
            log.debug("Job %s failed: %s", job_id, error)  # the batch logs it, once
            raise error
        url = parse_image_url(redact(response.text, key))
        log.info("Job %s done in %.2f s", job_id, elapsed)
        return GenerationResult(
            url=url,
            job_id=job_id,
            params=params,
            credits=estimate_credits(
                params.model_type, params.width, params.height, params.num_iterations
            ),
            elapsed_s=round(elapsed, 3),
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )

    def _submit_error(
        self, exc: requests.RequestException, host: str, job_id: str, deadline: Deadline
    ) -> HeuristError:
        """What to tell the user when POST /submit_job did not get a whole answer."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return APITimeoutError(
                f"Could not connect to Heurist at {host} within {self.timeout[0]:g} s. "
                "Check your internet connection and HEURIST_BASE_URL, then try again.",
                code="connect_timeout",
                values={"host": host, "seconds": self.timeout[0]},
            )
        if deadline.expired:
            log.debug("Job %s: no whole answer within %g s", job_id, deadline.seconds)
            return APITimeoutError(
                f"Heurist did not finish answering within {deadline.seconds:g} s, so the call "
                "was stopped. The job may still have run (and been billed), so it was not sent "
                "again. Check your Heurist account's usage before trying again.",
                code="deadline",
                values={"seconds": deadline.seconds},
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return APITimeoutError(
                f"Heurist did not answer within {self.timeout[1]:g} s. The job may still have "
                "run (and been billed), so it was not sent again. Try again later.",
                code="read_timeout",
                values={"seconds": self.timeout[1]},
            )
        if isinstance(
            exc,
            (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError),
        ):
            return APIConnectionError(
                f"Heurist at {host} dropped the connection before finishing its answer. The job "
                "may still have run (and been billed), so it was not sent again. Try again.",
                code="dropped",
                values={"host": host},
            )
        if _broke_after_sending(exc):
            log.debug("Job %s: the connection broke after it was sent", job_id)
            return APIConnectionError(
                f"The connection to Heurist at {host} broke after the job was sent, so it "
                "may have run (and been billed); it was not sent again. Check your Heurist "
                "account's usage before trying again.",
                code="broke_after_sending",
                values={"host": host},
            )
        reason = "the connection was refused" if _refused(exc) else "the connection failed"
        return APIConnectionError(
            f"Could not reach Heurist at {host}: {reason}. Check your internet connection "
            "and HEURIST_BASE_URL, then try again.",
            code="refused_connection" if _refused(exc) else "connection_failed",
            values={"host": host},
        )

    def download(self, url: str) -> bytes:
        """The image bytes at url, fetched with the safety checks of download.download_image."""
        base_host = urlparse(self.base_url).hostname
        return download_image(
            self.session,
            url,
            allowed_hosts={base_host} - {None},
            deadline=self.download_deadline,
        )


def check_key(key: str | None) -> str:
    """The key, if it can be one; a clear error for none, or for copy-and-paste debris."""
    if not key:
        raise MissingAPIKeyError(
            "No Heurist API key is set. Put HEURIST_API_KEY=<user_id>#<key> in the "
            "environment or a .env file, or paste your key in the API key field."
        )
    if len(key) > MAX_KEY_CHARS:
        raise InvalidRequestError(
            f"That is not a Heurist API key: it is {len(key)} characters long (keys are "
            f"user_id#api_key, well under {MAX_KEY_CHARS}). Paste the key again."
        )
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise InvalidRequestError(
            "The API key contains characters a Heurist key cannot have (spaces, line breaks, "
            "curly quotes or invisible characters picked up when copying). Paste it again as "
            "user_id#api_key."
        )
    return key


def _broke_after_sending(exc: BaseException) -> bool:
    """True when the request went out and the connection broke while waiting for the answer.

    urllib3 reports that as a ProtocolError ("Connection aborted.": the server closed or reset
    the connection after the request was written); a failure to connect never gets that far.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NewConnectionError, ConnectTimeoutError, NameResolutionError)):
            return False
        if isinstance(current, ProtocolError):
            return True
        pending += [
            *(a for a in current.args if isinstance(a, BaseException)),
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
        ]
    return False


def _refused(exc: BaseException) -> bool:
    text = repr(exc)
    return "Connection refused" in text or "NewConnectionError" in text
