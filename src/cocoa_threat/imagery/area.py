"""The area of the composites and their pixel grid (edges on multiples of the pixel size)."""

from __future__ import annotations

import math
from typing import Any

from affine import Affine
from rasterio.warp import transform_bounds

from cocoa_threat.geo.grid import GridSpec
from cocoa_threat.params.imagery import AreaSpec, GridParams
from cocoa_threat.raw import MissingRawInput

Bounds = tuple[float, float, float, float]


def area_bounds(area: AreaSpec, crs: str, districts: Any) -> Bounds:
    """The area's box in ``crs``, from the districts or from ``area.bbox``.

    Args:
        area: ``imagery.area``.
        crs: The output CRS.
        districts: District boundaries (a GeoDataFrame), or a MissingRawInput.

    Raises:
        FileNotFoundError: ``source: districts`` without a district file.
        ValueError: Unknown district names or name column.
    """
    if area.source == "bbox":
        assert area.bbox is not None  # the schema checks it
        bounds = transform_bounds(area.bbox_crs, crs, *area.bbox, densify_pts=21)
    else:
        if isinstance(districts, MissingRawInput):
            raise districts.error("imagery.area.source is districts")
        if area.name_column not in districts.columns:
            raise ValueError(
                f"The district file has no column '{area.name_column}' (columns: "
                f"{list(districts.columns)}); set imagery.area.name_column"
            )
        chosen = districts
        if area.districts:
            names = set(districts[area.name_column])
            unknown = sorted(set(area.districts) - names)
            if unknown:
                raise ValueError(
                    f"imagery.area.districts: {unknown} are not in the district file "
                    f"(it has {sorted(names)})"
                )
            chosen = districts[districts[area.name_column].isin(area.districts)]
        bounds = tuple(float(v) for v in chosen.to_crs(crs).total_bounds)
    b = area.buffer_m
    return (bounds[0] - b, bounds[1] - b, bounds[2] + b, bounds[3] + b)


def snapped_grid(bounds: Bounds, grid: GridParams) -> GridSpec:
    """The grid covering ``bounds`` with pixel edges on multiples of the resolution."""
    res = grid.resolution
    minx, miny = math.floor(bounds[0] / res) * res, math.floor(bounds[1] / res) * res
    maxx, maxy = math.ceil(bounds[2] / res) * res, math.ceil(bounds[3] / res) * res
    width, height = round((maxx - minx) / res), round((maxy - miny) / res)
    if width < 1 or height < 1:
        raise ValueError(f"The area {bounds} is empty at {res} m; check imagery.area")
    return GridSpec.of(grid.crs, Affine(res, 0, minx, 0, -res, maxy), width, height)


def lonlat_box(grid: GridSpec) -> Bounds:
    """The grid's box in degrees (west, south, east, north)."""
    return tuple(transform_bounds(grid.crs, "EPSG:4326", *grid.bounds, densify_pts=21))
