"""What every panel of the studio shares: the client, its live catalogue and the job runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..batch import MAX_IMAGES, JobRunner
from ..catalog import CatalogStore, ModelCatalog
from ..client import HeuristClient
from ..enhance import PromptEnhancer

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
        return cls(client, runner, enhancer, sandbox=sandbox, concurrency=concurrency)

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
