"""Demo district boundaries: five polygons named after the study's districts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import MultiPoint, box
from shapely.ops import voronoi_diagram


def make_districts(
    bounds: tuple[float, float, float, float],
    seeds: dict[str, tuple[float, float]],
    crs: str,
    out_crs: str,
    seed: int,
) -> gpd.GeoDataFrame:
    """Split the region into one irregular polygon per district.

    Args:
        bounds: Region (minx, miny, maxx, maxy) in ``crs``.
        seeds: District name -> (x, y) position as a fraction of the region.
        crs: CRS of ``bounds``.
        out_crs: CRS to return the polygons in (boundary files come in any CRS).
        seed: Random seed of the jitter of the seed points.

    Returns:
        GeoDataFrame with ``district`` and ``geometry``.
    """
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    names = list(seeds)
    pts = []
    for name in names:
        fx, fy = seeds[name]
        fx, fy = np.clip(np.array([fx, fy]) + rng.normal(0, 0.03, 2), 0.02, 0.98)
        pts.append((minx + fx * (maxx - minx), miny + fy * (maxy - miny)))
    region = box(*bounds)
    cells = voronoi_diagram(MultiPoint(pts), envelope=region)
    polygons = []
    for x, y in pts:
        cell = next(c for c in cells.geoms if c.buffer(1e-6).contains(MultiPoint([(x, y)])))
        polygons.append(cell.intersection(region))
    frame = gpd.GeoDataFrame({"district": names}, geometry=polygons, crs=crs)
    return frame.to_crs(out_crs)
