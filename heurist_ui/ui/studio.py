"""What every panel of the studio shares: the client, its live catalogue and the job runner."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..batch import MAX_IMAGES, JobRunner
from ..catalog import CatalogStore, ModelCatalog
from ..client import HeuristClient
from ..enhance import PromptEnhancer
from ..ratelimit import RateLimit
from .errors import user_error

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
    rate_limit: RateLimit | None = None  # images a minute per visitor on the server's key

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

    def check_rate(self, key: str | None, request: gr.Request | None, images: int) -> None:
        """Raise a "slow down" error if this visitor is past the limit on the server's key.

        Visitors with their own key (key not None) pay for their own images: no limit.
        """
        if key is not None or self.rate_limit is None:
            return
        wait = self.rate_limit.take(visitor(request), images)
        if wait:
            raise user_error(self.rate_limit.message(wait), title="Slow down")


def visitor(request: gr.Request | None) -> tuple[str, ...]:
    """Who is calling: their address and their session, as rate-limit bucket names.

    On a Hugging Face Space every connection comes from its proxy, which puts the visitor's
    address first in X-Forwarded-For; elsewhere the connection's own address is the visitor's.
    """
    if request is None:
        return ()
    address = ""
    if os.environ.get("SPACE_ID"):
        address = (request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
    if not address and request.client is not None:
        address = request.client.host or ""
    names = [f"address:{address}"] if address else []
    if request.session_hash:
        names.append(f"session:{request.session_hash}")
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
