"""The composite of synthetic scenes computed with numpy alone (the tests' reference).

Each scene is put on the target grid by looking up, for every target pixel centre,
the scene pixel that contains it (nearest neighbour: exact for grids aligned with
the target, and what a warp gives elsewhere, up to pixels at the edge of a cloud);
clear observations are harmonised with the scene's known offset, the first clear
scene of each day is kept, and the median and count are taken over days.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from pyproj import Transformer

from tests.imagery.synthetic_stac import ASSETS, CLEAR, CRS, RES, SIZE, TWENTY_M, X0, Y0, Scene


def centres() -> tuple[np.ndarray, np.ndarray]:
    """x, y of the target pixel centres (rows, cols)."""
    cols, rows = np.meshgrid(np.arange(SIZE), np.arange(SIZE))
    return X0 + (cols + 0.5) * RES, Y0 - (rows + 0.5) * RES


def on_target(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """A scene's true harmonised values (band, rows, cols) and where it is clear."""
    x, y = centres()
    if scene.crs != CRS:
        x, y = Transformer.from_crs(CRS, scene.crs, always_xy=True).transform(x, y)
    values = np.full((len(ASSETS), SIZE, SIZE), np.nan)
    for b, name in enumerate(ASSETS):
        res = 20.0 if name in TWENTY_M else 10.0
        values[b] = _lookup(scene.true[name], scene.origin, res, x, y)
    clear = np.isin(_lookup(scene.scl.astype(float), scene.origin, 20.0, x, y), CLEAR)
    for name, (mask, _) in scene.special.items():
        res = 20.0 if name in TWENTY_M else 10.0
        clear &= _lookup(mask.astype(float), scene.origin, res, x, y) != 1
    return values, clear & np.all(np.isfinite(values), axis=0)


def _lookup(
    a: np.ndarray, origin: tuple[float, float], res: float, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    col = np.floor((x - origin[0]) / res).astype(int)
    row = np.floor((origin[1] - y) / res).astype(int)
    inside = (col >= 0) & (row >= 0) & (col < a.shape[1]) & (row < a.shape[0])
    out = np.full(x.shape, np.nan)
    out[inside] = a[row[inside], col[inside]]
    return out


def reference(
    scenes: list[Scene], clear: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Median (band, rows, cols; NaN where none) and count of clear days.

    Args:
        scenes: The scenes the composite should use.
        clear: Override of a scene's clear mask on the target grid (by id).
    """
    ordered = sorted(scenes, key=lambda s: (s.when, s.id))
    days: dict = {}
    for scene in ordered:
        values, ok = on_target(scene)
        if clear and scene.id in clear:
            ok = clear[scene.id]
        lon = -1.95  # the solar day of the test area
        day = (scene.when + timedelta(hours=lon / 15)).date()
        fused = days.setdefault(day, np.full_like(values, np.nan))
        take = ok & np.isnan(fused[0])
        fused[:, take] = values[:, take]
    stack = np.stack(list(days.values()))
    count = np.sum(~np.isnan(stack[:, 0]), axis=0)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(stack, axis=0)
    return median, count
