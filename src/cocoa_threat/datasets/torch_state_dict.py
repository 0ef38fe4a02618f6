"""A versioned Kedro dataset for PyTorch state_dicts (loaded with ``weights_only=True``)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import torch
from kedro.io import AbstractVersionedDataset, DatasetError, Version


class TorchStateDictDataset(AbstractVersionedDataset[dict, dict]):
    """Save a model's ``state_dict`` with ``torch.save``; load it safely.

    Loading uses ``torch.load(..., weights_only=True, map_location="cpu")``, so a
    weights file can't run code. Example::

        resnet50.weights:
          type: cocoa_threat.datasets.TorchStateDictDataset
          filepath: data/06_models/resnet50/weights.pt
          versioned: true
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Where the ``.pt`` file goes.
            version: Kedro version (set by the catalog when ``versioned: true``).
            metadata: Free-form metadata (ignored by Kedro).
        """
        super().__init__(
            filepath=PurePosixPath(filepath), version=version, exists_function=self._file_exists
        )
        self.metadata = metadata

    @staticmethod
    def _file_exists(path: str) -> bool:
        return Path(path).is_file()

    def load(self) -> dict:
        """Load the state_dict onto the CPU."""
        path = self._get_load_path()
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise DatasetError(f"Could not load weights from {path}: {exc}") from exc

    def save(self, data: dict) -> None:
        """Save the state_dict."""
        if not isinstance(data, dict):
            raise DatasetError(f"Expected a state_dict (dict), got {type(data).__name__}")
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".partial")
        torch.save(data, tmp)
        tmp.replace(path)

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:
            return False
        return Path(path).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}
