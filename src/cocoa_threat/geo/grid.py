"""Raster grids and windowed reading: the one place that reads big rasters by window.

Nodes never open rasters by path. Large rasters travel through the catalog as a
lazy :class:`RasterSource` (what :class:`~cocoa_threat.datasets.RasterDataset`
loads): nodes read it window by window, so memory stays bounded whatever the
raster's size. Writing is in :mod:`cocoa_threat.geo.cog`, mosaics of tiles in
:mod:`cocoa_threat.geo.vrt`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.windows import Window


@dataclass(frozen=True)
class GridSpec:
    """The pixel grid of a raster: CRS, transform and size."""

    crs: str
    transform: tuple[float, ...]
    width: int
    height: int

    @property
    def affine(self) -> Affine:
        """The transform as an :class:`~affine.Affine`."""
        return Affine(*self.transform[:6])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy)."""
        return rasterio.transform.array_bounds(self.height, self.width, self.affine)[:4]

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in map units squared."""
        return abs(self.transform[0] * self.transform[4])

    def hectares(self, pixels: Any) -> Any:
        """Area of ``pixels`` pixels in hectares (map units: metres)."""
        return pixels * self.pixel_area / 10_000.0

    def same_as(self, other: GridSpec, tol: float = 1e-6) -> bool:
        """Whether two grids are the same (CRS, size and transform)."""
        return (
            CRS.from_user_input(self.crs) == CRS.from_user_input(other.crs)
            and (self.width, self.height) == (other.width, other.height)
            and np.allclose(self.transform[:6], other.transform[:6], atol=tol)
        )

    @classmethod
    def of(cls, crs: Any, transform: Affine, width: int, height: int) -> GridSpec:
        """A grid from a CRS (any form rasterio understands), a transform and a size."""
        return cls(
            crs=CRS.from_user_input(crs).to_string(),
            transform=tuple(transform)[:6],
            width=int(width),
            height=int(height),
        )


@dataclass(frozen=True)
class RasterSource:
    """A raster on disk, read lazily by window (what large-raster datasets load)."""

    path: str
    grid: GridSpec
    count: int
    dtype: str
    nodata: float | None
    band_names: tuple[str | None, ...]
    tags: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RasterSource:
        """Read the header of ``path``."""
        with rasterio.open(path) as src:
            return cls(
                path=str(path),
                grid=GridSpec(
                    crs=src.crs.to_string() if src.crs else "",
                    transform=tuple(src.transform)[:6],
                    width=src.width,
                    height=src.height,
                ),
                count=src.count,
                dtype=src.dtypes[0],
                nodata=src.nodata,
                band_names=tuple(src.descriptions),
                tags=dict(src.tags()),
            )

    def read(
        self,
        window: Window | None = None,
        bands: list[int] | None = None,
        fill: float | None = None,
    ) -> np.ndarray:
        """Read bands (1-based) of a window; parts outside the raster get ``fill``.

        Args:
            window: Window to read (None = everything).
            bands: 1-based band indexes (None = all).
            fill: Value outside the raster (default: the nodata value, else 0).

        Returns:
            (bands, rows, cols) array.
        """
        with rasterio.open(self.path) as src:
            indexes = bands or list(range(1, self.count + 1))
            if window is None:
                return src.read(indexes)
            fill_value = (
                fill if fill is not None else (self.nodata if self.nodata is not None else 0)
            )
            # Read the part inside the raster and pad with numpy: much faster than
            # rasterio's boundless reads, which go through a warped VRT.
            col0, row0 = int(window.col_off), int(window.row_off)
            cols, rows = int(window.width), int(window.height)
            c0, r0 = max(col0, 0), max(row0, 0)
            c1, r1 = min(col0 + cols, self.grid.width), min(row0 + rows, self.grid.height)
            out = np.full((len(indexes), rows, cols), fill_value, dtype=self.dtype)
            if c1 > c0 and r1 > r0:
                out[:, r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = src.read(
                    indexes, window=Window(c0, r0, c1 - c0, r1 - r0)
                )
            return out

    def file_facts(self, header_bytes: int = 1 << 20) -> dict[str, Any]:
        """Name, size and a SHA-256 of the file's first ``header_bytes`` (provenance).

        The header holds the TIFF structure, the georeference and the first
        tiles, enough to tell two files apart without reading a national map of
        several GB.
        """
        import hashlib

        path = os.fspath(self.path)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read(header_bytes)).hexdigest()
        return {
            "file": os.path.basename(path),
            "size_bytes": os.path.getsize(path),
            "header_sha256": digest,
            "header_bytes": header_bytes,
        }

    def read_overview(self, max_size: int = 1024, band: int = 1) -> np.ndarray:
        """A decimated read of one band (uses overviews when present) for quicklooks."""
        scale = max(1.0, max(self.grid.width, self.grid.height) / max_size)
        shape = (max(1, int(self.grid.height / scale)), max(1, int(self.grid.width / scale)))
        with rasterio.open(self.path) as src:
            return src.read(band, out_shape=shape, resampling=Resampling.nearest)

    def read_on_grid(
        self, grid: GridSpec, band: int = 1, resampling: str = "bilinear"
    ) -> np.ndarray:
        """One band reprojected onto ``grid`` (any CRS, extent and resolution).

        Only the part of the source under the grid is read (a GDAL warped VRT),
        so a national map of several GB is never read whole.

        Args:
            grid: The target grid (e.g. one tile's).
            band: 1-based band.
            resampling: A :class:`rasterio.enums.Resampling` name.

        Returns:
            float32 (rows, cols); NaN where the source has no data or does not reach.

        Raises:
            ValueError: If the source has no CRS.
        """
        from rasterio.vrt import WarpedVRT

        with rasterio.open(self.path) as src:
            if src.crs is None:
                raise ValueError(f"{self.path} has no CRS, so it can't be placed on the tiles")
            with WarpedVRT(
                src,
                crs=CRS.from_user_input(grid.crs),
                transform=grid.affine,
                width=grid.width,
                height=grid.height,
                resampling=Resampling[resampling],
                nodata=np.nan,
                dtype="float32",
            ) as vrt:
                return vrt.read(band)


def iter_windows(width: int, height: int, size: int) -> Iterator[Window]:
    """Windows of ``size`` x ``size`` pixels covering a raster, row by row."""
    for row in range(0, height, size):
        for col in range(0, width, size):
            yield Window(col, row, min(size, width - col), min(size, height - row))


def expand(window: Window, margin: int) -> Window:
    """The window grown by ``margin`` pixels on every side (may leave the raster)."""
    return Window(
        window.col_off - margin,
        window.row_off - margin,
        window.width + 2 * margin,
        window.height + 2 * margin,
    )


def same_grid_or_raise(a: RasterSource, b: RasterSource, what: str) -> None:
    """Fail with a clear message if two rasters are not on the same grid."""
    if not a.grid.same_as(b.grid):
        raise ValueError(
            f"{what}: {a.path} ({a.grid.crs}, {a.grid.width} x {a.grid.height} px, "
            f"origin {a.grid.transform[2]:.1f}, {a.grid.transform[5]:.1f}) and {b.path} "
            f"({b.grid.crs}, {b.grid.width} x {b.grid.height} px, origin "
            f"{b.grid.transform[2]:.1f}, {b.grid.transform[5]:.1f}) are on different grids; "
            f"re-run the inference pipeline for both years with the same tiles"
        )


def window_transform(grid: GridSpec, window: Window) -> Affine:
    """The transform of a window of a grid."""
    return rasterio.windows.transform(window, grid.affine)


def rasterize_window(geometries: Any, grid: GridSpec, window: Window) -> np.ndarray:
    """Burn polygons into a window of a grid: 1 + the polygon's position, 0 outside all.

    A pixel belongs to a polygon when its centre does (later polygons win where they
    overlap). A window that no polygon touches, or that lies inside one polygon and
    touches no other, is filled without rasterizing (most windows of a large raster).

    Args:
        geometries: Iterable of shapely geometries in the grid's CRS.
        grid: The raster grid.
        window: The window.

    Returns:
        int32 (rows, cols).
    """
    import shapely
    from rasterio import features

    shape = (int(window.height), int(window.width))
    geoms = np.asarray(list(geometries), dtype=object)
    frame = shapely.box(*rasterio.windows.bounds(window, grid.affine))
    hits = np.flatnonzero(shapely.intersects(geoms, frame)) if len(geoms) else []
    if len(hits) == 0:
        return np.zeros(shape, dtype=np.int32)
    if len(hits) == 1 and shapely.contains(geoms[hits[0]], frame):
        return np.full(shape, hits[0] + 1, dtype=np.int32)
    return features.rasterize(
        [(geoms[i], int(i) + 1) for i in hits],
        out_shape=shape,
        transform=window_transform(grid, window),
        fill=0,
        dtype="int32",
    )


def union_bounds(frame: Any) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) covering every row of a table with those columns."""
    return (
        float(frame["minx"].min()),
        float(frame["miny"].min()),
        float(frame["maxx"].max()),
        float(frame["maxy"].max()),
    )
