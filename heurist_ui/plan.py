"""One plan for every request: the exact jobs, what they cost, what they would store.

Every entry point (the page's Generate, Compare, Video and FLUX LoRA tabs, /generate, /compare,
/enhance_prompt, the MCP tools, the command line) turns its request into a Plan before
anything is sent. What follows reads the plan and nothing else: the cost line and
estimate_cost show its price, the rate limit charges its jobs, the storage cap checks its
bytes, the runner runs its jobs. So a price shown is the price of what runs, and a limit is
checked against what runs.

Planning is bounded by construction: lengths are checked before anything is parsed, {a|b}
groups are counted with an early exit at MAX_JOBS, and nothing is expanded past it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .catalog import ModelCatalog
from .compare import GridPlan, plan_grid
from .cost import Price, estimate_credits, estimate_price
from .enhance import EnhanceRequest, check_request
from .errors import InvalidRequestError
from .fields import MAX_IMAGES
from .flux_lora import GENERATOR_NAMES
from .generator_models import STRENGTH, lora_kind, with_loras
from .jobkinds import WorkflowJob, WorkflowKind
from .params import (
    MAX_SEED,
    GenerationParams,
    check_count,
    check_length,
    check_seed,
    prepare,
    resolve_seed,
)
from .prompt_help import NO_STYLE, apply_style
from .variations import MAX_JOBS, Variation, describe, plan_variations, with_templates

# What one image weighs on disk, per pixel, for the storage cap's check before a request: a
# photo-like PNG answer at 1024x1024 weighs about 1.5 MB (JPEG and WebP answers far less).
BYTES_PER_PIXEL = 1.5
VIDEO_BYTES = 16 * 1024 * 1024  # a few seconds of H.264 or animated WebP, generously

__all__ = [
    "MAX_IMAGES",
    "MAX_JOBS",
    "Plan",
    "check_count",
    "plan_enhance",
    "plan_grid_request",
    "plan_images",
    "plan_workflow",
]


@dataclass(frozen=True)
class Plan:
    """A request before anything is sent: its jobs, in order, and what it will charge."""

    kind: str  # "images", "grid", "enhance" or "workflow"
    jobs: tuple[Any, ...]  # GenerationParams, or a jobkinds.WorkflowJob
    summary: str  # in the user's words: "3 variations × 2 images = 6 images", "16 cells"
    grid: GridPlan | None = None
    enhance: EnhanceRequest | None = None
    units: int = -1  # rate-limit units; -1: one per job

    @property
    def charge(self) -> int:
        """What the rate limit takes: a job is a job, whichever way it was made."""
        return len(self.jobs) if self.units < 0 else self.units

    @property
    def credits(self) -> float:
        """Every job's estimate in the seed document's standard unit (a workflow job: its
        credits-page price, the only one published; 0 where none is)."""
        return sum(
            estimate_credits(p.model_type, p.width, p.height, p.num_iterations)
            if isinstance(p, GenerationParams)
            else p.credits or 0.0
            for p in self.jobs
        )

    @property
    def price(self) -> Price:
        """Every job at Heurist's current credits-page prices."""
        return Price(
            sum(
                estimate_price(p.model_type, p.width, p.height, p.num_iterations).credits
                if isinstance(p, GenerationParams)
                else p.credits or 0.0
                for p in self.jobs
            )
        )

    @property
    def output_bytes(self) -> int:
        """About what the request will store: its files, and a grid's ZIP of them again."""
        stored = sum(_bytes(job) for job in self.jobs)
        return stored * 2 if self.grid is not None else stored


def _bytes(job: Any) -> int:
    if isinstance(job, GenerationParams):
        return int(job.width * job.height * BYTES_PER_PIXEL)
    if job.kind.extension in ("mp4", "webp"):  # videos
        return VIDEO_BYTES
    width, height = job.values.get("width") or 1024, job.values.get("height") or 1024
    return int(width * height * BYTES_PER_PIXEL)


def plan_images(
    catalog: ModelCatalog,
    count: Any,
    prompt: Any,
    model_id: Any,
    *,
    style: Any = None,
    notes: dict[str, str] | None = None,
    **settings: Any,
) -> Plan:
    """A generator request: every job after style, {a|b} variations and count, validated.

    Raises InvalidRequestError, saying what to fix, before anything is sent. A fixed seed s
    gives s, s+1, ... (as A1111 does) for each variation, so they compare like with like; -1
    gives each image a random seed. settings are the other fields.SETTINGS by name, and
    strength_model for a FLUX LoRA (`flux-lora:<lora>`, run as workflow tasks; negative prompt
    and guidance are not sent to it, the miner takes none).
    """
    count = check_count(count)
    neg_prompt = settings.pop("neg_prompt", "")
    strength = settings.pop(STRENGTH.name, None)
    kind = lora_kind(model_id)
    if kind is not None:
        neg_prompt = ""
    if style and style != NO_STYLE:
        prompt, neg_prompt = _styled(catalog, style, prompt, neg_prompt, model_id)
        notes = {**(notes or {}), "style": str(style)}
    if isinstance(prompt, str) and isinstance(neg_prompt, str):
        variations = plan_variations(prompt, neg_prompt, count)
    else:  # not text: validation says so below
        variations = [Variation(prompt, neg_prompt)]
    jobs: list[Any] = []
    for variation in variations:
        if kind is not None:
            batch = _lora_seeded(kind, count, variation.prompt, strength, settings)
        else:
            batch = _seeded(
                catalog, count, variation.prompt, model_id, variation.neg_prompt, settings
            )
        jobs += [with_templates(job, prompt, neg_prompt) for job in batch]
    if notes:
        jobs = [job.with_notes(**notes) for job in jobs]
    return Plan("images", tuple(jobs), describe(len(variations), count))


def _styled(catalog: ModelCatalog, style: Any, prompt: Any, neg_prompt: Any, model_id: Any):
    model = with_loras(catalog).find(model_id)
    takes_negative = model.takes_negative_prompt if model else True
    check_length(prompt, "prompt")  # before the style's template makes it longer
    check_length(neg_prompt, "negative prompt")
    return apply_style(
        str(style), str(prompt or ""), str(neg_prompt or ""), takes_negative=takes_negative
    )


def _seeded(
    catalog: ModelCatalog,
    count: int,
    prompt: Any,
    model_id: Any,
    neg_prompt: Any,
    settings: dict[str, Any],
) -> list[GenerationParams]:
    first = prepare(catalog, prompt, model_id, neg_prompt=neg_prompt, **settings)
    seed = settings.get("seed")
    fixed_seed = check_seed(-1 if seed is None else seed) >= 0
    if fixed_seed and first.seed + count - 1 > MAX_SEED:
        raise InvalidRequestError(
            f"With {count} images the seed must be at most {MAX_SEED - count + 1} "
            "(each image uses the next seed)."
        )
    return [first] + [
        first.with_seed(first.seed + i if fixed_seed else resolve_seed(-1)) for i in range(1, count)
    ]


def _lora_seeded(
    kind: WorkflowKind, count: int, prompt: Any, strength: Any, settings: dict[str, Any]
) -> list[WorkflowJob]:
    """count FLUX-LoRA jobs of the generator's settings (guidance is not the miner's): a fixed
    seed s gives s, s+1, ...; -1 gives each its own."""
    values = {name: settings.get(alias) for name, alias in GENERATOR_NAMES.items()}
    values[STRENGTH.name] = strength
    first = kind.prepare(prompt, **values)
    seed = values["noise_seed"]
    if seed is None or seed == "" or float(seed) == -1:
        return [first] + [kind.prepare(prompt, **values) for _ in range(1, count)]
    highest = next(int(s.maximum) for s in kind.settings if s.name == "noise_seed")
    if first.values["noise_seed"] + count - 1 > highest:
        raise InvalidRequestError(
            f"With {count} images the seed must be at most {highest - count + 1} "
            "(each image uses the next seed)."
        )
    return [
        replace(first, values={**first.values, "noise_seed": first.values["noise_seed"] + i})
        for i in range(count)
    ]


def plan_grid_request(catalog: ModelCatalog, **request: Any) -> Plan:
    """A compare grid: one job per cell, row-major (compare.plan_grid's arguments)."""
    grid = plan_grid(catalog, **request)
    cells = len(grid.cells)
    return Plan(
        "grid",
        tuple(cell.params for cell in grid.cells),
        f"{cells} cell{'s' if cells != 1 else ''}",
        grid=grid,
    )


def plan_enhance(
    catalog: ModelCatalog,
    description: Any,
    model_id: Any,
    llm_model: Any = None,
    must_include: Any = "",
    **levels: Any,
) -> Plan:
    """An enhancement: no image, but one unit of the rate limit (the LLM is paid for too)."""
    model = with_loras(catalog).get(str(model_id or ""))
    request = check_request(
        description,
        family=model.family,
        llm_model=llm_model or catalog.default_llm(),
        llm_models=list(catalog.llms),
        must_include=must_include,
        **levels,
    )
    return Plan("enhance", (), "an enhancement", enhance=request, units=1)


def plan_workflow(kind: Any, prompt: Any, **values: Any) -> Plan:
    """A workflow task (a video, a FLUX-LoRA image): one job, checked by its kind."""
    job = kind.prepare(prompt, **values)
    return Plan("workflow", (job,), f"1 {kind.label}")
