"""Nodes of the transition pipeline: where mining replaced cocoa, and how much.

The science is in :mod:`cocoa_threat.analysis.transitions` (change, patches,
map against labels), :mod:`cocoa_threat.analysis.area` (areas with intervals)
and :mod:`cocoa_threat.analysis.districts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis import districts as district_lib
from cocoa_threat.analysis.accuracy import conversion_quantity
from cocoa_threat.analysis.area import POPULATIONS, area_table
from cocoa_threat.analysis.transitions import (
    ChangeScheme,
    change_producer,
    conversion_patches,
    pixel_accuracies,
    tile_measures,
    transition_tables,
)
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.study import PeriodParams
from cocoa_threat.params.transition import TransitionParams
from cocoa_threat.plots import change as change_plots
from cocoa_threat.provenance import raster_version, stamped, table_version
from cocoa_threat.raw import require

logger = logging.getLogger(__name__)


def prepare_districts(
    districts_raw: gpd.GeoDataFrame,
    before_map: RasterSource,
    transition: TransitionParams,
    land_use: LandUse,
) -> gpd.GeoDataFrame:
    """Check district boundaries and reproject them to the maps' CRS.

    Returns:
        ``districts``: one row per district (``district``, geometry) in the map CRS.
    """
    p = transition
    raw = require(districts_raw, "districts_raw (district boundaries)")
    grid = before_map.grid
    return district_lib.prepare_districts(raw, p.district_name_column, grid.crs, grid.bounds)


def compute_transitions(
    before_map: RasterSource,
    after_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Transition matrix, per-district transitions and mapped class areas, in one windowed pass.

    The windows run here or on Dask (``compute``).

    Returns:
        ``transition_matrix``, ``transition_by_district`` and ``map_class_areas``,
        each with the ``model_version`` of the maps.
    """
    p = transition
    scheme = ChangeScheme.of(p, land_use)
    matrix, by_district, areas = transition_tables(
        before_map,
        after_map,
        districts,
        scheme,
        p.outside_label,
        p.block_size,
        compute,
    )
    conv = matrix.set_index("from_class").loc[p.from_class, f"to_{p.to_class}_ha"]
    logger.info("Mapped %s -> %s: %.1f ha", p.from_class, p.to_class, conv)
    version = raster_version(before_map)
    return stamped(matrix, version), stamped(by_district, version), stamped(areas, version)


def make_change_map(
    before_map: RasterSource,
    after_map: RasterSource,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> RasterProducer:
    """Change raster coding each transition as ``from * 10 + to`` (e.g. 21 cocoa -> mining).

    Returns:
        A lazy uint8 raster (nodata, colour table) written by the catalog as a COG
        (its windows run here or on Dask: ``compute``).
    """
    p = transition
    return change_producer(
        before_map, after_map, ChangeScheme.of(p, land_use), p.block_size, compute
    )


def extract_conversion_polygons(
    before_map: RasterSource,
    after_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> gpd.GeoDataFrame:
    """One polygon per connected patch of the conversion, at least the mapping unit.

    Windows are outlined here or on Dask (``compute``) and joined across their edges.

    Returns:
        ``cocoa_to_mining``: patch_id, area_ha, n_pixels, district (largest
        overlap), geometry in the maps' CRS.
    """
    p = transition
    frame, n = conversion_patches(
        before_map,
        after_map,
        ChangeScheme.of(p, land_use),
        p.min_mapping_unit_ha,
        p.block_size,
        compute,
    )
    frame["district"] = district_lib.majority_district(frame.geometry, districts, p.outside_label)
    frame["model_version"] = raster_version(before_map)
    logger.info(
        "%d %s -> %s patches >= %.2f ha (%d smaller ones dropped), %.1f ha in all",
        len(frame),
        p.from_class,
        p.to_class,
        p.min_mapping_unit_ha,
        n - len(frame),
        frame["area_ha"].sum() if len(frame) else 0.0,
    )
    return frame


def measure_tiles(
    before_map: RasterSource,
    after_map: RasterSource,
    tile_manifest: pd.DataFrame,
    model_input: dict[str, Callable[[], Raster]],
    before: PeriodParams,
    after: PeriodParams,
    transition: TransitionParams,
    land_use: LandUse,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map against reference labels on every tile, in both years.

    Returns:
        ``tile_areas`` (one row per tile and quantity: mapped and labelled
        reference hectares, the tile's block and split) and ``map_accuracy``
        (confusion matrices, rows = map, columns = reference, summed over the
        **test** tiles, and per tile).
    """
    p = transition

    def labels_of(split: str, sample: str) -> np.ndarray:
        return model_input[f"{split}/{sample}_lbl"]().data[0]

    tiles, accuracy = tile_measures(
        before_map,
        after_map,
        tile_manifest,
        labels_of,
        (before.year, after.year),
        ChangeScheme.of(p, land_use),
    )
    return stamped(tiles, raster_version(before_map)), accuracy


def estimate_areas(
    tile_areas: pd.DataFrame,
    map_accuracy: dict[str, Any],
    transition: TransitionParams,
    land_use: LandUse,
) -> pd.DataFrame:
    """Areas adjusted with the test sample, with intervals that hold for whole blocks of tiles.

    See :func:`~cocoa_threat.analysis.area.area_table`; the user's and
    producer's accuracies beside them are pixel-level on the test tiles.

    Returns:
        ``area_estimates``.
    """
    p = transition
    table = area_table(tile_areas, p.confidence, p.sampling_unit, p.min_test_units)
    accuracies = [
        pixel_accuracies(map_accuracy["change"], 1)
        if r["period"] == "change"
        else pixel_accuracies(map_accuracy[r["period"]], land_use.classes.index(r["class"]))
        for r in table.to_dict("records")
    ]
    table["users_accuracy"] = [ua for ua, _ in accuracies]
    table["producers_accuracy"] = [pa for _, pa in accuracies]
    _log_conversion(table, p)
    return stamped(table, table_version(tile_areas, "tile_areas"))


def _log_conversion(table: pd.DataFrame, p: TransitionParams) -> None:
    """Log the conversion's mapped, adjusted and census areas."""
    conv = table[
        (table["quantity"] == conversion_quantity(p.from_class, p.to_class))
        & (table["population"] == POPULATIONS[1])
    ].iloc[0]
    logger.info(
        "%s: mapped %.1f ha, adjusted %.1f ha (%.0f%% CI %.1f-%.1f ha, %d test %ss), census %.1f",
        conv["quantity"],
        conv["map_ha"],
        conv["adjusted_ha"],
        100 * p.confidence,
        conv["ci_low_ha"],
        conv["ci_high_ha"],
        conv["n_units"],
        p.sampling_unit,
        conv["census_ha"],
    )


def plot_change_map(
    change_map: RasterSource,
    districts: gpd.GeoDataFrame,
    transition: TransitionParams,
    land_use: LandUse,
) -> Figure:
    """Quicklook of the change map: stable classes pale, changes strong."""
    p = transition
    return change_plots.plot_change_map(
        change_map, districts, ChangeScheme.of(p, land_use), p.quicklook_max_size
    )


def plot_transitions(
    transition_by_district: pd.DataFrame, transition: TransitionParams, land_use: LandUse
) -> Figure:
    """Bar chart of the changes (hectares) per district."""
    p = transition
    return change_plots.plot_transitions(transition_by_district, ChangeScheme.of(p, land_use))
