"""The one Kedro dataset of rasters: lazy or whole on load, windowed COG or whole on save."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from cocoa_threat.geo.cog import RasterProducer, write_cog
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster, read_raster, write_raster
from cocoa_threat.geo.vrt import MosaicSpec


class RasterDataset(AbstractDataset[Any, RasterSource | Raster]):
    """A raster of any size.

    * ``load()`` returns a :class:`~cocoa_threat.geo.grid.RasterSource`, a
      lazy handle that nodes read window by window; with ``load_args:
      {lazy: false}`` the whole :class:`~cocoa_threat.geo.raster.Raster` (small
      rasters such as the model input's tiles).
    * ``save()`` accepts a :class:`~cocoa_threat.geo.cog.RasterProducer`
      (written window by window as a COG with overviews, colour table and any
      companion rasters such as class probabilities), a
      :class:`~cocoa_threat.geo.raster.Raster` (small, written whole), or a
      :class:`~cocoa_threat.geo.vrt.MosaicSpec` (for ``.vrt`` files: a mosaic of
      tiles, written with paths relative to the VRT).

    Example::

        before.land_use_map:
          type: cocoa_threat.datasets.RasterDataset
          filepath: data/07_model_output/land_use_2016.tif
          save_args: {blocksize: 256, overview_levels: [2, 4, 8, 16]}
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
            filepath: The raster file (``.tif`` or ``.vrt``).
            load_args: ``lazy`` (default true): a lazy handle, or the whole raster.
            save_args: Options of :func:`~cocoa_threat.geo.cog.write_cog`, or GDAL
                creation options of a whole raster (e.g. ``compress: deflate``).
            metadata: Free-form metadata (ignored by Kedro).
        """
        unknown = set(load_args or {}) - {"lazy"}
        if unknown:
            raise DatasetError(f"RasterDataset {filepath}: unknown load_args {sorted(unknown)}")
        self._filepath = PurePosixPath(filepath)
        self._lazy = bool((load_args or {}).get("lazy", True))
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def load(self) -> RasterSource | Raster:
        """Open the raster lazily (reads the header only), or read it whole."""
        path = Path(self._filepath)
        if not path.is_file():
            raise DatasetError(
                f"{path} does not exist; run the pipeline that writes it first "
                f"(see `kedro viz` for which one)"
            )
        try:
            return RasterSource.open(path) if self._lazy else read_raster(path)
        except Exception as exc:  # rasterio raises several unrelated types
            raise DatasetError(f"Could not read raster {path}: {exc}") from exc

    def save(self, data: Any) -> None:
        """Write a producer (windowed COG), a small Raster, or a VRT mosaic."""
        path = Path(self._filepath)
        if isinstance(data, RasterProducer):
            write_cog(path, data, **self._save_args)
        elif isinstance(data, Raster):
            write_raster(path, data, **self._save_args)
        elif isinstance(data, MosaicSpec) and path.suffix == ".vrt":
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
            tmp.write_text(data.to_xml(path))
            os.replace(tmp, path)
        else:
            raise DatasetError(
                f"RasterDataset {path} can't save a {type(data).__name__}; return a "
                f"RasterProducer, a Raster or (for .vrt) a MosaicSpec"
            )

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "lazy": self._lazy, "save_args": self._save_args}
