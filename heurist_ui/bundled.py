"""Data files shipped inside the package (heurist_ui/data/), found with importlib.resources."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_file(name: str) -> Path:
    """The bundled file name: models.json, examples.json, styles.json or image-gone.png.

    The package is installed as plain files (a checkout, pip or pipx), never zipped, so the
    resource is a real path that open() and the sandbox can use.
    """
    resource = files(__package__) / "data" / name
    if not isinstance(resource, Path):
        raise RuntimeError(
            f"heurist_ui's data file {name} is not on disk ({type(resource).__name__}): "
            "install the package as files (pip install .), not as a zip."
        )
    return resource


MODELS_JSON = data_file("models.json")
EXAMPLES_JSON = data_file("examples.json")
STYLES_JSON = data_file("styles.json")
IMAGE_GONE_PNG = data_file("image-gone.png")  # shown in place of an image the cap deleted
