"""A matplotlib figure dataset that can also be loaded (as PNG bytes) for reports."""

from __future__ import annotations

from pathlib import Path

from kedro.io import DatasetError
from kedro_datasets.matplotlib import MatplotlibDataset


class FigureDataset(MatplotlibDataset):
    """``matplotlib.MatplotlibDataset`` (save, kedro-viz preview) plus ``load()``.

    ``load()`` returns the saved PNG's bytes, so a report node can embed figures
    it gets through the catalog.
    """

    def load(self) -> bytes:  # type: ignore[override]
        """The saved image's bytes."""
        path = Path(str(self._get_load_path()))
        if not path.is_file():
            raise DatasetError(f"{path} does not exist; run the pipeline that draws it first")
        return path.read_bytes()
