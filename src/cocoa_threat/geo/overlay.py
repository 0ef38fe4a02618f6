"""Rasters as web-map overlays: reprojected to lon/lat, decimated, coloured, cut into tiles.

A web map in plate carrée (EPSG:4326, no basemap) places an image by its
lon/lat bounds, so a raster is reprojected onto a regular lon/lat grid of at
most ``max_px`` pixels per side (nearest neighbour: class codes stay codes) and,
when larger than ``tile_px``, cut into tiles of that size.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject

from cocoa_threat.geo.grid import RasterSource

LONLAT = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Overlay:
    """One image of a layer: RGBA pixels and their lon/lat bounds ``[[south, west], [north, east]]``."""

    rgba: np.ndarray
    bounds: list[list[float]]

    def png(self) -> bytes:
        """The image as PNG bytes."""
        from PIL import Image

        out = io.BytesIO()
        Image.fromarray(self.rgba, mode="RGBA").save(out, format="PNG", optimize=True)
        return out.getvalue()


def colour_table_of(source: RasterSource, band: int = 1) -> dict[int, tuple[int, int, int, int]]:
    """The GeoTIFF colour table of a band ({} if it has none)."""
    with rasterio.open(source.path) as src:
        try:
            return dict(src.colormap(band))
        except ValueError:
            return {}


def lonlat_values(
    source: RasterSource, band: int, max_px: int
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """One band on a lon/lat grid of at most ``max_px`` per side; NaN where there is no data.

    Returns:
        float64 values and (west, south, east, north).
    """
    data = source.read_overview(max_size=max_px, band=band).astype(np.float64)
    if source.nodata is not None and np.isfinite(source.nodata):
        data[data == source.nodata] = np.nan
    rows, cols = data.shape
    minx, miny, maxx, maxy = source.grid.bounds
    src_transform = rasterio.transform.from_bounds(minx, miny, maxx, maxy, cols, rows)
    src_crs = CRS.from_user_input(source.grid.crs)
    transform, width, height = calculate_default_transform(
        src_crs, LONLAT, cols, rows, minx, miny, maxx, maxy
    )
    scale = max(width, height) / max_px
    if scale > 1:
        width, height = max(1, int(width / scale)), max(1, int(height / scale))
        transform, _, _ = calculate_default_transform(
            src_crs, LONLAT, cols, rows, minx, miny, maxx, maxy, dst_width=width, dst_height=height
        )
    out = np.full((height, width), np.nan)
    reproject(
        data,
        out,
        src_transform=src_transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=transform,
        dst_crs=LONLAT,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    west, north = transform * (0, 0)
    east, south = transform * (width, height)
    return out, (west, south, east, north)


def class_colours(
    table: dict[int, tuple[int, int, int, int]], alpha: int = 255
) -> Callable[[np.ndarray], np.ndarray]:
    """Colour codes with a colour table (transparent where there is no value or colour)."""

    def paint(values: np.ndarray) -> np.ndarray:
        rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
        codes = np.where(np.isfinite(values), values, -1).astype(np.int64)
        for code, colour in table.items():
            if colour[3] == 0:
                continue
            rgba[codes == code] = (*colour[:3], alpha)
        return rgba

    return paint


def ramp_colours(
    cmap: str, vmin: float, vmax: float, log: bool = False, alpha: int = 255
) -> Callable[[np.ndarray], np.ndarray]:
    """Colour values on a matplotlib colour map (transparent where there is no value)."""
    import matplotlib
    from matplotlib.colors import LogNorm, Normalize

    colours = matplotlib.colormaps[cmap]
    norm = LogNorm(vmin, vmax, clip=True) if log else Normalize(vmin, vmax, clip=True)

    def paint(values: np.ndarray) -> np.ndarray:
        ok = np.isfinite(values)
        rgba = (colours(norm(np.where(ok, values, vmin))) * 255).astype(np.uint8)
        rgba[..., 3] = np.where(ok, alpha, 0)
        return rgba

    return paint


def overlays(
    values: np.ndarray,
    bounds: tuple[float, float, float, float],
    paint: Callable[[np.ndarray], np.ndarray],
    tile_px: int,
) -> list[Overlay]:
    """The coloured image, cut into tiles of at most ``tile_px`` per side (one if it fits).

    ``values`` is (rows, cols) or (rows, cols, planes): ``paint`` gets each tile's part.
    """
    west, south, east, north = bounds
    rows, cols = values.shape[:2]
    dx, dy = (east - west) / cols, (north - south) / rows
    out = []
    for r0 in range(0, rows, tile_px):
        for c0 in range(0, cols, tile_px):
            part = values[r0 : r0 + tile_px, c0 : c0 + tile_px]
            h, w = part.shape[:2]
            tile_bounds = [
                [north - (r0 + h) * dy, west + c0 * dx],
                [north - r0 * dy, west + (c0 + w) * dx],
            ]
            out.append(Overlay(paint(part), tile_bounds))
    return out
