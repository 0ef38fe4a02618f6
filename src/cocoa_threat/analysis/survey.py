"""A survey of gaseous elemental mercury, checked: what was wrong with which rows, and what was done.

Missing, non-numeric, non-finite or negative values and points outside the
mapped region are dropped; duplicates (same place, time and value) are dropped
but one; values below the detection limit are set as ``below_detection`` says.
Only an unusable file is an error: fewer usable readings than distinct places
needed (``mercury.survey.min_locations``; many readings at one place are one
place, as far as a surface is concerned).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import box

logger = logging.getLogger(__name__)


def _lines(index: pd.Index) -> str:
    """File line numbers of rows (the header is line 1)."""
    rows = [int(i) + 2 for i in index[:20]]
    return ", ".join(map(str, rows)) + (" ..." if len(index) > 20 else "")


def survey_points(raw: pd.DataFrame, survey: Any) -> tuple[pd.DataFrame, np.ndarray, Any]:
    """The table, its point coordinates and their CRS (from the file or ``mercury.survey``).

    Raises:
        ValueError: Missing columns or an unknown or missing CRS.
    """
    table = pd.DataFrame(raw).reset_index(drop=True)
    geo = isinstance(raw, gpd.GeoDataFrame)
    needed = [survey.value_column] + ([] if geo else [survey.x_column, survey.y_column])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(
            f"The mercury survey has no column(s) {missing} (columns: {list(table.columns)}); "
            f"set mercury.survey.x_column / y_column / value_column"
        )
    if geo:
        return table, np.column_stack([raw.geometry.x, raw.geometry.y]), raw.crs
    try:
        crs = CRS.from_user_input(survey.crs) if survey.crs else None
    except CRSError as exc:
        raise ValueError(f"mercury.survey.crs {survey.crs!r} is not a known CRS: {exc}") from None
    if crs is None:
        raise ValueError("The mercury survey has no CRS; set mercury.survey.crs (e.g. EPSG:4326)")
    xy = table[[survey.x_column, survey.y_column]].apply(pd.to_numeric, errors="coerce")
    return table, xy.to_numpy(), crs


def _below_detection(spec: Any) -> tuple[float | None, str]:
    """The value that replaces readings below the detection limit, and the action's words."""
    if spec.below_detection == "drop":
        return None, "dropped"
    limit = spec.detection_limit_ng_m3
    value = limit / 2 if spec.below_detection == "half_limit" else limit
    return value, f"set to {value:g} ng/m3 ({spec.below_detection})"


def clean_survey(
    raw: pd.DataFrame, spec: Any, crs_out: str, bounds: tuple[float, float, float, float]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Check the survey and say what was done about each problem.

    Args:
        raw: The survey table (or a GeoDataFrame).
        spec: The ``mercury`` parameters (survey columns, detection limit).
        crs_out: The maps' CRS.
        bounds: The mapped region in that CRS.

    Returns:
        The valid points in the maps' CRS (concentration and its log) and the
        report (issue, n_rows, file line numbers, action).

    Raises:
        ValueError: Missing columns, an unknown CRS, or no usable row.
    """
    s = spec.survey
    table, xy, crs = survey_points(raw, s)
    values = pd.to_numeric(table[s.value_column], errors="coerce").astype(float)
    bad = ~np.isfinite(values.to_numpy(float)) | ~np.isfinite(xy).all(axis=1)
    negative = ~bad & (values < 0)
    keep = ~bad & ~negative
    points = gpd.GeoDataFrame(
        table.assign(concentration_ng_m3=values),
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    ).to_crs(crs_out)
    inside = points.geometry.within(box(*bounds))
    outside = keep & ~inside
    keep &= inside
    key_cols = [c for c in (s.x_column, s.y_column, s.time_column, s.value_column) if c in table]
    dup = keep & table.duplicated(subset=key_cols or None, keep="first")
    keep &= ~dup
    below = keep & (values < spec.detection_limit_ng_m3)
    value, action = _below_detection(spec)
    if value is None:
        keep &= ~below
    else:
        points.loc[below, "concentration_ng_m3"] = value
    issues = [
        ("missing, non-numeric or non-finite value or coordinates", bad, "dropped"),
        ("negative value", negative, "dropped"),
        ("outside the mapped region", outside, "dropped"),
        ("duplicate of an earlier row", dup, "dropped"),
        (f"below the detection limit ({spec.detection_limit_ng_m3:g} ng/m3)", below, action),
    ]
    report = pd.DataFrame(
        [
            {"issue": i, "n_rows": int(m.sum()), "file_lines": _lines(table.index[m]), "action": a}
            for i, m, a in issues
        ]
    )
    usable = points[keep.to_numpy()].copy()
    _check_enough(usable, table, report, s.min_locations, s.location_tolerance_m)
    usable["log_concentration"] = np.log(usable["concentration_ng_m3"])
    columns = ["concentration_ng_m3", "log_concentration", "geometry"]
    return usable[columns].reset_index(drop=True), report


def distinct_locations(points: gpd.GeoDataFrame, tolerance_m: float) -> int:
    """How many distinct places the points are at (points closer than ``tolerance_m`` are one)."""
    if points.empty:
        return 0
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    cells = np.floor(xy / max(tolerance_m, 1e-9)).astype(np.int64)
    return len(np.unique(cells, axis=0))


def _check_enough(
    usable: gpd.GeoDataFrame,
    table: pd.DataFrame,
    report: pd.DataFrame,
    min_locations: int,
    tolerance_m: float,
) -> None:
    """Fail on too few distinct places (saying why); otherwise log what was done."""
    places = distinct_locations(usable, tolerance_m)
    if places < min_locations:
        problems = "; ".join(
            f"{r.issue}: lines {r.file_lines}" for r in report.itertuples() if r.n_rows
        )
        if table.empty:
            why = "the file has no data rows"
        else:
            why = problems or f"every usable reading is at {places} place(s)"
        raise ValueError(
            f"The mercury survey has {len(usable)} usable reading(s) of {len(table)} row(s) at "
            f"{places} distinct place(s); a surface needs at least {min_locations} "
            f"(mercury.survey.min_locations): {why}"
        )
    for r in report.itertuples():
        if r.n_rows:
            logger.warning(
                "Mercury survey: %d row(s) %s (lines %s): %s",
                r.n_rows,
                r.issue,
                r.file_lines,
                r.action,
            )
    logger.info(
        "Mercury survey: %d of %d rows usable, at %d distinct places",
        len(usable),
        len(table),
        places,
    )
