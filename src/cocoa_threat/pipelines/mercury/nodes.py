"""Nodes of the mercury pipeline: survey checks, concentration surface, cocoa exposure.

The science is in :mod:`cocoa_threat.analysis.survey`,
:mod:`cocoa_threat.analysis.interpolation` and :mod:`cocoa_threat.analysis.mercury`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.interpolation import block_cv_bias, choose_interpolator
from cocoa_threat.analysis.mercury import (
    exposure_table,
    fit_distance_decay,
    nearest_mining_m,
    surface_producer,
)
from cocoa_threat.analysis.survey import clean_survey
from cocoa_threat.analysis.zonal import ALL_DISTRICTS
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params import LandUse, require_cocoa
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.mercury import MercuryParams
from cocoa_threat.plots import mercury as mercury_plots
from cocoa_threat.provenance import raster_version, stamped
from cocoa_threat.raw import require

logger = logging.getLogger(__name__)


def validate_survey(
    mercury_survey_raw: pd.DataFrame, after_map: RasterSource, mercury: MercuryParams
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Check the survey and say what was done about each problem (see :mod:`~cocoa_threat.analysis.survey`).

    Returns:
        ``mercury_points`` (valid points in the maps' CRS) and
        ``mercury_validation_report`` (issue, n_rows, file line numbers, action).
    """
    p = mercury
    raw = require(mercury_survey_raw, "mercury_survey_raw (the mercury survey)")
    return clean_survey(raw, p, after_map.grid.crs, after_map.grid.bounds)


def interpolate_surface(
    mercury_points: gpd.GeoDataFrame,
    after_map: RasterSource,
    mercury: MercuryParams,
    compute: ComputeParams,
) -> tuple[RasterProducer, pd.DataFrame]:
    """Mean and median concentration surfaces (ng/m3) by the method best in spatial-block CV.

    Every method is scored by leave-one-out and by leaving out spatial blocks of
    ``mercury.interpolation.cv_block_size_m`` (refitted without them); the block
    CV chooses. Log-concentration is interpolated on a
    ``mercury.interpolation.resolution_m`` grid; cocoa farther than
    ``mercury.max_distance_m`` from the survey is not covered (windows: ``compute``).

    Returns:
        ``mercury_surface`` (two float32 bands: arithmetic mean and median) and
        ``mercury_interpolation_cv`` (method, scheme, rmse/mae/bias/r2 of
        log-concentration, folds, chosen).
    """
    p = mercury
    xy = np.column_stack([mercury_points.geometry.x, mercury_points.geometry.y])
    choice = choose_interpolator(xy, mercury_points["log_concentration"].to_numpy(), p)
    tags = {"units": "ng/m3", "method": choice.name, "quantity": "gaseous elemental mercury"}
    tags["block_cv_bias_log"] = f"{choice.block_bias_log:.4f}"
    producer = surface_producer(
        choice.model,
        xy,
        after_map.grid,
        p.interpolation.resolution_m,
        p.max_distance_m,
        p.block_size,
        tags,
        compute,
    )
    return producer, choice.cv


def cocoa_exposure(
    after_map: RasterSource,
    mercury_surface: RasterSource,
    mercury_interpolation_cv: pd.DataFrame,
    districts: gpd.GeoDataFrame,
    mercury: MercuryParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> pd.DataFrame:
    """Cocoa area of the latest map in each concentration class, per district.

    Windows run here or on Dask (``compute``); areas come from int64 pixel counts.
    Beside the areas, how biased the surface was where it had to predict away from
    the readings: the chosen method's spatial-block CV bias of log-concentration
    (mean of predicted - observed) and its factor ``exp(bias)`` (the held-out
    readings' geometric-mean ratio predicted / observed; below 1, the surface
    under-reads and the classes are too low).

    Returns:
        ``mercury_exposure_by_district``: district, concentration_class,
        cocoa_ha, percent_of_district_cocoa (with an ``all districts`` total first).
    """
    p, lu = mercury, land_use
    cocoa = require_cocoa(lu, "Mercury exposure of cocoa")
    table = exposure_table(after_map, mercury_surface, districts, cocoa, p, compute)
    table = table.assign(**block_cv_bias(mercury_interpolation_cv))
    total = table[table["district"] == ALL_DISTRICTS]
    logger.info(
        "Cocoa by mercury class: %s",
        ", ".join(f"{r.concentration_class} {r.cocoa_ha:.0f} ha" for r in total.itertuples()),
    )
    return stamped(table, raster_version(after_map))


def distance_decay(
    mercury_points: gpd.GeoDataFrame,
    after_map: RasterSource,
    mercury: MercuryParams,
    land_use: LandUse,
) -> tuple[pd.DataFrame, Figure]:
    """Concentration against distance to the nearest mining pixel, with a fitted decay.

    Fits ``C = background + A exp(-d / L)`` to log-concentration, with the
    background held within a factor 3 of ``mercury.background_ng_m3``. Plumes
    come from burning sites, not from every mined pixel, so expect a wide
    scatter near mining (a low R²).

    Returns:
        ``mercury_distance_decay`` (fitted parameters and fit quality) and a figure.
    """
    p, lu = mercury, land_use
    d = nearest_mining_m(mercury_points, after_map, lu.mining, p.decay_search_radius_m, lu.nodata)
    c = mercury_points["concentration_ng_m3"].to_numpy()
    pixel = after_map.grid.pixel_area**0.5
    params, _, row = fit_distance_decay(d, c, p.background_ng_m3, p.decay_search_radius_m, pixel)
    figure = mercury_plots.plot_distance_decay(d, c, params, p.class_breaks_ng_m3, p.class_labels)
    return pd.DataFrame([row]), figure


def plot_mercury_surface(
    mercury_surface: RasterSource,
    mercury_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    mercury: MercuryParams,
) -> Figure:
    """Map of the concentration surface (log colour scale), survey points and districts."""
    p = mercury
    return mercury_plots.plot_mercury_surface(
        mercury_surface, mercury_points, districts, p.background_ng_m3
    )
