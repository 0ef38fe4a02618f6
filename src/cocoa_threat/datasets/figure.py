"""A matplotlib figure dataset that can also be loaded (as PNG bytes) for reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import DatasetError
from kedro_datasets.matplotlib import MatplotlibDataset


class FigureDataset(MatplotlibDataset):
    """``matplotlib.MatplotlibDataset`` (save, kedro-viz preview) plus ``load()``.

    ``load()`` returns the saved PNG's bytes, so a report node can embed figures
    it gets through the catalog; with ``missing_ok: true`` a figure not drawn
    yet (e.g. of a model not trained) loads as None.
    """

    def __init__(self, *args: Any, missing_ok: bool = False, **kwargs: Any) -> None:
        """As ``MatplotlibDataset``, plus ``missing_ok``."""
        super().__init__(*args, **kwargs)
        self._missing_ok = missing_ok

    def load(self) -> bytes | None:  # type: ignore[override]
        """The saved image's bytes (None if missing and ``missing_ok``)."""
        path = Path(str(self._get_load_path()))
        if not path.is_file():
            if self._missing_ok:
                return None
            raise DatasetError(f"{path} does not exist; run the pipeline that draws it first")
        return path.read_bytes()
