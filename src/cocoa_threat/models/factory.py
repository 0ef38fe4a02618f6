"""The one place that chooses a model class: from a parameter block, or from a saved model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cocoa_threat.models.base import FitReport, SegmentationModel, manifest_json, read_manifest
from cocoa_threat.models.data import TrainingData
from cocoa_threat.params.training import DeepModelParams, RandomForestParams

logger = logging.getLogger(__name__)


def model_class(kind: str) -> type[SegmentationModel]:
    """The class of a model kind (``terratorch`` or ``random_forest``)."""
    if kind == "terratorch":
        from cocoa_threat.models.terratorch_model import TerraTorchSegmenter

        return TerraTorchSegmenter
    if kind == "random_forest":
        from cocoa_threat.models.forest import ForestSegmenter

        return ForestSegmenter
    raise ValueError(f"Unknown model kind {kind!r}: expected terratorch or random_forest")


def train_model(
    name: str,
    spec: DeepModelParams | RandomForestParams,
    data: TrainingData,
    seed: int,
    run_dir: Path,
) -> tuple[SegmentationModel, FitReport]:
    """Train the model a parameter block describes, with one seed."""
    return model_class(spec.kind).train(name, spec, data, seed, run_dir)


def load_model(folder: Path) -> SegmentationModel:
    """Load a saved model: manifest first, file hashes checked, then the weights (safely).

    Raises:
        ValueError: If the folder holds no model of this project, or a file changed.
    """
    cls = model_class(manifest_json(folder).get("kind", ""))
    manifest: dict[str, Any] = read_manifest(folder, cls.weight_files)
    model = cls.load_weights(manifest["name"], manifest["build_config"], folder)
    model.version = manifest.get("version")
    model.training = manifest.get("training", {})
    return model
