"""A folder of PNG images written in one go (many small images, e.g. labelling chips)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset
from PIL import Image


class ImageFolderDataset(AbstractDataset[dict[str, Any], dict[str, Path]]):
    """``<folder>/<name>.png`` for every item of a dict of images (or callables giving one).

    A ``partitions.PartitionedDataset`` of images builds a dataset per file
    (~20 ms each); this writes each PNG with Pillow straight away. The folder is
    written beside the old one and swapped in at the end, so a failed save leaves
    the previous folder whole. ``load`` gives the paths by name. Example::

        reference_sample_chips:
          type: cocoa_threat.datasets.ImageFolderDataset
          path: data/08_reporting/reference_sample_chips
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            path: The folder.
            metadata: Free-form metadata (kedro-viz).
        """
        self._path = PurePosixPath(path)
        self.metadata = metadata

    def load(self) -> dict[str, Path]:
        """Name -> path of every PNG in the folder (empty if there is none)."""
        folder = Path(self._path)
        return {p.stem: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}

    def save(self, data: dict[str, Image.Image | Callable[[], Image.Image]]) -> None:
        """Write every image (callables are called one at a time: memory stays flat)."""
        folder = Path(self._path)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f".{folder.name}.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            for name, image in data.items():
                (image() if callable(image) else image).save(tmp / f"{name}.png")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    def _exists(self) -> bool:
        return Path(self._path).is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
