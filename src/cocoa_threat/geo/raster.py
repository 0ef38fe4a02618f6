"""Small raster helpers shared by the datasets, the demo generator and the pipelines.

This is the one module that opens GeoTIFFs by path: nodes never do, they get
:class:`Raster` objects through the catalog.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS


@dataclass
class Raster:
    """A multi-band raster held in memory with its georeference.

    Attributes:
        data: Array of shape (bands, rows, cols).
        transform: Affine pixel-to-map transform.
        crs: Coordinate reference system (``None`` if the file has none).
        nodata: Nodata value, or ``None``.
        band_names: Optional band descriptions, one per band.
        tags: Free-form metadata written as GeoTIFF tags.
    """

    data: np.ndarray
    transform: Affine
    crs: CRS | None
    nodata: float | None = None
    band_names: list[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the raster."""
        return int(self.data.shape[-2]), int(self.data.shape[-1])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) in map units."""
        rows, cols = self.shape
        return rasterio.transform.array_bounds(rows, cols, self.transform)[:4]


@dataclass(frozen=True)
class RasterHeader:
    """What a GeoTIFF's header says, read without loading the pixels."""

    path: str
    count: int
    dtype: str
    crs: str | None
    res: tuple[float, float]
    nodata: float | None
    width: int
    height: int
    bounds: tuple[float, float, float, float]
    transform: tuple[float, ...]


def read_header(path: str | os.PathLike[str]) -> RasterHeader:
    """Read the header of a GeoTIFF.

    Raises:
        rasterio.errors.RasterioIOError: If the file can't be opened.
    """
    with rasterio.open(path) as src:
        return RasterHeader(
            path=str(path),
            count=src.count,
            dtype=src.dtypes[0],
            crs=src.crs.to_string() if src.crs else None,
            res=(float(src.res[0]), float(src.res[1])),
            nodata=src.nodata,
            width=src.width,
            height=src.height,
            bounds=tuple(float(v) for v in src.bounds),
            transform=tuple(src.transform)[:6],
        )


def read_raster(path: str | os.PathLike[str], bands: list[int] | None = None) -> Raster:
    """Read a GeoTIFF (all bands, or the given 1-based band indexes)."""
    with rasterio.open(path) as src:
        indexes = bands or list(range(1, src.count + 1))
        data = src.read(indexes)
        descriptions = [src.descriptions[i - 1] for i in indexes]
        return Raster(
            data=data,
            transform=src.transform,
            crs=src.crs,
            nodata=src.nodata,
            band_names=None if all(d is None for d in descriptions) else descriptions,
            tags=src.tags(),
        )


def write_raster(path: str | os.PathLike[str], raster: Raster, **creation_options: Any) -> None:
    """Write a :class:`Raster` to a GeoTIFF atomically (temp file, then rename).

    Args:
        path: Destination file.
        raster: What to write.
        **creation_options: GDAL creation options (e.g. ``compress="deflate"``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = raster.data if raster.data.ndim == 3 else raster.data[None]
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": raster.crs,
        "transform": raster.transform,
        "nodata": raster.nodata,
    }
    profile.update(creation_options)
    fd, tmp = tempfile.mkstemp(suffix=".tif", dir=path.parent, prefix=f".{path.stem}.partial-")
    os.close(fd)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            if raster.band_names:
                for i, name in enumerate(raster.band_names, start=1):
                    dst.set_band_description(i, name)
            if raster.tags:
                dst.update_tags(**raster.tags)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pad_to(array: np.ndarray, size: tuple[int, int], value: float) -> np.ndarray:
    """Pad the last two axes at the bottom/right to ``size`` (the transform stays valid)."""
    rows, cols = array.shape[-2:]
    if (rows, cols) == tuple(size):
        return array
    pad = [(0, 0)] * (array.ndim - 2) + [(0, size[0] - rows), (0, size[1] - cols)]
    return np.pad(array, pad, constant_values=value)
