"""The generator's models: Heurist's catalogue, then the workflow's FLUX LoRAs as models.

A FLUX LoRA of the workflow API (flux_lora.py) is offered in the generator's model list as
`flux-lora:<lora>`, labelled as its kind is ("FLUX LoRA · heuristlogo"), with defaults,
bounds and size step taken from its settings table; plan.plan_images turns it into
WorkflowJobs. Every other user of the catalogue (Compare, list_models) sees Heurist's list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from .catalog import ModelCatalog, ModelDefaults, ModelInfo
from .fields import MIN_SIZE, SIZE_STEP
from .flux_lora import FLUX_LORA_KINDS, FLUX_LORA_SETTINGS, GENERATOR_NAMES
from .jobkinds import Setting, WorkflowJob, WorkflowKind

LORA_MODEL_TYPE = "flux-lora-workflow"  # a FLUX LoRA to model_types.find_model_type
_BY_NAME = {setting.name: setting for setting in FLUX_LORA_SETTINGS}
STRENGTH: Setting = _BY_NAME["strength_model"]  # the one setting the generator adds for LoRAs


@dataclass(frozen=True)
class LoraModel(ModelInfo):
    """A workflow FLUX LoRA as a generator model: its kind gives its label and settings."""

    workflow: WorkflowKind | None = None

    @property
    def label(self) -> str:
        return self.workflow.label if self.workflow else self.name


def _lora_model(kind: WorkflowKind) -> LoraModel:
    width, height = _BY_NAME["width"], _BY_NAME["height"]
    defaults = ModelDefaults(
        width=int(width.default),
        height=int(height.default),
        max_width=int(width.maximum),
        max_height=int(height.maximum),
        neg_prompt=None,  # the miner takes none
        num_iterations=int(_BY_NAME["steps"].default),
    )
    return LoraModel(kind.name, LORA_MODEL_TYPE, defaults, base="FLUX.1-dev", workflow=kind)


LORA_MODELS: tuple[LoraModel, ...] = tuple(_lora_model(k) for k in FLUX_LORA_KINDS.values())
_BY_MODEL_ID = {model.name: model for model in LORA_MODELS} | {
    model.label: model for model in LORA_MODELS
}


def lora_model(model_id: Any) -> LoraModel | None:
    """The FLUX LoRA a model id names (`flux-lora:<lora>`, or its label), or None."""
    return _BY_MODEL_ID.get(model_id) if isinstance(model_id, str) else None


def lora_kind(model_id: Any) -> WorkflowKind | None:
    """The workflow kind a generator model id names, or None for Heurist's own models."""
    model = lora_model(model_id)
    return model.workflow if model else None


@lru_cache(maxsize=4)
def with_loras(catalog: ModelCatalog) -> ModelCatalog:
    """The generator's catalogue: the catalogue's models, then the FLUX LoRAs."""
    return replace(catalog, models=(*catalog.models, *LORA_MODELS))


def size_rule(model: Any) -> tuple[int, int]:
    """(smallest size, step) of a model's width and height: 512 and 64 for a FLUX LoRA."""
    if isinstance(model, LoraModel):
        return int(_BY_NAME["width"].minimum), _BY_NAME["width"].multiple
    return MIN_SIZE, SIZE_STEP


def generator_values(record: Any) -> dict[str, Any]:
    """A FLUX-LoRA record's settings under the generator's names (model_id the kind's name,
    seed, steps as num_iterations, strength_model); {} for any other record."""
    if not isinstance(record, dict):
        return {}
    model = lora_model(record.get("kind")) or lora_model(record.get("model_id"))
    if model is None:
        return {}
    values = {alias: record.get(name) for name, alias in GENERATOR_NAMES.items()}
    values = {name: value for name, value in values.items() if value is not None}
    if record.get(STRENGTH.name) is not None:
        values[STRENGTH.name] = record[STRENGTH.name]
    return {**values, "model_id": model.name}


def job_settings(job: Any) -> dict[str, Any]:
    """A planned job's size and steps under the generator's names, whatever its kind."""
    if isinstance(job, WorkflowJob):
        return {alias: job.values.get(name) for name, alias in GENERATOR_NAMES.items()}
    return {name: getattr(job, name) for name in ("width", "height", "num_iterations", "seed")}
