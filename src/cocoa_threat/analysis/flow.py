"""Flow routing on a DEM: where water from mining pits goes, and how far it has run.

* :func:`condition_dem`: the DEM made to drain, once, globally, before any
  routing. Depressions are filled by priority flood (Wang & Liu 2006, by
  pyflwdir, MIT licence), and each flat this leaves is given a drainage gradient
  of ``flat_increment`` per cell towards its outlet along pyflwdir's own flat
  routing (the "towards lower terrain" gradient of Garbrecht & Martz 1997).
  Without it a DEM routes into every pit: the demo DEM has one pit per ~46
  cells, and a 30 m DEM brought to 10 m by nearest neighbour leaves ~44% of
  cells on flats with no direction.
* :func:`d8_directions`: D8 steepest-descent flow direction of every pixel (the
  neighbour with the largest drop per unit distance; pits, flats and no data have
  none). Each direction depends on the pixel's 3 x 3 neighbourhood only.
* :func:`flow_distance_from`: the distance along those flow paths from the
  nearest source pixel upstream (e.g. a mining pixel), up to a limit: a
  multi-source shortest path on the flow graph (``scipy.sparse.csgraph.dijkstra``,
  BSD licence, C speed).

Conditioning is global (filling a pixel can depend on terrain kilometres away),
so it runs once on the whole DEM and is saved as its own raster; everything after
it is local. A result within ``limit`` of flow distance depends only on pixels
within ``limit / pixel + 1`` pixels of the conditioned DEM, so a window read
with :func:`flow_halo` pixels of context gives exactly the whole-raster result.

Why pyflwdir (``benchmarks/dem_conditioning.py``; a 4,096^2 synthetic DEM, one
core of the project's machine): pyflwdir and pysheds both install numba +
llvmlite (~190 MB installed, which dominates either; pyflwdir itself 0.3 MB,
pysheds 0.4 MB plus geojson and looseversion); richdem has no wheel for Python
3.11 on PyPI (last release 2018). pyflwdir fills in 8 s with 25 bytes per pixel,
pysheds (fill and flat resolution) in 36 s with 72 bytes per pixel, and pysheds
is GPL-3.0-or-later, which an Apache-2.0 project should not import. pyflwdir
leaves filled flats flat in the elevations (it routes them in its flow
directions), hence the gradient added here. pyflwdir routes each cell to the
neighbour its priority queue reached it from (the lowest, not the steepest per
metre), so its single flow paths differ from D8's on part of the cells; the
tests compare the reach of the two.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

logger = logging.getLogger(__name__)

# The 8 neighbours (row, col), N, NE, E, SE, S, SW, W, NW: the first of equal drops wins.
OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def flow_halo(limit_m: float, pixel: float) -> int:
    """Pixels of context that make windowed flow distances up to ``limit_m`` exact."""
    return math.ceil(limit_m / pixel) + 2


def condition_dem(dem: np.ndarray, flat_increment: float) -> np.ndarray:
    """The DEM with depressions filled and flats drained, so that every cell drains.

    Elevations are taken at float32 precision (pyflwdir's priority queue holds
    float32), the result is float64 so that the flat gradient survives.

    Args:
        dem: Elevation (rows, cols); NaN where there is no data (never filled,
            never a path; water reaching it leaves the map, as at the edge).
        flat_increment: Elevation added per cell of flow path on a flat, towards
            its outlet (map units); far below the DEM's precision, so that a flat
            never rises above the terrain around it.

    Returns:
        float64 (rows, cols), NaN where ``dem`` is NaN. Every cell with data has
        a lower neighbour, except on the raster's edge and beside no data.
    """
    import pyflwdir

    nodata = np.isnan(dem)
    if nodata.all():
        return np.full(dem.shape, np.nan)
    fill = float(np.nanmin(dem)) - 1.0
    elevation = np.where(nodata, fill, dem).astype(np.float32).astype(np.float64)
    filled, d8 = pyflwdir.dem.fill_depressions(elevation, nodata=fill)
    del elevation
    flw = pyflwdir.from_array(d8, ftype="d8", check_ftype=False)
    del d8
    flat = _flat_cells(filled.ravel(), flw.idxs_ds, nodata.ravel()).reshape(dem.shape)
    steps = flw.stream_distance(mask=~flat, unit="cell")  # cells to the flat's outlet
    del flw
    out = filled.ravel()  # in place, a chunk at a time: memory is the constraint here
    for i in range(0, out.size, CHUNK):
        part = slice(i, i + CHUNK)
        out[part] += flat_increment * np.where(flat.ravel()[part], steps.ravel()[part], 0)
    filled[nodata] = np.nan
    return filled


# Elements per chunk of the in-place steps of conditioning (bounds its temporaries).
CHUNK = 1 << 22


def _flat_cells(filled: np.ndarray, downstream: np.ndarray, nodata: np.ndarray) -> np.ndarray:
    """Cells with data that flow (pyflwdir's routing) to a cell of the same elevation."""
    flat = np.zeros(filled.size, dtype=bool)
    for i in range(0, filled.size, CHUNK):
        ds = downstream[i : i + CHUNK]
        here = np.arange(i, i + len(ds))
        flat[i : i + len(ds)] = (filled[i : i + len(ds)] == filled[ds]) & (ds != here)
    return flat & ~nodata


def undrained_mask(directions: np.ndarray, dem: np.ndarray) -> np.ndarray:
    """Cells with data and no flow direction, away from the array's edge and from no data.

    These are where flow stops inside the map: pits and flats (none on a conditioned DEM).
    """
    valid = np.isfinite(dem)
    inner = np.zeros_like(valid)
    inner[1:-1, 1:-1] = True
    padded = np.pad(valid, 1, constant_values=False)
    rows, cols = dem.shape
    for dr, dc in OFFSETS:
        inner &= padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
    return inner & valid & (directions < 0)


def count_undrained(dem: np.ndarray, pixel: float, rows_per_band: int = 1024) -> int:
    """Cells of :func:`undrained_mask` of a whole DEM, in bands of rows to bound memory."""
    total, height = 0, dem.shape[0]
    for r0 in range(0, height, rows_per_band):
        r1 = min(r0 + rows_per_band, height)
        lo, hi = max(r0 - 1, 0), min(r1 + 1, height)  # a 1-row halo
        part = dem[lo:hi]
        total += int(undrained_mask(d8_directions(part, pixel), part)[r0 - lo : r1 - lo].sum())
    return total


def d8_directions(dem: np.ndarray, pixel: float) -> np.ndarray:
    """Index into :data:`OFFSETS` of each pixel's steepest downhill neighbour; -1 for none.

    The first of equal drops (per unit distance) in :data:`OFFSETS` order wins.

    Args:
        dem: Elevation (rows, cols); NaN where there is no data.
        pixel: Pixel size (map units, the same as the elevation's).

    Returns:
        int8 (rows, cols).
    """
    rows, cols = dem.shape
    padded = np.pad(dem.astype(np.float64), 1, constant_values=np.nan)
    best = np.full((rows, cols), -1, dtype=np.int8)
    steepest = np.zeros((rows, cols))
    diagonal = math.sqrt(pixel**2 + pixel**2)
    with np.errstate(invalid="ignore"):
        for k, (dr, dc) in enumerate(OFFSETS):
            neighbour = padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
            slope = (dem - neighbour) / (diagonal if dr and dc else pixel)
            better = slope > steepest  # False where either side is NaN
            best[better] = k
            steepest[better] = slope[better]
    return best


def flow_distance_from(
    sources: np.ndarray, directions: np.ndarray, pixel: float, limit: float
) -> np.ndarray:
    """Distance along the flow paths from the nearest source upstream (inf beyond ``limit``).

    Args:
        sources: Boolean (rows, cols): where the flow starts (e.g. mining pixels).
        directions: Output of :func:`d8_directions`.
        pixel: Pixel size (map units).
        limit: Largest distance followed.

    Returns:
        float64 (rows, cols): 0 on the sources, inf where no source drains within ``limit``.
    """
    rows, cols = directions.shape
    if not sources.any():
        return np.full((rows, cols), np.inf)
    flows = directions >= 0
    here = np.flatnonzero(flows)
    k = directions.ravel()[here]
    dr = np.array([o[0] for o in OFFSETS])[k]
    dc = np.array([o[1] for o in OFFSETS])[k]
    r, c = np.divmod(here, cols)
    there = (r + dr) * cols + (c + dc)
    length = pixel * np.hypot(dr, dc)
    graph = csr_matrix((length, (here, there)), shape=(rows * cols, rows * cols))
    distance = dijkstra(
        graph, directed=True, indices=np.flatnonzero(sources), min_only=True, limit=limit
    )
    return np.asarray(distance).reshape(rows, cols)


def _summary(z: np.ndarray, out: np.ndarray, pixel: float, condition: bool) -> dict[str, str]:
    """What conditioning did (logged, and the conditioned raster's tags)."""
    before = count_undrained(z, pixel)
    after = count_undrained(out, pixel) if condition else before
    filled, depth = 0, 0.0
    for r0 in range(0, z.shape[0], 1024):  # in bands of rows: no whole-raster temporaries
        rise = np.nan_to_num(out[r0 : r0 + 1024] - z[r0 : r0 + 1024])
        filled += int((rise > 1e-6).sum())  # filled (not just the flat gradient)
        depth = max(depth, float(rise.max(initial=0.0)))
    logger.info(
        "DEM %s: flow stopped inside the map at %d of %d cells before, %d after; %d cells "
        "filled (deepest %.2f)",
        "conditioned" if condition else "not conditioned (risk.downstream.condition_dem)",
        before,
        int(np.isfinite(z).sum()),
        after,
        filled,
        depth,
    )
    if condition and after:
        logger.warning("%d cells of the conditioned DEM still do not drain", after)
    return {
        "conditioning": "priority-flood fill (pyflwdir) + flat gradient" if condition else "none",
        "undrained_cells_before": str(before),
        "undrained_cells_after": str(after),
        "filled_cells": str(filled),
        "max_fill_depth": f"{depth:.3f}",
    }


def conditioned_producer(
    dem: Any, nodata: float, condition: bool, flat_increment: float, block: int
) -> Any:
    """The whole DEM conditioned once (:func:`condition_dem`), as a float64 raster.

    Conditioning is global: the DEM is read whole (about 45 bytes per pixel at
    the peak, ``benchmarks/dem_conditioning.py``). With ``condition`` False the
    DEM is written as it is (to compare the factor with and without).

    Args:
        dem: The DEM (a :class:`~cocoa_threat.geo.grid.RasterSource`).
        nodata: Its nodata value (also the output's).
        condition: Whether to condition.
        flat_increment: See :func:`condition_dem`.
        block: Window size of the writing.

    Returns:
        A one-band float64 :class:`~cocoa_threat.geo.cog.RasterProducer`, tagged
        with the cells where flow stopped inside the map before and after.
    """
    from cocoa_threat.geo.cog import RasterProducer
    from cocoa_threat.geo.grid import iter_windows

    z = dem.read(bands=[1])[0].astype(np.float32, copy=False)  # float32: the DEM's precision
    z[(z == nodata) | ~np.isfinite(z)] = np.nan
    out = condition_dem(z, flat_increment) if condition else z
    tags = _summary(z, out, abs(dem.grid.transform[0]), condition)
    tags["flat_increment"] = f"{flat_increment:g}"
    del z

    def blocks() -> Iterator[tuple[Any, np.ndarray]]:
        for window in iter_windows(dem.grid.width, dem.grid.height, block):
            part = out[window.toslices()]
            yield window, np.where(np.isnan(part), nodata, part)[None]

    return RasterProducer(
        grid=dem.grid,
        count=1,
        dtype="float64",
        nodata=nodata,
        blocks=blocks,
        band_names=["elevation, conditioned" if condition else "elevation"],
        tags=tags,
    )
