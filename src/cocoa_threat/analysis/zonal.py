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

from cocoa_threat.geo.grid import GridSpec, rasterize_window

ALL_DISTRICTS = "all districts"


def zones_of(districts: Any, grid: GridSpec, window: Any) -> np.ndarray:
    """The zone of every pixel of a window: 0 outside every district, else 1 + its row."""
    return rasterize_window(districts.geometry, grid, window)


def count_by_zone(zones: np.ndarray, codes: np.ndarray, n_zones: int, n_codes: int) -> np.ndarray:
    """(n_zones, n_codes) pixel counts of category ``codes`` (ints) in each zone."""
    flat = zones.astype(np.int64) * n_codes + codes.astype(np.int64)
    return np.bincount(flat.ravel(), minlength=n_zones * n_codes).reshape(n_zones, n_codes)


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
