"""Nodes of the risk pipeline: a 0-1 risk score for every cocoa pixel of the latest map.

The factors are computed once (``risk_factors``, one band each); the tables, the
score and the classes all read them. The science is in :mod:`cocoa_threat.analysis.risk`.
"""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.flow import conditioned_producer
from cocoa_threat.analysis.risk import (
    RiskInputs,
    RiskSpec,
    Scenario,
    class_producer,
    factor_producer,
    risk_counts,
    score_producer,
    sensitivity_counts,
    sensitivity_scenarios,
    sensitivity_table,
)
from cocoa_threat.analysis.zonal import ALL_DISTRICTS, zone_table
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.colours import colour_table
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.vrt import MosaicSpec, tile_mosaic
from cocoa_threat.params import LandUse, require_cocoa
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.risk import RiskParams
from cocoa_threat.plots import charts as risk_plots
from cocoa_threat.plots.maps import plot_class_raster
from cocoa_threat.provenance import VERSION, one_version, raster_version, stamped

logger = logging.getLogger(__name__)


def build_dem_mosaic(tile_manifest: pd.DataFrame, risk: RiskParams) -> MosaicSpec:
    """A mosaic of the tiles' elevation (copied into the model input at ingestion).

    Returns:
        The mosaic on the land-use grid (saved by the catalog as a VRT with
        relative paths, read back lazily).
    """
    p = risk
    return tile_mosaic(tile_manifest, "dem_path", 1, p.dem_nodata, ["DEM"], resampling="bilinear")


def condition_dem(dem_mosaic: RasterSource, risk: RiskParams) -> RasterProducer:
    """The DEM made to drain, once, for the whole map: depressions filled, flats drained.

    Global (the whole DEM in memory, ~45 bytes per pixel at the peak); the factors
    then read the result window by window. ``risk.downstream.condition_dem: false``
    writes the DEM as it is.

    Returns:
        ``dem_conditioned``: float64 elevation, tagged with the cells where flow
        stopped inside the map before and after.
    """
    d = risk.downstream
    return conditioned_producer(
        dem_mosaic, risk.dem_nodata, d.condition_dem, d.flat_increment_m, risk.block_size
    )


def compute_risk_factors(
    before_map: RasterSource,
    after_map: RasterSource,
    mercury_surface: RasterSource,
    dem_conditioned: RasterSource,
    risk: RiskParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> RasterProducer:
    """The proximity, pressure, mercury and downstream factors of every pixel (0-1).

    Returns:
        ``risk_factors``: one float32 band per factor, computed in windows with
        a halo (exactly the whole-array result), here or on Dask (``compute``).
    """
    p, lu = risk, land_use
    require_cocoa(lu, "The risk pipeline")
    version = one_version(
        {
            "before.land_use_map": raster_version(before_map),
            "after.land_use_map": raster_version(after_map),
        },
        "Risk factors",
    )
    inputs = RiskInputs(before_map, after_map, mercury_surface, dem_conditioned, p.dem_nodata)
    producer = factor_producer(inputs, RiskSpec.of(p, lu), p.block_size, compute)
    return _tagged(producer, version)


def _tagged(producer: RasterProducer, version: str | None) -> RasterProducer:
    return dataclasses.replace(producer, tags={**producer.tags, VERSION: str(version)})


def _version(risk_factors: RasterSource, after_map: RasterSource, step: str) -> str | None:
    return one_version(
        {
            "risk_factors": raster_version(risk_factors),
            "after.land_use_map": raster_version(after_map),
        },
        step,
    )


def risk_by_district(
    risk_factors: RasterSource,
    after_map: RasterSource,
    districts: gpd.GeoDataFrame,
    risk: RiskParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> pd.DataFrame:
    """Cocoa area per risk class and district (windows here or on Dask: ``compute``).

    Returns:
        ``risk_by_district``: district, risk_class, cocoa_ha, percent_of_district_cocoa.
    """
    p, lu = risk, land_use
    cocoa = require_cocoa(lu, "The risk pipeline")
    version = _version(risk_factors, after_map, "Risk tables")
    baseline = Scenario("baseline", "baseline", p.weights, p.class_breaks, RiskSpec.of(p, lu))
    by_district = risk_counts(
        risk_factors, after_map, districts, baseline, cocoa, p.block_size, compute
    )
    table = zone_table(
        by_district,
        [p.outside_label, *districts["district"].tolist()],
        [{"risk_class": label} for label in p.class_labels],
        after_map.grid.hectares(1),
        "cocoa_ha",
        "percent_of_district_cocoa",
        total_label=ALL_DISTRICTS,
    )
    ha = after_map.grid.hectares(by_district.sum(axis=0))
    summary = ", ".join(f"{c} {v:.0f} ha" for c, v in zip(p.class_labels, ha, strict=True))
    logger.info("Cocoa by risk class: %s", summary)
    return stamped(table, version)


def risk_sensitivity(
    risk_factors: RasterSource,
    before_map: RasterSource,
    after_map: RasterSource,
    mercury_surface: RasterSource,
    dem_conditioned: RasterSource,
    risk: RiskParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> tuple[pd.DataFrame, Figure]:
    """How the cocoa area per risk class moves when each setting moves by +/- ``sensitivity_change``.

    One pass over windows (here or on Dask: ``compute``): weights and class breaks
    re-use the stored factors; each distance (``sensitivity_distances``) recomputes
    only the factor it moves. One at a time, against the baseline.

    Returns:
        ``risk_sensitivity`` (one row per scenario: group, the setting, hectares per
        class and their change against the baseline) and its tornado chart.
    """
    p, lu = risk, land_use
    cocoa = require_cocoa(lu, "The risk pipeline")
    version = _version(risk_factors, after_map, "Risk sensitivity")
    base = RiskSpec.of(p, lu)
    scenarios = sensitivity_scenarios(
        p.weights, p.class_breaks, base, p.sensitivity_change, p.sensitivity_distances
    )
    inputs = RiskInputs(before_map, after_map, mercury_surface, dem_conditioned, p.dem_nodata)
    counts = sensitivity_counts(risk_factors, inputs, scenarios, base, cocoa, p.block_size, compute)
    table = sensitivity_table(scenarios, counts, p.class_labels, after_map.grid.hectares(1))
    figure = risk_plots.plot_sensitivity(table, p.class_labels, p.sensitivity_change)
    return stamped(table, version), figure


def make_risk_score(
    risk_factors: RasterSource,
    after_map: RasterSource,
    risk: RiskParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> RasterProducer:
    """The 0-1 risk score (weighted sum of the factors) of every cocoa pixel, -1 elsewhere."""
    p, lu = risk, land_use
    cocoa = require_cocoa(lu, "The risk pipeline")
    version = _version(risk_factors, after_map, "Risk score")
    producer = score_producer(risk_factors, after_map, p.weights, cocoa, p.block_size, compute)
    return _tagged(producer, version)


def make_risk_map(
    risk_score: RasterSource,
    risk: RiskParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> RasterProducer:
    """Risk class of every cocoa pixel (0 low ... 3 very high, nodata elsewhere), colour table."""
    p, lu = risk, land_use
    tags = {f"class_{i}": c for i, c in enumerate(p.class_labels)}
    tags |= {f"weight_{k}": str(v) for k, v in p.weights.items()}
    tags[VERSION] = str(raster_version(risk_score))
    return class_producer(
        risk_score,
        p.class_breaks,
        lu.nodata,
        p.block_size,
        colour_table(dict(enumerate(p.class_colours)), lu.nodata),
        tags,
        compute,
    )


def plot_risk_map(
    risk_map: RasterSource,
    districts: gpd.GeoDataFrame,
    risk: RiskParams,
    land_use: LandUse,
) -> Figure:
    """Quicklook of the risk classes of cocoa with legend, scale bar and districts."""
    p, lu = risk, land_use
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
