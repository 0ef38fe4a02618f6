"""A Kedro dataset for one GeoTIFF, loaded as a :class:`~cocoa_threat.geo.raster.Raster`."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from cocoa_threat.geo.raster import Raster, read_raster, write_raster


class GeoTiffDataset(AbstractDataset[Raster, Raster]):
    """Load and save a GeoTIFF with its georeference, nodata and band names.

    Example catalog entry (usually as the ``dataset`` of a ``PartitionedDataset``)::

        model_input:
          type: partitions.PartitionedDataset
          path: data/05_model_input/patches
          dataset: cocoa_threat.datasets.GeoTiffDataset
          filename_suffix: .tif
    """

    def __init__(
        self,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Path of the GeoTIFF.
            save_args: GDAL creation options, e.g. ``{"compress": "deflate"}``.
            metadata: Free-form metadata (ignored by Kedro).
        """
        self._filepath = PurePosixPath(filepath)
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def load(self) -> Raster:
        """Read the raster."""
        try:
            return read_raster(self._filepath)
        except Exception as exc:  # rasterio raises several unrelated types
            raise DatasetError(f"Could not read GeoTIFF {self._filepath}: {exc}") from exc

    def save(self, data: Raster) -> None:
        """Write the raster (atomically)."""
        if not isinstance(data, Raster):
            raise DatasetError(
                f"GeoTiffDataset {self._filepath} expects a Raster, got {type(data).__name__}"
            )
        write_raster(self._filepath, data, **self._save_args)

    def _exists(self) -> bool:
        return Path(self._filepath).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "save_args": self._save_args}
