"""District x category tables: pixel counts per zone, turned into hectares and shares.

The one helper behind every "per district" table of the project (transitions,
cocoa by mercury class, cocoa by risk class): windows are counted with
:func:`count_by_zone` and the counts laid out by :func:`zone_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.geo.compute import ComputeSettings
from cocoa_threat.geo.grid import GridSpec, rasterize_window

ALL_DISTRICTS = "all districts"


def zones_of(districts: Any, grid: GridSpec, window: Any) -> np.ndarray:
    """The zone of every pixel of a window: 0 outside every district, else 1 + its row."""
    return rasterize_window(districts.geometry, grid, window)


def count_by_zone(zones: np.ndarray, codes: np.ndarray, n_zones: int, n_codes: int) -> np.ndarray:
    """(n_zones, n_codes) pixel counts of category ``codes`` (ints) in each zone."""
    flat = zones.astype(np.int64) * n_codes + codes.astype(np.int64)
    return np.bincount(flat.ravel(), minlength=n_zones * n_codes).reshape(n_zones, n_codes)


def mean_window(
    window: Any, source: Any, districts: Any, valid_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """One window's sum of band 1 (float64) and its count of valid pixels (int64) per zone."""
    n = len(districts) + 1
    values = source.read(window, bands=[1])[0].astype(np.float64)
    ok = np.isfinite(values) & (values >= valid_min)
    if not ok.any():
        return np.zeros(n), np.zeros(n, np.int64)
    zones = zones_of(districts, source.grid, window)[ok]
    return np.bincount(zones, weights=values[ok], minlength=n), np.bincount(zones, minlength=n)


def mean_by_zone(
    source: Any,
    districts: Any,
    block: int,
    valid_min: float = 0.0,
    compute: ComputeSettings | None = None,
) -> np.ndarray:
    """Mean of band 1 of a raster in each zone (0: outside), over pixels >= ``valid_min``.

    Windows run here or on Dask (``compute``); their sums are added in window order
    on both paths, so the means are the same.

    Returns:
        (districts + 1,) means; NaN where a zone has no valid pixel.
    """
    from functools import partial

    from cocoa_threat.geo.compute import sum_windows
    from cocoa_threat.geo.grid import iter_windows

    n = len(districts) + 1
    total, count = sum_windows(
        partial(mean_window, source=source, districts=districts, valid_min=valid_min),
        iter_windows(source.grid.width, source.grid.height, block),
        (np.zeros(n), np.zeros(n, np.int64)),
        compute,
        what="zonal mean window",
        grid=source.grid,
    )
    with np.errstate(invalid="ignore"):
        return total / count


def zone_table(
    counts: np.ndarray,
    zone_names: Sequence[str],
    categories: Sequence[dict[str, Any]],
    pixel_ha: float,
    area_column: str,
    percent_column: str,
    total_label: str | None = None,
) -> pd.DataFrame:
    """One row per zone and category: hectares and percent of the zone's counted area.

    Args:
        counts: (n_zones, n_categories) pixel counts; zone 0 is "outside".
        zone_names: Name of each zone (the first: outside every district).
        categories: The columns that name each category, e.g. ``{"risk_class": "high"}``.
        pixel_ha: Hectares per pixel.
        area_column: Name of the hectares column.
        percent_column: Name of the percent column.
        total_label: If given, a first zone summing every district (not outside).

    Returns:
        The table; zones with nothing counted are left out.
    """
    zones = list(zip(zone_names, counts, strict=True))
    if total_label is not None:
        zones.insert(0, (total_label, counts[1:].sum(axis=0)))
    rows = []
    for name, row in zones:
        total = row.sum()
        if total == 0:
            continue
        for columns, n in zip(categories, row, strict=True):
            rows.append(
                {
                    "district": name,
                    **columns,
                    area_column: float(n * pixel_ha),
                    percent_column: float(100 * n / total),
                }
            )
    return pd.DataFrame(rows)
