"""Nodes of the mercury pipeline: survey checks, concentration surface, cocoa exposure."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from pyproj import CRS
from pyproj.exceptions import CRSError
from rasterio.windows import Window
from scipy import ndimage
from scipy.optimize import curve_fit
from shapely.geometry import box

from cocoa_threat.analysis.interpolation import IDW, GaussianProcess, Interpolator, cross_validate
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import (
    RasterSource,
    iter_windows,
    rasterize_window,
    same_grid_or_raise,
    window_transform,
)
from cocoa_threat.params import land_use_params, require_cocoa
from cocoa_threat.pipelines.mercury.params import MercuryParams, mercury_params
from cocoa_threat.reporting.maps import add_scale_bar

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- #
# Survey validation
# --------------------------------------------------------------------------- #
def _rows(index: pd.Index) -> str:
    rows = [int(i) + 2 for i in index[:20]]  # file line numbers (header = line 1)
    return ", ".join(map(str, rows)) + (" ..." if len(index) > 20 else "")


def validate_survey(
    mercury_survey_raw: pd.DataFrame, after_map: RasterSource, mercury: dict[str, Any]
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Check the survey and say what was done about each problem.

    Missing, non-numeric or negative values and points outside the mapped
    region are dropped; duplicates (same place, time and value) are dropped but
    one; values below the detection limit are set as ``mercury.below_detection``
    says. Only an unusable file is an error.

    Args:
        mercury_survey_raw: The survey table (or a GeoDataFrame).
        after_map: The latest land-use map (for the region and its CRS).
        mercury: The ``mercury`` parameters.

    Returns:
        ``mercury_points`` (valid points in the maps' CRS) and
        ``mercury_validation_report`` (issue, n_rows, file line numbers, action).

    Raises:
        ValueError: Missing columns, an unknown CRS, or no usable row.
    """
    p = mercury_params(mercury)
    s = p.survey
    table = pd.DataFrame(mercury_survey_raw).reset_index(drop=True)
    geo = isinstance(mercury_survey_raw, gpd.GeoDataFrame)
    needed = [s.value_column] + ([] if geo else [s.x_column, s.y_column])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(
            f"The mercury survey has no column(s) {missing} (columns: {list(table.columns)}); "
            f"set mercury.survey.x_column / y_column / value_column"
        )
    if geo:
        crs = mercury_survey_raw.crs
        xy = np.column_stack([mercury_survey_raw.geometry.x, mercury_survey_raw.geometry.y])
    else:
        try:
            crs = CRS.from_user_input(s.crs) if s.crs else None
        except CRSError as exc:
            raise ValueError(f"mercury.survey.crs {s.crs!r} is not a known CRS: {exc}") from None
        xy = table[[s.x_column, s.y_column]].apply(pd.to_numeric, errors="coerce").to_numpy()
    if crs is None:
        raise ValueError("The mercury survey has no CRS; set mercury.survey.crs (e.g. EPSG:4326)")
    report = []
    values = pd.to_numeric(table[s.value_column], errors="coerce")
    bad_value = values.isna() | ~np.isfinite(xy).all(axis=1)
    report.append(
        ("missing or non-numeric value or coordinates", table.index[bad_value], "dropped")
    )
    negative = ~bad_value & (values < 0)
    report.append(("negative value", table.index[negative], "dropped"))
    keep = ~bad_value & ~negative
    points = gpd.GeoDataFrame(
        table.assign(concentration_ng_m3=values),
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    ).to_crs(after_map.grid.crs)
    inside = points.geometry.within(box(*after_map.grid.bounds))
    outside = keep & ~inside
    report.append(("outside the mapped region", table.index[outside], "dropped"))
    keep &= inside
    key_cols = [
        c for c in (s.x_column, s.y_column, s.time_column, s.value_column) if c and c in table
    ]
    dup = keep & table.duplicated(subset=key_cols or None, keep="first")
    report.append(("duplicate of an earlier row", table.index[dup], "dropped"))
    keep &= ~dup
    below = keep & (values < p.detection_limit_ng_m3)
    if p.below_detection == "drop":
        keep &= ~below
        action = "dropped"
    else:
        sub = (
            p.detection_limit_ng_m3 / 2
            if p.below_detection == "half_limit"
            else p.detection_limit_ng_m3
        )
        points.loc[below, "concentration_ng_m3"] = sub
        action = f"set to {sub:g} ng/m3 ({p.below_detection})"
    report.append(
        (
            f"below the detection limit ({p.detection_limit_ng_m3:g} ng/m3)",
            table.index[below],
            action,
        )
    )
    table_report = pd.DataFrame(
        [
            {"issue": i, "n_rows": len(idx), "file_lines": _rows(idx), "action": a}
            for i, idx, a in report
        ]
    )
    usable = points[keep.to_numpy()].copy()
    if len(usable) < 3:
        problems = "; ".join(
            f"{r.issue}: lines {r.file_lines}" for r in table_report.itertuples() if r.n_rows
        )
        raise ValueError(
            f"The mercury survey has {len(usable)} usable row(s) of {len(table)} (need at least 3): "
            f"{problems or 'empty file'}"
        )
    for r in table_report.itertuples():
        if r.n_rows:
            logger.warning(
                "Mercury survey: %d row(s) %s (lines %s): %s",
                r.n_rows,
                r.issue,
                r.file_lines,
                r.action,
            )
    logger.info("Mercury survey: %d of %d rows usable", len(usable), len(table))
    usable["log_concentration"] = np.log(usable["concentration_ng_m3"])
    return usable[["concentration_ng_m3", "log_concentration", "geometry"]].reset_index(
        drop=True
    ), table_report


# --------------------------------------------------------------------------- #
# Surface
# --------------------------------------------------------------------------- #
def _methods(p: MercuryParams) -> dict[str, Interpolator]:
    i = p.interpolation
    available: dict[str, Interpolator] = {
        "idw": IDW(power=i.idw_power, k=i.idw_neighbours),
        "gaussian_process": GaussianProcess(length_scale_m=i.gp_length_scale_m),
    }
    return {name: available[name] for name in i.methods}


def interpolate_surface(
    mercury_points: gpd.GeoDataFrame, after_map: RasterSource, mercury: dict[str, Any]
) -> tuple[RasterProducer, pd.DataFrame]:
    """A concentration surface (ng/m3) on the land-use grid, by the best method in LOO CV.

    Log-concentration is interpolated (concentrations are log-normal) on a
    ``mercury.interpolation.resolution_m`` grid and resampled bilinearly to the
    10 m grid window by window.

    Returns:
        ``mercury_surface`` (lazy float32 raster) and ``mercury_interpolation_cv``
        (method, rmse/mae/bias/r2 of log-concentration, chosen).
    """
    p = mercury_params(mercury)
    xy = np.column_stack([mercury_points.geometry.x, mercury_points.geometry.y])
    z = mercury_points["log_concentration"].to_numpy()
    methods = _methods(p)
    cv = pd.DataFrame([{"method": name, **cross_validate(m, xy, z)} for name, m in methods.items()])
    best = cv.loc[cv["rmse"].idxmin(), "method"]
    cv["chosen"] = cv["method"] == best
    cv["n_points"] = len(z)
    model = methods[best].fit(xy, z)
    logger.info(
        "Mercury interpolation LOO RMSE (log): %s; using %s",
        dict(zip(cv["method"], cv["rmse"].round(3), strict=True)),
        best,
    )

    grid = after_map.grid
    px = abs(grid.transform[0])
    step = max(1, int(round(p.interpolation.resolution_m / px)))
    cols, rows = -(-grid.width // step), -(-grid.height // step)
    x0, y0 = grid.transform[2], grid.transform[5]
    cx = x0 + (np.arange(cols) + 0.5) * step * px
    cy = y0 - (np.arange(rows) + 0.5) * step * px
    coarse = np.empty((rows, cols), dtype=np.float32)
    for r0 in range(0, rows, 256):
        gx, gy = np.meshgrid(cx, cy[r0 : r0 + 256])
        coarse[r0 : r0 + 256] = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(
            gx.shape
        )

    def blocks() -> Iterator[tuple[Window, np.ndarray, dict[str, np.ndarray]]]:
        for window in iter_windows(grid.width, grid.height, p.block_size):
            rr = (np.arange(window.height) + window.row_off + 0.5) / step - 0.5
            cc = (np.arange(window.width) + window.col_off + 0.5) / step - 0.5
            gr, gc = np.meshgrid(rr, cc, indexing="ij")
            logc = ndimage.map_coordinates(coarse, [gr, gc], order=1, mode="nearest")
            yield window, np.exp(logc)[None].astype(np.float32), {}

    producer = RasterProducer(
        grid=grid,
        count=1,
        dtype="float32",
        nodata=None,
        blocks=blocks,
        band_names=["gem_ng_m3"],
        tags={"units": "ng/m3", "method": str(best), "quantity": "gaseous elemental mercury"},
    )
    return producer, cv


# --------------------------------------------------------------------------- #
# Exposure and distance decay
# --------------------------------------------------------------------------- #
def cocoa_exposure(
    after_map: RasterSource,
    mercury_surface: RasterSource,
    districts: gpd.GeoDataFrame,
    mercury: dict[str, Any],
    land_use: dict[str, Any],
) -> pd.DataFrame:
    """Cocoa area of the latest map in each concentration class, per district.

    Returns:
        ``mercury_exposure_by_district``: district, concentration_class,
        cocoa_ha, percent_of_district_cocoa (plus an ``all districts`` total).
    """
    p, lu = mercury_params(mercury), land_use_params(land_use)
    cocoa = require_cocoa(lu, "Mercury exposure of cocoa")
    same_grid_or_raise(after_map, mercury_surface, "Land-use map and mercury surface")
    n_d, n_c = len(districts) + 1, len(p.class_labels)
    counts = np.zeros((n_d, n_c), dtype=np.int64)
    for window in iter_windows(after_map.grid.width, after_map.grid.height, p.block_size):
        land = after_map.read(window, bands=[1])[0]
        conc = mercury_surface.read(window, bands=[1])[0]
        d = rasterize_window(districts.geometry, after_map.grid, window)
        sel = land == cocoa
        cls = np.digitize(conc[sel], p.class_breaks_ng_m3, right=True)
        counts += np.bincount(d[sel] * n_c + cls, minlength=n_d * n_c).reshape(n_d, n_c)
    ha = after_map.grid.hectares(counts)
    names = [p.outside_label, *districts["district"].tolist()]
    rows = []
    for name, row in [("all districts", ha[1:].sum(axis=0)), *zip(names, ha, strict=True)]:
        if row.sum() == 0:
            continue
        for label, value in zip(p.class_labels, row, strict=True):
            rows.append(
                {
                    "district": name,
                    "concentration_class": label,
                    "cocoa_ha": float(value),
                    "percent_of_district_cocoa": float(100 * value / row.sum()),
                }
            )
    table = pd.DataFrame(rows)
    total = table[table["district"] == "all districts"]
    logger.info(
        "Cocoa by mercury class: %s",
        ", ".join(f"{r.concentration_class} {r.cocoa_ha:.0f} ha" for r in total.itertuples()),
    )
    return table


def _nearest_mining_m(
    points: gpd.GeoDataFrame, land: RasterSource, mining: int, radius_m: float
) -> np.ndarray:
    px = land.grid.pixel_area**0.5
    r = int(np.ceil(radius_m / px))
    inv = ~land.grid.affine
    out = np.full(len(points), np.nan)
    for i, geom in enumerate(points.geometry):
        col, row = inv * (geom.x, geom.y)
        window = Window(int(col) - r, int(row) - r, 2 * r + 1, 2 * r + 1)
        block = land.read(window, bands=[1], fill=255)[0] == mining
        if not block.any():
            continue
        rr, cc = np.nonzero(block)
        t = window_transform(land.grid, window)
        xs, ys = t * (cc + 0.5, rr + 0.5)
        d = np.hypot(np.asarray(xs) - geom.x, np.asarray(ys) - geom.y).min()
        out[i] = d if d <= radius_m else np.nan
    return out


def _decay(d: np.ndarray, background: float, amplitude: float, length: float) -> np.ndarray:
    return np.log(background + amplitude * np.exp(-d / length))


def distance_decay(
    mercury_points: gpd.GeoDataFrame,
    after_map: RasterSource,
    mercury: dict[str, Any],
    land_use: dict[str, Any],
) -> tuple[pd.DataFrame, Figure]:
    """Concentration against distance to the nearest mining pixel, with a fitted decay.

    Fits ``C = background + A exp(-d / L)`` to log-concentration, with the
    background held within a factor 3 of ``mercury.background_ng_m3``. Plumes
    come from burning sites, not from every mined pixel, so expect a wide
    scatter near mining (a low R²).

    Returns:
        ``mercury_distance_decay`` (fitted parameters and fit quality) and a figure.
    """
    p, lu = mercury_params(mercury), land_use_params(land_use)
    mining = lu.mining
    d = _nearest_mining_m(mercury_points, after_map, mining, p.decay_search_radius_m)
    c = mercury_points["concentration_ng_m3"].to_numpy()
    ok = np.isfinite(d)
    near = ok & (d < 200)
    start_amp = float(np.median(c[near])) if near.any() else float(np.nanmax(c))
    px = after_map.grid.pixel_area**0.5
    params = [p.background_ng_m3, start_amp, 250.0]
    try:
        params, _ = curve_fit(
            _decay,
            d[ok],
            np.log(c[ok]),
            p0=params,
            bounds=(
                [p.background_ng_m3 / 3, 0.0, 2 * px],
                [p.background_ng_m3 * 3, 1e6, p.decay_search_radius_m],
            ),
            maxfev=20000,
        )
        resid = np.log(c[ok]) - _decay(d[ok], *params)
        r2 = 1 - float((resid**2).sum()) / float(
            ((np.log(c[ok]) - np.log(c[ok]).mean()) ** 2).sum()
        )
    except (RuntimeError, ValueError) as exc:
        logger.warning("Distance-decay fit failed (%s)", exc)
        r2 = float("nan")
    table = pd.DataFrame(
        [
            {
                "background_ng_m3": params[0],
                "amplitude_ng_m3": params[1],
                "decay_length_m": params[2],
                "half_distance_m": params[2] * np.log(2),
                "r2_log": r2,
                "n_points": int(ok.sum()),
                "n_beyond_search_radius": int((~ok).sum()),
            }
        ]
    )
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.scatter(d[ok], c[ok], s=10, alpha=0.6, color="#4d4d4d", label="survey points")
    grid = np.linspace(0, np.nanmax(d[ok]) if ok.any() else 1.0, 200)
    ax.plot(grid, np.exp(_decay(grid, *params)), color="#d7301f", label="fitted decay")
    for value, name in zip(p.class_breaks_ng_m3[1:], p.class_labels[2:], strict=False):
        ax.axhline(value, color="grey", lw=0.6, ls="--")
        ax.text(grid[-1], value, name.split("(")[0].strip(), fontsize=7, ha="right", va="bottom")
    ax.set_yscale("log")
    ax.set_xlabel("distance to nearest mining pixel (m)")
    ax.set_ylabel("gaseous mercury (ng/m3)")
    ax.set_title(f"Mercury vs distance to mining (L = {params[2]:.0f} m)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return table, fig


def plot_mercury_surface(
    mercury_surface: RasterSource,
    mercury_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    mercury: dict[str, Any],
) -> Figure:
    """Map of the concentration surface (log colour scale), survey points and districts."""
    p = mercury_params(mercury)
    data = mercury_surface.read_overview(max_size=1000)
    minx, miny, maxx, maxy = mercury_surface.grid.bounds
    fig, ax = plt.subplots(figsize=(8, 8 * (maxy - miny) / max(maxx - minx, 1)))
    img = ax.imshow(
        data,
        extent=(minx, maxx, miny, maxy),
        origin="upper",
        cmap="magma_r",
        norm=LogNorm(
            vmin=max(p.background_ng_m3 / 2, float(np.nanmin(data))),
            vmax=max(float(np.nanmax(data)), 10),
        ),
    )
    ax.scatter(
        mercury_points.geometry.x,
        mercury_points.geometry.y,
        s=6,
        c="#1f78b4",
        label="survey points",
    )
    districts.to_crs(mercury_surface.grid.crs).boundary.plot(ax=ax, color="black", linewidth=0.7)
    fig.colorbar(img, ax=ax, shrink=0.7, label="gaseous elemental mercury (ng/m3)")
    ticks = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:.0f}")
    ax.xaxis.set_major_formatter(ticks)
    ax.yaxis.set_major_formatter(ticks)
    ax.set_xlabel(f"Easting (km, {mercury_surface.grid.crs})")
    ax.set_ylabel("Northing (km)")
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    add_scale_bar(ax, (minx, miny, maxx, maxy))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Gaseous mercury in air (interpolated)")
    fig.tight_layout()
    return fig
