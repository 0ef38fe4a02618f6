"""Random fields and shapes used to paint the synthetic demo landscape."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def gaussian_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Return a spatially correlated field with zero mean and unit variance.

    Args:
        rng: Random generator.
        shape: Output shape (rows, cols).
        sigma: Correlation length in pixels (Gaussian kernel sigma).

    Returns:
        float32 array of ``shape``.
    """
    noise = rng.standard_normal(shape, dtype=np.float32)
    if sigma > 0:
        noise = ndimage.gaussian_filter(noise, sigma=sigma, mode="reflect")
    std = float(noise.std())
    return ((noise - noise.mean()) / (std if std > 0 else 1.0)).astype(np.float32)


def multiscale_field(
    rng: np.random.Generator,
    shape: tuple[int, int],
    sigmas: tuple[float, ...],
    weights: tuple[float, ...],
) -> np.ndarray:
    """Weighted sum of Gaussian fields at several scales, re-standardised."""
    total = np.zeros(shape, dtype=np.float32)
    for sigma, weight in zip(sigmas, weights, strict=True):
        total += np.float32(weight) * gaussian_field(rng, shape, sigma)
    return ((total - total.mean()) / max(float(total.std()), 1e-6)).astype(np.float32)


def meandering_line(
    rng: np.random.Generator,
    shape: tuple[int, int],
    start: tuple[float, float],
    heading: float,
    wiggle: float,
    step: float = 1.0,
) -> np.ndarray:
    """Trace a smooth meandering path until it leaves the region.

    Args:
        rng: Random generator.
        shape: Region shape (rows, cols).
        start: Start point (row, col).
        heading: Initial direction in radians (0 = towards increasing cols).
        wiggle: Standard deviation of the heading change per step (radians).
        step: Step length in pixels.

    Returns:
        Array (n, 2) of (row, col) points along the path.
    """
    rows, cols = shape
    max_steps = int(4 * (rows + cols) / step)
    # Smoothed turning noise gives meanders instead of a jittery walk.
    turns = ndimage.gaussian_filter1d(rng.standard_normal(max_steps), sigma=25.0, mode="reflect")
    turns *= wiggle / max(float(turns.std()), 1e-6)
    points = np.empty((max_steps, 2), dtype=np.float64)
    r, c, h = float(start[0]), float(start[1]), heading
    n = 0
    for i in range(max_steps):
        points[n] = (r, c)
        n += 1
        # Pull gently back towards the initial heading so the path crosses the region.
        h += turns[i] - 0.05 * np.sin(h - heading)
        r += step * np.sin(h)
        c += step * np.cos(h)
        if not (-2 <= r < rows + 2 and -2 <= c < cols + 2):
            break
    return points[:n]


def rasterise_path(points: np.ndarray, shape: tuple[int, int], width: float) -> np.ndarray:
    """Burn a path of the given width (pixels) into a boolean raster."""
    mask = np.zeros(shape, dtype=bool)
    rr = np.clip(np.round(points[:, 0]).astype(int), 0, shape[0] - 1)
    cc = np.clip(np.round(points[:, 1]).astype(int), 0, shape[1] - 1)
    mask[rr, cc] = True
    if width > 1:
        dist = ndimage.distance_transform_edt(~mask)
        mask = dist <= width / 2.0
    return mask


def warped_voronoi(
    rng: np.random.Generator,
    shape: tuple[int, int],
    mean_parcel_px: float,
    warp_px: float,
) -> np.ndarray:
    """Label each pixel with the parcel (Voronoi cell) it falls into.

    Coordinates are displaced by a smooth random field before the nearest-seed
    lookup, which gives irregular, farm-like parcel outlines.

    Args:
        rng: Random generator.
        shape: Region shape (rows, cols).
        mean_parcel_px: Mean parcel size in pixels.
        warp_px: Amplitude of the boundary distortion in pixels.

    Returns:
        int32 array of parcel ids in ``[0, n_parcels)``.
    """
    from scipy.spatial import cKDTree

    rows, cols = shape
    n_seeds = max(4, int(rows * cols / mean_parcel_px))
    seeds = rng.uniform((0, 0), (rows, cols), size=(n_seeds, 2))
    tree = cKDTree(seeds)
    dr = warp_px * gaussian_field(rng, shape, sigma=6.0)
    dc = warp_px * gaussian_field(rng, shape, sigma=6.0)
    labels = np.empty(shape, dtype=np.int32)
    # Query row blocks to keep the coordinate arrays small on large regions.
    block = max(1, 2_000_000 // max(cols, 1))
    col_idx = np.arange(cols, dtype=np.float32)
    for r0 in range(0, rows, block):
        r1 = min(rows, r0 + block)
        rr = np.arange(r0, r1, dtype=np.float32)[:, None] + dr[r0:r1]
        cc = col_idx[None, :] + dc[r0:r1]
        _, idx = tree.query(np.column_stack([rr.ravel(), cc.ravel()]), workers=-1)
        labels[r0:r1] = idx.reshape(r1 - r0, cols)
    return labels


def threshold_for_fraction(
    score: np.ndarray, fraction: float, where: np.ndarray | None = None
) -> float:
    """Score threshold above which ``fraction`` of the region (or ``where``) lies."""
    values = score[where] if where is not None else score.ravel()
    if values.size == 0 or fraction <= 0:
        return float("inf")
    return float(np.quantile(values, 1.0 - min(fraction, 1.0)))
