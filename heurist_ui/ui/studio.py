"""What every panel of the studio shares: the client, its live catalogue and the job runner."""

from __future__ import annotations

import functools
import inspect
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch import MAX_IMAGES, JobRunner
from ..catalog import CatalogStore, ModelCatalog
from ..client import HeuristClient
from ..enhance import PromptEnhancer
from ..errors import HeuristError
from ..plan import Plan
from ..ratelimit import RateLimit
from .errors import user_error
from .messages import error_text, language_of, rate_limit_text, title

# Jobs block on the network, one thread each. Uncapped, this many may wait at once: a thousand
# one-image callers, or a hundred and twenty-eight full batches.
UNCAPPED_JOB_WORKERS = 1024


def job_workers(concurrency: int | None) -> int:
    """Threads for jobs: every batch at full width when generations are capped."""
    return UNCAPPED_JOB_WORKERS if concurrency is None else concurrency * MAX_IMAGES


@dataclass(frozen=True)
class Studio:
    """The services behind the page; panels take what they need from it."""

    client: HeuristClient
    runner: JobRunner
    enhancer: PromptEnhancer
    sandbox: bool = False
    concurrency: int | None = None  # generations at once; None: no cap
    rate_limit: RateLimit | None = None  # jobs a minute per visitor on the server's key

    @classmethod
    def create(
        cls,
        client: HeuristClient,
        *,
        output_dir: Path | None = None,
        sandbox: bool = False,
        concurrency: int | None = None,
    ) -> Studio:
        """A studio over client, starting from the local model list (no network)."""
        client.catalogs.start_offline()
        runner = JobRunner(
            client,
            Path(output_dir or client.settings.output_dir),
            max_workers=job_workers(concurrency),
            max_bytes=client.settings.output_max_bytes,
            grace=client.settings.output_grace_min * 60,
        )
        enhancer = PromptEnhancer(client.settings)
        per_minute = client.settings.rate_limit
        return cls(
            client,
            runner,
            enhancer,
            sandbox=sandbox,
            concurrency=concurrency,
            rate_limit=RateLimit(per_minute) if per_minute else None,
        )

    @property
    def catalogs(self) -> CatalogStore:
        return self.client.catalogs

    @property
    def catalog(self) -> ModelCatalog:
        return self.client.catalogs.current

    def close(self) -> None:
        self.runner.close()
        self.enhancer.close()
        self.client.close()

    def admit(self, plan: Plan, key: str | None, request: Any = None) -> None:
        """Raise a gr.Error, before anything is sent, if the plan may not run now (in the
        visitor's language: messages.language_of(request)).

        Checked against the plan itself: the bytes it would store against the cap, and its
        jobs (an enhancement: one) against the visitor's rate limit on the server's key.
        Visitors with their own key (key not None) pay for their own images: no limit.
        """
        language = language_of(request)
        try:
            self.runner.retention.check_room(plan.output_bytes)
        except HeuristError as error:
            heading = title(language, "too_large")
            raise user_error(error_text(error, language), title=heading) from None
        if key is not None or self.rate_limit is None:
            return
        wait = self.rate_limit.take(visitor(request), plan.charge)
        if wait:
            heading = title(language, "too_large" if math.isinf(wait) else "slow_down")
            message = rate_limit_text(language, self.rate_limit.per_minute, wait, plan.charge)
            raise user_error(message, title=heading)


def visitor(request: Any) -> tuple[str, ...]:
    """Who is calling: their address and their session, as rate-limit bucket names.

    On a Hugging Face Space every connection comes from its proxy, which appends the address
    it saw to X-Forwarded-For: the last value is the visitor's, and earlier ones are whatever
    the client sent (anyone can forge them). Elsewhere the connection's own address is the
    visitor's and the header is ignored. A page's session is Gradio's session hash; an MCP
    agent's is its Mcp-Session-Id header when its client sends one.
    """
    if request is None:
        return ()
    headers = getattr(request, "headers", None) or {}
    address = ""
    if os.environ.get("SPACE_ID"):
        address = (headers.get("x-forwarded-for") or "").split(",")[-1].strip()
    client = getattr(request, "client", None)
    if not address and client is not None:
        address = getattr(client, "host", "") or ""
    names = [f"address:{address}"] if address else []
    session = getattr(request, "session_hash", None) or headers.get("mcp-session-id")
    if session:
        names.append(f"session:{str(session)[:64]}")
    return tuple(names)


def bind(fn: Callable[..., Any], studio: Studio) -> Callable[..., Any]:
    """fn with studio as its first argument, as a function Gradio can read.

    A functools.partial hides fn's type hints, which Gradio reads to pass gr.Request and
    gr.Progress; this keeps them, and the signature without `studio`.
    """
    if inspect.isasyncgenfunction(fn):

        async def bound(*args: Any, **kwargs: Any) -> Any:
            async for item in fn(studio, *args, **kwargs):
                yield item

    else:

        def bound(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            return fn(studio, *args, **kwargs)

    functools.update_wrapper(bound, fn)
    # Gradio names endpoints and tools after functions: keep clear of the MCP tools' names.
    bound.__name__ = bound.__qualname__ = f"{fn.__name__}_with_studio"
    signature = inspect.signature(fn)
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]
    )
    return bound
