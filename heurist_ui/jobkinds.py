"""Kinds of job: what a job's kind says about building, sending, waiting, pricing and saving it.

A still image (GenerationParams) is the default kind and runs as it always has (submit_job,
download, PNG). Workflow kinds (video.py, flux_lora.py) declare their settings once, as a table
of Setting rows from which the tab's sliders, the CLI flags, validation and the MCP docs derive,
and run through the workflow API. JobRunner asks kind_of(job) how to run each job.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from .batch import JobRunner, SavedImage
    from .workflow import TaskStatus

MAX_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class Setting:
    """One setting of a kind: its bounds, default, label, help and CLI flag, declared once."""

    name: str  # as sent in task_details.parameters
    label: str
    minimum: float
    maximum: float
    default: float
    step: float = 1
    help: str = ""
    multiple: int = 1  # values must be a multiple of this (64 for FLUX sizes)
    allow_random: bool = False  # -1 means random (seeds)

    @property
    def flag(self) -> str:
        """The command line flag: --name with dashes."""
        return "--" + self.name.replace("_", "-")

    @property
    def is_int(self) -> bool:
        return float(self.step).is_integer()

    def check(self, value: Any) -> int | float:
        """The value, checked against the bounds; InvalidRequestError says what is allowed."""
        if value is None or value == "":
            return self.default
        bounds = f"from {_num(self.minimum)} to {_num(self.maximum)}"
        if self.multiple > 1:
            bounds += f", a multiple of {self.multiple}"
        if self.allow_random:
            bounds += " (or -1 for random)"
        problem = f"{self.label} must be a {'whole ' if self.is_int else ''}number {bounds}."
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidRequestError(problem) from None
        if not math.isfinite(number) or (self.is_int and not number.is_integer()):
            raise InvalidRequestError(problem)
        if self.allow_random and number == -1:
            return -1
        if not self.minimum <= number <= self.maximum:
            raise InvalidRequestError(problem)
        if self.multiple > 1 and number % self.multiple:
            raise InvalidRequestError(f"{problem[:-1]}; the nearest are {self._nearest(number)}.")
        return int(number) if self.is_int else number

    def _nearest(self, number: float) -> str:
        """The valid values either side of number: '960 and 1024'."""
        below = number // self.multiple * self.multiple
        near = [v for v in (below, below + self.multiple) if self.minimum <= v <= self.maximum]
        return " and ".join(_num(v) for v in near)

    def describe(self) -> str:
        """One line for docs: 'length (16-128, default 16): frames ...'."""
        return (
            f"{self.name} ({_num(self.minimum)}-{_num(self.maximum)}, default "
            f"{_num(self.default)}): {self.help}"
        )


def _num(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class WorkflowJob:
    """One workflow task to run: its kind, its prompt, and its checked settings."""

    kind: WorkflowKind
    prompt: str
    values: Mapping[str, Any] = field(default_factory=dict)
    # What the record should also say, never sent (as GenerationParams.notes): the template,
    # the style, the form's image count.
    notes: tuple[tuple[str, str], ...] = ()

    def with_notes(self, **notes: str) -> WorkflowJob:
        return replace(self, notes=(*self.notes, *notes.items()))

    @property
    def credits(self) -> float | None:
        return self.kind.credits(self)

    def parameters(self) -> dict[str, Any]:
        """task_details.parameters as the workflow takes them."""
        return {"prompt": self.prompt, **self.kind.extra, **dict(self.values)}

    def record(self) -> dict[str, Any]:
        """The job's part of its record: kind, model, prompt, settings, estimated credits."""
        return {
            "kind": self.kind.name,
            "model_id": self.kind.label,
            "workflow_id": self.kind.workflow_id,
            "prompt": self.prompt,
            **dict(self.values),
            **{alias: self.values[name] for name, alias in self.kind.record_names.items()},
            "credits": self.credits,
            **dict(self.notes),
        }


@dataclass(frozen=True)
class WorkflowKind:
    """A kind of workflow task: where it goes, what it takes, what it costs, how it is saved."""

    name: str  # a short id: "hunyuan", "mochi", "flux-lora:heuristlogo"
    label: str  # for people: "Hunyuan video"
    workflow_id: str
    task_type: str
    extension: str  # of the output: mp4, webp, jpg
    settings: Sequence[Setting] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # fixed parameters (lora_name)
    price: Callable[[WorkflowJob], float | None] = lambda job: None
    price_note: str = ""  # where the price comes from, or that none is published
    verify: Callable[[bytes, str], None] | None = None  # checks downloaded bytes
    save: Callable[[bytes, dict[str, Any], Path], Path] | None = None
    check: Callable[[dict[str, Any]], None] | None = None  # checks across settings
    # Settings the record also gives under the generator's names (steps -> num_iterations),
    # so captions, infotext and restores read it as they read an image's.
    record_names: Mapping[str, str] = field(default_factory=dict)

    def prepare(self, prompt: Any, **values: Any) -> WorkflowJob:
        """A checked job; raises InvalidRequestError before anything is sent."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise InvalidRequestError("The prompt is empty. Describe what you want to see.")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise InvalidRequestError(
                f"The prompt is {len(prompt)} characters long; keep it under {MAX_PROMPT_CHARS}."
            )
        unknown = set(values) - {setting.name for setting in self.settings}
        unknown = {name for name in unknown if values[name] is not None}
        if unknown:
            takes = ", ".join(s.name for s in self.settings) or "only a prompt"
            raise InvalidRequestError(
                f"{self.label} takes no {', '.join(sorted(unknown))}; it takes {takes}."
            )
        checked = {s.name: s.check(values.get(s.name)) for s in self.settings}
        for setting in self.settings:  # a concrete seed, so the record can reproduce the job
            if setting.allow_random and checked[setting.name] == -1:
                checked[setting.name] = secrets.randbelow(int(setting.maximum) + 1)
        if self.check is not None:
            self.check(checked)
        return WorkflowJob(self, prompt.strip(), checked)

    def credits(self, job: WorkflowJob) -> float | None:
        """Estimated credits for the job, or None where Heurist publishes no price."""
        return self.price(job)

    def docs(self) -> str:
        """The kind's settings as text, for tool docs and help."""
        lines = [f"- {setting.describe()}" for setting in self.settings]
        return "\n".join(lines) or "- (prompt only)"

    def run(
        self,
        job: WorkflowJob,
        api_key: str | None,
        runner: JobRunner,
        on_status: Callable[[TaskStatus], None] | None,
        cancel: threading.Event | None,
    ) -> SavedImage:
        """Create the task, wait for it, fetch and save its output with its record."""
        from .batch import SavedImage

        result = runner.workflow.run(
            self.task_type,
            self.workflow_id,
            job.parameters(),
            api_key,
            on_status=on_status,
            cancel=cancel,
        )
        data = runner.download(result.url, self.verify)
        record = {
            "job_id": result.job_id,
            "task_id": result.task_id,
            **job.record(),
            "elapsed_s": result.elapsed_s,
            "created_at": _now(),
        }
        if self.save is None:
            raise InvalidRequestError(f"{self.label} cannot be saved.")
        path = self.save(data, record, runner.output_dir)
        runner.retention.add(path)
        return SavedImage(path, record)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class StillImageKind:
    """The default kind: a GenerationParams job, sent to submit_job and saved as a PNG."""

    name = "image"

    def run(
        self,
        job: Any,
        api_key: str | None,
        runner: JobRunner,
        on_status: Callable[[TaskStatus], None] | None,
        cancel: threading.Event | None,
    ) -> SavedImage:
        """One image job: submit, download, save (it cannot be canceled once sent)."""
        return runner.make_image(job, api_key)


STILL_IMAGE = StillImageKind()


def kind_of(job: Any) -> WorkflowKind | StillImageKind:
    """How a job runs: its workflow kind, or the still image's."""
    kind = getattr(job, "kind", None)
    return kind if isinstance(kind, WorkflowKind) else STILL_IMAGE
