"""A folder that a node writes into with a tool of its own (Lightning's checkpoints and logs)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError


class FolderBase(AbstractDataset):
    """A catalog entry that is a folder: its path, whether it exists, how viz shows it."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            path: The folder.
            metadata: Free-form metadata (kedro-viz).
        """
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def _exists(self) -> bool:
        return Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}


class FolderDataset(FolderBase):
    """A folder for files a library writes itself, with a place in the catalog.

    ``load`` gives the folder's path (created if missing); the node passes it to
    the library (e.g. Lightning's checkpoints, logs and run stamps under
    ``<folder>/<model>/seed_<seed>/``, which make an interrupted training resume).
    Nothing is saved through it. Example::

        lightning_runs:
          type: cocoa_threat.datasets.FolderDataset
          path: data/06_models/lightning
    """

    def load(self) -> Path:
        """The folder (created if missing)."""
        folder = Path(self._path)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def save(self, data: None) -> None:
        """Refused: the library writes into the folder itself."""
        raise DatasetError(f"{self._path} is a folder that nodes write into, not a dataset to save")
