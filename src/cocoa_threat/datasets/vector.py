"""A Kedro dataset for vector files (GeoPackage, shapefile, GeoJSON ...) read with pyogrio."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
from kedro.io import AbstractDataset, DatasetError


class VectorDataset(AbstractDataset[gpd.GeoDataFrame, gpd.GeoDataFrame]):
    """Load/save a GeoDataFrame from/to any OGR vector file (by path, not file object).

    Example::

        cocoa_to_mining:
          type: cocoa_threat.datasets.VectorDataset
          filepath: data/07_model_output/cocoa_to_mining.gpkg
          save_args: {driver: GPKG, layer: cocoa_to_mining}
    """

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: The vector file.
            load_args: Passed to ``geopandas.read_file``.
            save_args: Passed to ``GeoDataFrame.to_file`` (e.g. ``driver``, ``layer``).
            metadata: Free-form metadata (ignored by Kedro).
        """
        self._filepath = PurePosixPath(filepath)
        self._load_args = {"engine": "pyogrio", **(load_args or {})}
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def load(self) -> gpd.GeoDataFrame:
        """Read the file."""
        path = Path(self._filepath)
        if not path.exists():
            raise DatasetError(f"{path} does not exist; point the catalog entry at your file")
        try:
            return gpd.read_file(path, **self._load_args)
        except Exception as exc:
            raise DatasetError(f"Could not read vector file {path}: {exc}") from exc

    def save(self, data: gpd.GeoDataFrame) -> None:
        """Write the file (atomically: a temporary file, then rename)."""
        path = Path(self._filepath)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
        tmp.unlink(missing_ok=True)
        data.to_file(tmp, engine="pyogrio", **self._save_args)
        os.replace(tmp, path)

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "save_args": self._save_args}
