"""heurist_ui: a studio for Heurist's image-generation API."""

from .catalog import ModelCatalog, ModelInfo, load_catalog, offline_catalog
from .client import GenerationResult, HeuristClient
from .config import Settings, load_settings
from .cost import estimate_credits
from .errors import HeuristError
from .params import GenerationParams

__all__ = [
    "GenerationParams",
    "GenerationResult",
    "HeuristClient",
    "HeuristError",
    "ModelCatalog",
    "ModelInfo",
    "Settings",
    "estimate_credits",
    "load_catalog",
    "load_settings",
    "offline_catalog",
]
