"""A read-only Kedro dataset over every trained model (for choosing one at inference)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A trained model found on disk (weights are loaded only on demand)."""

    name: str
    version: str
    weights_path: Path
    build_config: dict[str, Any]
    metrics: dict[str, Any] | None

    @property
    def validation_miou(self) -> float | None:
        """Best validation mIoU recorded by the training pipeline."""
        if not self.metrics:
            return None
        return (self.metrics.get("validation") or {}).get("miou")

    def load_weights(self) -> Any:
        """The state_dict (safely, ``weights_only=True``) or the fitted forest."""
        if self.weights_path.suffix == ".pt":
            import torch

            return torch.load(self.weights_path, map_location="cpu", weights_only=True)
        import joblib

        return joblib.load(self.weights_path)


def _latest(folder: Path) -> Path | None:
    versions = sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    for version in reversed(versions):
        files = [f for f in version.iterdir() if f.is_file()]
        if files:
            return files[0]
    return None


class TrainedModelsDataset(AbstractDataset[None, dict[str, TrainedModel]]):
    """Every model the training pipeline saved, by name, at its latest version.

    Reads ``<models_dir>/<model>/weights.*/<version>/`` and
    ``<models_dir>/<model>/build_config.json/<version>/`` (Kedro's versioned
    layout) and ``<metrics_dir>/<model>.json``.
    """

    def __init__(
        self, models_dir: str, metrics_dir: str, metadata: dict[str, Any] | None = None
    ) -> None:
        """Create the dataset.

        Args:
            models_dir: Folder of the trained models (one sub-folder each).
            metrics_dir: Folder of the ``<model>.json`` metrics.
            metadata: Free-form metadata (ignored by Kedro).
        """
        self._models_dir = PurePosixPath(models_dir)
        self._metrics_dir = PurePosixPath(metrics_dir)
        self.metadata = metadata

    def load(self) -> dict[str, TrainedModel]:
        """Find the trained models (an empty dict if there are none)."""
        found: dict[str, TrainedModel] = {}
        root = Path(self._models_dir)
        for folder in sorted(root.iterdir()) if root.is_dir() else []:
            weights_dirs = sorted(folder.glob("weights.*"))
            build = _latest(folder / "build_config.json")
            weights = _latest(weights_dirs[0]) if weights_dirs else None
            if weights is None or build is None:
                continue
            if weights.parent.name != build.parent.name:
                logger.warning(
                    "%s: weights (%s) and build config (%s) are from different runs; "
                    "using the latest of each",
                    folder.name,
                    weights.parent.name,
                    build.parent.name,
                )
            metrics_file = Path(self._metrics_dir) / f"{folder.name}.json"
            found[folder.name] = TrainedModel(
                name=folder.name,
                version=weights.parent.name,
                weights_path=weights,
                build_config=json.loads(build.read_text()),
                metrics=json.loads(metrics_file.read_text()) if metrics_file.is_file() else None,
            )
        return found

    def save(self, data: Any) -> None:
        """Read-only: the training pipeline writes the models."""
        raise DatasetError("TrainedModelsDataset is read-only; the training pipeline writes models")

    def _exists(self) -> bool:
        return Path(self._models_dir).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"models_dir": str(self._models_dir), "metrics_dir": str(self._metrics_dir)}
