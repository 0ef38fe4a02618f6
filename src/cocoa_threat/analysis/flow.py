"""Flow routing on a DEM: where water from mining pits goes, and how far it has run.

* :func:`d8_directions`: D8 steepest-descent flow direction of every pixel (the
  neighbour with the largest drop per unit distance; pits, flats and no data have
  none). Each direction depends on the pixel's 3 x 3 neighbourhood only.
* :func:`flow_distance_from`: the distance along those flow paths from the
  nearest source pixel upstream (e.g. a mining pixel), up to a limit: a
  multi-source shortest path on the flow graph (``scipy.sparse.csgraph.dijkstra``,
  BSD licence, C speed).

Depressions are not filled: priority-flood filling is global (a pixel's direction
could depend on terrain kilometres away), which would make windowed processing
inexact. Without it, a result within ``limit`` of flow distance depends only on
pixels within ``limit / pixel + 1`` pixels, so a window read with
:func:`flow_halo` pixels of context gives exactly the whole-raster result. Flow
stops in closed depressions and on perfectly flat ground, so the result can miss
paths across them (an underestimate of how far pollution travels, never a path
that does not go downhill).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

# The 8 neighbours (row, col), in the order that breaks ties between equal drops.
OFFSETS = ((-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1))


def flow_halo(limit_m: float, pixel: float) -> int:
    """Pixels of context that make windowed flow distances up to ``limit_m`` exact."""
    return math.ceil(limit_m / pixel) + 2


def d8_directions(dem: np.ndarray, pixel: float) -> np.ndarray:
    """Index into :data:`OFFSETS` of each pixel's steepest downhill neighbour; -1 for none.

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
    with np.errstate(invalid="ignore"):
        for k, (dr, dc) in enumerate(OFFSETS):
            neighbour = padded[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols]
            slope = (dem - neighbour) / (pixel * math.hypot(dr, dc))
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
