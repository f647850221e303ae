"""What every panel of the studio shares: the client, its live catalogue and the job runner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..batch import MAX_IMAGES, JobRunner
from ..catalog import CatalogStore, ModelCatalog
from ..client import HeuristClient

DEFAULT_CONCURRENCY = 32  # users whose batches run at once: the work is remote I/O


@dataclass(frozen=True)
class Studio:
    """The services behind the page; panels take what they need from it."""

    client: HeuristClient
    runner: JobRunner
    sandbox: bool = False
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def create(
        cls,
        client: HeuristClient,
        *,
        output_dir: Path | None = None,
        sandbox: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> Studio:
        """A studio over client, starting from the local model list (no network)."""
        client.catalogs.start_offline()
        runner = JobRunner(
            client,
            Path(output_dir or client.settings.output_dir),
            max_workers=concurrency * MAX_IMAGES,  # every running batch at full width
        )
        return cls(client=client, runner=runner, sandbox=sandbox, concurrency=concurrency)

    @property
    def catalogs(self) -> CatalogStore:
        return self.client.catalogs

    @property
    def catalog(self) -> ModelCatalog:
        return self.client.catalogs.current

    def close(self) -> None:
        self.runner.close()
        self.client.close()
