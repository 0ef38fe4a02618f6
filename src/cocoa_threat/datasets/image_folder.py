"""A folder of PNG images written in one go (many small images, e.g. labelling chips)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from cocoa_threat.datasets.folder import FolderBase
from cocoa_threat.locking import replaced_whole


class ImageFolderDataset(FolderBase):
    """``<folder>/<name>.png`` for every item of a dict of images (or callables giving one).

    A ``partitions.PartitionedDataset`` of images builds a dataset per file
    (~20 ms each); this writes each PNG with Pillow straight away. The folder is
    written beside the old one and swapped in at the end, so a failed save leaves
    the previous folder whole. ``load`` gives the paths by name. Example::

        reference_sample_chips:
          type: cocoa_threat.datasets.ImageFolderDataset
          path: data/08_reporting/reference_sample_chips
    """

    def load(self) -> dict[str, Path]:
        """Name -> path of every PNG in the folder (empty if there is none)."""
        folder = Path(self._path)
        return {p.stem: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}

    def save(self, data: dict[str, Image.Image | Callable[[], Image.Image]]) -> None:
        """Write every image (callables are called one at a time: memory stays flat)."""
        with replaced_whole(Path(self._path)) as tmp:
            tmp.mkdir()
            for name, image in data.items():
                (image() if callable(image) else image).save(tmp / f"{name}.png")
