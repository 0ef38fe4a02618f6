"""Gaseous mercury over the land-use grid: the surface, cocoa per concentration class, decay.

Concentrations are log-normal: surfaces are interpolated in log space.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from rasterio.windows import Window
from scipy import ndimage
from scipy.optimize import curve_fit
from scipy.spatial import cKDTree

from cocoa_threat.analysis.interpolation import Interpolator
from cocoa_threat.analysis.zonal import ALL_DISTRICTS, count_by_zone, zone_table, zones_of
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.compute import ComputeSettings, sum_windows, window_producer
from cocoa_threat.geo.grid import (
    GridSpec,
    RasterSource,
    iter_windows,
    same_grid_or_raise,
    window_transform,
)
from cocoa_threat.params.mercury import MercuryParams

logger = logging.getLogger(__name__)


def surface_producer(
    model: Interpolator,
    points_xy: np.ndarray,
    grid: GridSpec,
    resolution_m: float,
    max_distance_m: float,
    block: int,
    tags: dict[str, str],
    compute: ComputeSettings | None = None,
) -> RasterProducer:
    """Mean and median concentration (ng/m3) on ``grid`` from a fitted log-concentration model.

    Concentrations are log-normal: with ``mu`` and ``var`` the model's mean and
    variance of the log-concentration (of a new reading: for kriging with the
    nugget), the median is ``exp(mu)`` and the arithmetic mean, which chronic
    reference values compare with, ``exp(mu + var / 2)``. Both are evaluated on a
    coarse grid of ``resolution_m`` (in memory: (extent / resolution)^2 values) and
    resampled bilinearly (in log space) onto ``grid`` window by window. Pixels
    farther than ``max_distance_m`` from every survey point are not covered: NaN,
    not a guess. The windows run here or on Dask (``compute``).

    Returns:
        A two-band float32 producer: the mean and the median (:func:`band_names`).
    """
    px = abs(grid.transform[0])
    step = max(1, int(round(resolution_m / px)))
    cols, rows = -(-grid.width // step), -(-grid.height // step)
    x0, y0 = grid.transform[2], grid.transform[5]
    cx = x0 + (np.arange(cols) + 0.5) * step * px
    cy = y0 - (np.arange(rows) + 0.5) * step * px
    mu = np.empty((rows, cols), dtype=np.float64)
    var = np.empty((rows, cols), dtype=np.float64)
    for r0 in range(0, rows, 256):
        gx, gy = np.meshgrid(cx, cy[r0 : r0 + 256])
        m, v = model.predict(np.column_stack([gx.ravel(), gy.ravel()]))
        mu[r0 : r0 + 256], var[r0 : r0 + 256] = m.reshape(gx.shape), v.reshape(gx.shape)
    work = partial(
        surface_window,
        coarse=(mu, var),
        step=step,
        tree=cKDTree(np.asarray(points_xy, float)),
        grid=grid,
        max_distance_m=max_distance_m,
    )
    return window_producer(
        work,
        grid,
        block,
        compute,
        what="mercury surface window",
        count=2,
        dtype="float32",
        nodata=float("nan"),
        band_names=band_names(model),
        tags={**tags, "not_covered": f"NaN beyond {max_distance_m:g} m from the survey"},
    )


def band_names(model: Interpolator) -> list[str]:
    """The surface's band descriptions: what each band is, and what ``var`` is."""
    return [
        f"gem_mean_ng_m3 = exp(mu + var / 2), var = {model.variance_note}",
        "gem_median_ng_m3 = exp(mu)",
    ]


def surface_window(
    window: Window,
    coarse: tuple[np.ndarray, np.ndarray],
    step: int,
    tree: cKDTree,
    grid: GridSpec,
    max_distance_m: float,
) -> np.ndarray:
    """Mean and median (2, rows, cols) of one window from the coarse log-space grids."""
    rr = (np.arange(window.height) + window.row_off + 0.5) / step - 0.5
    cc = (np.arange(window.width) + window.col_off + 0.5) / step - 0.5
    gr, gc = np.meshgrid(rr, cc, indexing="ij")
    m = ndimage.map_coordinates(coarse[0], [gr, gc], order=1, mode="nearest")
    v = ndimage.map_coordinates(coarse[1], [gr, gc], order=1, mode="nearest")
    xs, ys = window_transform(grid, window) * np.meshgrid(
        np.arange(window.width) + 0.5, np.arange(window.height) + 0.5
    )
    near, _ = tree.query(np.column_stack([np.ravel(xs), np.ravel(ys)]))
    covered = near.reshape(m.shape) <= max_distance_m
    out = np.stack([np.exp(m + np.maximum(v, 0.0) / 2), np.exp(m)])
    return np.where(covered, out, np.nan).astype(np.float32)


def exposure_window(
    window: Window,
    land: RasterSource,
    surface: RasterSource,
    districts: gpd.GeoDataFrame,
    cocoa: int,
    breaks: list[float],
) -> tuple[np.ndarray]:
    """One window's cocoa pixels per (district, concentration class), int64."""
    n_d, n_c = len(districts) + 1, len(breaks) + 2
    sel = land.read(window, bands=[1])[0] == cocoa
    if not sel.any():
        return (np.zeros((n_d, n_c), np.int64),)
    conc = surface.read(window, bands=[1])[0][sel]
    cls = np.where(np.isfinite(conc), np.digitize(conc, breaks, right=True), n_c - 1)
    return (count_by_zone(zones_of(districts, land.grid, window)[sel], cls, n_d, n_c),)


def exposure_counts(
    land: RasterSource,
    surface: RasterSource,
    districts: gpd.GeoDataFrame,
    cocoa: int,
    breaks: list[float],
    block: int,
    compute: ComputeSettings | None = None,
) -> np.ndarray:
    """(districts + 1, classes + 1) cocoa pixels per class of mean concentration and district.

    The last class is "not covered" (no surface value: too far from the survey).
    Windows run here or on Dask (``compute``); their int64 counts are summed.
    """
    same_grid_or_raise(land, surface, "Land-use map and mercury surface")
    work = partial(
        exposure_window, land=land, surface=surface, districts=districts, cocoa=cocoa, breaks=breaks
    )
    (counts,) = sum_windows(
        work,
        iter_windows(land.grid.width, land.grid.height, block),
        (np.zeros((len(districts) + 1, len(breaks) + 2), np.int64),),
        compute,
        what="mercury exposure window",
        grid=land.grid,
    )
    return counts


def exposure_table(
    land: RasterSource,
    surface: RasterSource,
    districts: gpd.GeoDataFrame,
    cocoa: int,
    p: MercuryParams,
    compute: ComputeSettings | None = None,
) -> pd.DataFrame:
    """Cocoa hectares and percent of the district's cocoa in each concentration class.

    Classes by ``p.class_breaks_ng_m3`` (named ``p.class_labels``) plus "not
    covered" (farther than ``p.max_distance_m`` from the survey); rows for every
    district, the area outside them (``p.outside_label``) and an ``all districts``
    total first. Areas come from int64 pixel counts (:func:`exposure_counts`).
    """
    counts = exposure_counts(
        land, surface, districts, cocoa, p.class_breaks_ng_m3, p.block_size, compute
    )
    labels = [*p.class_labels, f"not covered (> {p.max_distance_m:g} m from the survey)"]
    return zone_table(
        counts,
        [p.outside_label, *districts["district"].tolist()],
        [{"concentration_class": label} for label in labels],
        land.grid.hectares(1),
        "cocoa_ha",
        "percent_of_district_cocoa",
        total_label=ALL_DISTRICTS,
    )


def nearest_mining_m(
    points: gpd.GeoDataFrame, land: RasterSource, mining: int, radius_m: float, nodata: int
) -> np.ndarray:
    """Distance of each point to the nearest mining pixel, NaN beyond ``radius_m``."""
    px = land.grid.pixel_area**0.5
    r = int(np.ceil(radius_m / px))
    inv = ~land.grid.affine
    out = np.full(len(points), np.nan)
    for i, geom in enumerate(points.geometry):
        col, row = inv * (geom.x, geom.y)
        window = Window(int(col) - r, int(row) - r, 2 * r + 1, 2 * r + 1)
        block = land.read(window, bands=[1], fill=nodata)[0] == mining
        if not block.any():
            continue
        rr, cc = np.nonzero(block)
        xs, ys = window_transform(land.grid, window) * (cc + 0.5, rr + 0.5)
        d = np.hypot(np.asarray(xs) - geom.x, np.asarray(ys) - geom.y).min()
        out[i] = d if d <= radius_m else np.nan
    return out


def decay_curve(d: np.ndarray, background: float, amplitude: float, length: float) -> np.ndarray:
    """log(C) of ``C = background + amplitude * exp(-d / length)``."""
    return np.log(background + amplitude * np.exp(-d / length))


def fit_distance_decay(
    d: np.ndarray, c: np.ndarray, background: float, max_length_m: float, pixel_m: float
) -> tuple[list[float], float, dict[str, Any]]:
    """Fit the decay to log-concentration, the background within a factor 3 of ``background``.

    Returns:
        (background, amplitude, length), R² in log space, and the table row.
    """
    ok = np.isfinite(d)
    near = ok & (d < 20 * pixel_m)
    start = [
        background,
        float(np.median(c[near])) if near.any() else float(np.nanmax(c)),
        25 * pixel_m,
    ]
    params, r2 = list(start), float("nan")
    try:
        fitted, _ = curve_fit(
            decay_curve,
            d[ok],
            np.log(c[ok]),
            p0=start,
            bounds=([background / 3, 0.0, 2 * pixel_m], [background * 3, 1e6, max_length_m]),
            maxfev=20000,
        )
        params = [float(v) for v in fitted]
        resid = np.log(c[ok]) - decay_curve(d[ok], *params)
        r2 = 1 - float((resid**2).sum()) / float(
            ((np.log(c[ok]) - np.log(c[ok]).mean()) ** 2).sum()
        )
    except (RuntimeError, ValueError) as exc:
        logger.warning("Distance-decay fit failed (%s)", exc)
    row = {
        "background_ng_m3": params[0],
        "amplitude_ng_m3": params[1],
        "decay_length_m": params[2],
        "half_distance_m": params[2] * np.log(2),
        "r2_log": r2,
        "n_points": int(ok.sum()),
        "n_beyond_search_radius": int((~ok).sum()),
    }
    return params, r2, row
