"""A versioned Kedro dataset for a trained model: training writes it, inference reads it."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version

from cocoa_threat.models.base import SegmentationModel
from cocoa_threat.models.factory import load_model

logger = logging.getLogger(__name__)


class TrainedModelDataset(AbstractVersionedDataset[SegmentationModel, SegmentationModel | None]):
    """One trained model, as a versioned folder: ``model.json`` plus its weights.

    ``save`` writes the model into a temporary folder and renames it into the
    version's place, so an interrupted save never leaves a loadable half-model.
    ``load`` reads only the files ``model.json`` lists, after checking their
    SHA-256, with loaders that can't run code; the loaded model knows its
    version, which every result derived from it records. Example::

        "{model}.trained_model":
          type: cocoa_threat.datasets.TrainedModelDataset
          filepath: data/06_models/trained/{model}
          versioned: true
          missing_ok: true    # load gives None for a model not trained yet
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        missing_ok: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: The model's folder (versions go below it).
            version: Kedro version (set by the catalog when ``versioned: true``).
            missing_ok: Load gives None instead of failing when no version exists.
            metadata: Free-form metadata (kedro-viz).
        """
        super().__init__(
            filepath=PurePosixPath(filepath), version=version, exists_function=self._dir_exists
        )
        self._missing_ok = missing_ok
        self.metadata = metadata

    @staticmethod
    def _dir_exists(path: str) -> bool:
        return Path(path).is_dir()

    def load(self) -> SegmentationModel | None:
        """The latest (or the pinned) version of the model."""
        try:
            path = Path(self._get_load_path())
        except DatasetError:
            if self._missing_ok:
                return None
            raise
        if not path.is_dir():
            if self._missing_ok and self._version and self._version.load is None:
                return None
            raise DatasetError(
                f"No trained model at {path}; run `kedro run --pipeline=training` first"
            )
        try:
            model = load_model(path)
        except Exception as exc:
            raise DatasetError(
                f"The model at {path} can't be loaded ({exc}); retrain it with "
                f"`kedro run --pipeline=training --namespaces=training.{path.name}`"
            ) from exc
        model.version = path.parent.name
        return model

    def save(self, data: SegmentationModel) -> None:
        """Write the model atomically under a new version."""
        if not isinstance(data, SegmentationModel):
            raise DatasetError(
                f"TrainedModelDataset {self._filepath} expects a SegmentationModel, got "
                f"{type(data).__name__}"
            )
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.partial"
        data.version = path.parent.name
        try:
            data.save(tmp)
            os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if not any(path.parent.iterdir()):  # a failed save leaves no empty version
                path.parent.rmdir()
        logger.info("Saved model %s version %s", data.name, data.version)

    def _exists(self) -> bool:
        try:
            path = Path(self._get_load_path())
        except DatasetError:
            return False
        return path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}
