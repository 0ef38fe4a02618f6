"""Nodes of the risk pipeline: a 0-1 risk score for every cocoa pixel of the latest map."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rasterio.windows import Window

from cocoa_threat.analysis.risk import FACTORS, perturbed_weights, risk_factors, risk_score
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.colours import colour_table
from cocoa_threat.geo.grid import (
    RasterSource,
    expand,
    iter_windows,
    rasterize_window,
    same_grid_or_raise,
)
from cocoa_threat.geo.vrt import MosaicSpec, tile_mosaic
from cocoa_threat.params import LandUse, land_use_params, require_cocoa
from cocoa_threat.pipelines.risk.params import RiskParams, risk_params, risk_spec
from cocoa_threat.reporting.maps import plot_class_raster

logger = logging.getLogger(__name__)


def build_dem_mosaic(tile_manifest: pd.DataFrame, risk: dict[str, Any]) -> MosaicSpec:
    """A mosaic of the tiles' elevation (copied into the model input at ingestion).

    Returns:
        The mosaic on the land-use grid (saved by the catalog as a VRT with
        relative paths, read back lazily).
    """
    p = risk_params(risk)
    return tile_mosaic(tile_manifest, "dem_path", 1, p.dem_nodata, ["DEM"])


def _risk_windows(
    before: RasterSource,
    after: RasterSource,
    mercury_surface: RasterSource,
    dem: RasterSource,
    p: RiskParams,
    lu: LandUse,
) -> Iterator[tuple[Window, dict[str, np.ndarray], np.ndarray]]:
    """Factors of each window, computed on the window plus a halo, then cropped."""
    for other, what in (
        (after, "land-use maps"),
        (mercury_surface, "mercury surface"),
        (dem, "DEM mosaic"),
    ):
        same_grid_or_raise(before, other, f"Risk inputs ({what})")
    spec = risk_spec(p, lu)
    halo = spec.halo
    for window in iter_windows(before.grid.width, before.grid.height, p.block_size):
        big = expand(window, halo)
        a = before.read(big, bands=[1], fill=lu.nodata)[0]
        b = after.read(big, bands=[1], fill=lu.nodata)[0]
        hg = mercury_surface.read(big, bands=[1], fill=p.mercury.background_ng_m3)[0]
        z = dem.read(big, bands=[1], fill=p.dem_nodata)[0].astype(np.float64)
        z[(z == p.dem_nodata) | ~np.isfinite(z)] = np.nan
        factors = risk_factors(a, b, hg, np.nan_to_num(z, nan=-1e9), spec)
        h, w = int(window.height), int(window.width)
        crop = {k: v[halo : halo + h, halo : halo + w] for k, v in factors.items()}
        no_dem = np.isnan(z[halo : halo + h, halo : halo + w])
        crop["downstream"] = np.where(no_dem, 0.0, crop["downstream"]).astype(np.float32)
        yield window, crop, b[halo : halo + h, halo : halo + w]


def _classify(score: np.ndarray, breaks: list[float]) -> np.ndarray:
    return np.digitize(score, breaks, right=False).astype(np.uint8)


def risk_tables(
    before_map: RasterSource,
    after_map: RasterSource,
    mercury_surface: RasterSource,
    dem_mosaic: RasterSource,
    districts: gpd.GeoDataFrame,
    risk: dict[str, Any],
    land_use: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cocoa area per risk class and district, and how class areas move with the weights.

    Returns:
        ``risk_by_district`` (district, risk_class, cocoa_ha, percent) and
        ``risk_sensitivity`` (one row per weight set: the weights, hectares per
        class and the change against the baseline).
    """
    p, lu = risk_params(risk), land_use_params(land_use)
    cocoa = require_cocoa(lu, "The risk pipeline")
    scenarios = perturbed_weights(p.weights, p.sensitivity_change)
    n_c, n_d = len(p.class_labels), len(districts) + 1
    by_district = np.zeros((n_d, n_c), dtype=np.int64)
    by_scenario = np.zeros((len(scenarios), n_c), dtype=np.int64)
    for window, factors, land in _risk_windows(
        before_map, after_map, mercury_surface, dem_mosaic, p, lu
    ):
        sel = land == cocoa
        if not sel.any():
            continue
        d = rasterize_window(districts.geometry, before_map.grid, window)[sel]
        picked = {k: v[sel] for k, v in factors.items()}
        for i, (_, weights) in enumerate(scenarios):
            cls = _classify(risk_score(picked, weights), p.class_breaks)
            by_scenario[i] += np.bincount(cls, minlength=n_c)
            if i == 0:
                by_district += np.bincount(d * n_c + cls, minlength=n_d * n_c).reshape(n_d, n_c)
    ha = before_map.grid.hectares(1)
    names = [p.outside_label, *districts["district"].tolist()]
    rows = []
    for name, counts in [
        ("all districts", by_district[1:].sum(axis=0)),
        *zip(names, by_district, strict=True),
    ]:
        if counts.sum() == 0:
            continue
        for label, n in zip(p.class_labels, counts, strict=True):
            rows.append(
                {
                    "district": name,
                    "risk_class": label,
                    "cocoa_ha": float(n * ha),
                    "percent_of_district_cocoa": float(100 * n / counts.sum()),
                }
            )
    base = by_scenario[0] * ha
    sens = []
    for (label, weights), counts in zip(scenarios, by_scenario, strict=True):
        row: dict[str, Any] = {"scenario": label, **{f"w_{k}": weights[k] for k in FACTORS}}
        for c, value, ref in zip(p.class_labels, counts * ha, base, strict=True):
            row[f"{c}_ha"] = float(value)
            row[f"{c}_change_ha"] = float(value - ref)
        sens.append(row)
    summary = ", ".join(f"{c} {v:.0f} ha" for c, v in zip(p.class_labels, base, strict=True))
    logger.info("Cocoa by risk class: %s", summary)
    return pd.DataFrame(rows), pd.DataFrame(sens)


def make_risk_map(
    before_map: RasterSource,
    after_map: RasterSource,
    mercury_surface: RasterSource,
    dem_mosaic: RasterSource,
    risk: dict[str, Any],
    land_use: dict[str, Any],
) -> RasterProducer:
    """Risk class of every cocoa pixel (0 low ... 3 very high, 255 elsewhere), with the score.

    Returns:
        A lazy class raster (uint8, colour table) written as a COG, with the
        0-1 score (float32, nodata -1) beside it as ``<name>_score.tif``.
    """
    p, lu = risk_params(risk), land_use_params(land_use)
    cocoa = require_cocoa(lu, "The risk pipeline")

    def blocks() -> Iterator[tuple[Window, np.ndarray, dict[str, np.ndarray]]]:
        for window, factors, land in _risk_windows(
            before_map, after_map, mercury_surface, dem_mosaic, p, lu
        ):
            score = risk_score(factors, p.weights)
            sel = land == cocoa
            cls = np.where(sel, _classify(score, p.class_breaks), lu.nodata).astype(np.uint8)
            yield window, cls[None], {"score": np.where(sel, score, -1.0)[None].astype(np.float32)}

    colormap = colour_table(dict(enumerate(p.class_colours)), lu.nodata)
    score = RasterProducer(
        grid=before_map.grid,
        count=1,
        dtype="float32",
        nodata=-1.0,
        blocks=blocks,
        band_names=["risk_score"],
    )
    return RasterProducer(
        grid=before_map.grid,
        count=1,
        dtype="uint8",
        nodata=lu.nodata,
        blocks=blocks,
        band_names=["risk_class"],
        colormap=colormap,
        tags={f"class_{i}": c for i, c in enumerate(p.class_labels)}
        | {f"weight_{k}": str(v) for k, v in p.weights.items()},
        extras={"score": score},
    )


def plot_risk_map(
    risk_map: RasterSource,
    districts: gpd.GeoDataFrame,
    risk: dict[str, Any],
    land_use: dict[str, Any],
) -> Figure:
    """Quicklook of the risk classes of cocoa with legend, scale bar and districts."""
    p, lu = risk_params(risk), land_use_params(land_use)
    return plot_class_raster(
        risk_map,
        values=list(range(len(p.class_labels))),
        labels=[f"{c} risk" for c in p.class_labels],
        colours=p.class_colours,
        title="Cocoa risk from mining",
        districts=districts,
        max_size=p.quicklook_max_size,
        nodata=lu.nodata,
    )
