"""Nodes of the series pipeline: a land-use map per year of ``series.years``, class areas
per district and year, and the change of each consecutive interval and of first -> last.

The science is in :mod:`cocoa_threat.models.scene` (inference on any GeoTIFF),
:mod:`cocoa_threat.analysis.series` and :mod:`cocoa_threat.analysis.transitions`
(windowed passes); these nodes only take it through the catalog. Every area is a
map area (no reference sample): the tables say so in ``area_source``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis import districts as district_lib
from cocoa_threat.analysis.series import conversion_column, interval_name, interval_tables
from cocoa_threat.analysis.series import year_areas as year_area_table
from cocoa_threat.analysis.transitions import ChangeScheme, change_producer
from cocoa_threat.geo.cog import RasterProducer
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.imagery.workflow import composite_partition
from cocoa_threat.models.base import SegmentationModel
from cocoa_threat.models.scene import model_tags, year_class_map
from cocoa_threat.params import LandUse
from cocoa_threat.params.compute import ComputeParams
from cocoa_threat.params.inference import InferenceParams
from cocoa_threat.params.reporting import ReportingParams
from cocoa_threat.params.series import SeriesParams
from cocoa_threat.params.transition import TransitionParams
from cocoa_threat.plots.series import plot_series_by_district
from cocoa_threat.provenance import raster_version, stamped
from cocoa_threat.raw import require
from cocoa_threat.rendering.series_map import series_web_map as series_map
from cocoa_threat.rendering.webmap import WebMap

logger = logging.getLogger(__name__)

Loaders = dict[str, Callable[[], Any]]
MAP_FILES = "series_map_files"  # tiles of large scenes, beside series_map.html


def map_partition(year: int) -> str:
    """The partition (file name without suffix) of a year's land-use map."""
    return f"land_use_{year}"


def change_partition(first: int, last: int) -> str:
    """The partition of an interval's change map."""
    return f"change_{first}_{last}"


def _by_year(
    loaders: Loaders, years: list[int], name_of: Callable[[int], str], missing: str
) -> dict[int, Callable[[], Any]]:
    """The loader of each year's partition (year -> loader); ``missing`` (formatted with the
    missing years and the partitions there are) is the error if one is absent."""
    absent = [y for y in years if name_of(y) not in loaders]
    if absent:
        raise ValueError(missing.format(absent=absent, found=sorted(loaders)))
    return {y: loaders[name_of(y)] for y in years}


def _maps(series_land_use_maps: Loaders, series: SeriesParams) -> dict[int, RasterSource]:
    loaders = _by_year(
        series_land_use_maps,
        series.years,
        map_partition,
        "No land-use map of {absent} among the series' maps {found}: run "
        "`kedro run --pipeline=series` (its predict node) with these series.years",
    )
    return {y: load() for y, load in loaders.items()}


def _composites(imagery_composites: Loaders, series: SeriesParams) -> dict[int, Callable[[], Any]]:
    """The loader of each year's composite (year -> loader); a clear error if one is missing."""
    return _by_year(
        imagery_composites,
        series.years,
        composite_partition,
        "No composite of {absent} in the imagery pipeline's output ({found}): add them to "
        "imagery.years and run `kedro run --pipeline=imagery` first",
    )


def predict_series(
    imagery_composites: Loaders,
    chosen_model: SegmentationModel,
    chosen_model_info: dict[str, Any],
    series: SeriesParams,
    inference: InferenceParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> dict[str, Callable[[], RasterProducer]]:
    """A land-use map per year of ``series.years``: scene inference on its composite.

    Args:
        imagery_composites: The imagery pipeline's composites (``composite_<year>``).
        chosen_model: The model from ``select_model`` (``inference.model``).
        chosen_model_info: Its name, version and split (written as GeoTIFF tags).
        series: The ``series`` parameters.
        inference: The ``inference`` parameters (windows, context, nodata).
        land_use: The ``land_use`` parameters.
        compute: The ``compute`` parameters (where the windows run).

    Returns:
        ``series_land_use_maps``: ``land_use_<year>`` -> a function returning the
        lazy map (class codes, nodata, colour table), written by the catalog as a COG.

    Raises:
        ValueError: If a year has no composite, naming the pipeline to run.
    """
    composites = _composites(imagery_composites, series)
    args = (chosen_model, inference, land_use, compute, model_tags(chosen_model, chosen_model_info))
    return {map_partition(y): year_class_map(composites[y], y, *args) for y in series.years}


def prepare_series_districts(
    districts_raw: gpd.GeoDataFrame,
    series_land_use_maps: Loaders,
    series: SeriesParams,
    transition: TransitionParams,
) -> gpd.GeoDataFrame:
    """District boundaries checked and reprojected to the series' maps.

    Returns:
        ``series_districts``: one row per district (``district``, geometry).
    """
    raw = require(districts_raw, "districts_raw (district boundaries)")
    grid = _maps(series_land_use_maps, series)[series.years[0]].grid
    return district_lib.prepare_districts(
        raw, transition.district_name_column, grid.crs, grid.bounds
    )


def series_areas(
    series_land_use_maps: Loaders,
    series_districts: gpd.GeoDataFrame,
    series: SeriesParams,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> pd.DataFrame:
    """Hectares of every class per district and year (one windowed pass a year).

    Returns:
        ``series_by_district``: district, year, ``<class>_ha`` of every class
        (``mining_ha``, ``cocoa_ha`` ...), area_source, model_version.
    """
    p, maps = transition, _maps(series_land_use_maps, series)
    scheme = ChangeScheme.of(p, land_use)
    tables = []
    for year, source in maps.items():
        table = year_area_table(
            source, series_districts, scheme, p.outside_label, p.block_size, compute
        )
        tables.append(table.assign(year=year))
    out = pd.concat(tables, ignore_index=True)
    columns = ["district", "year", *[f"{c}_ha" for c in scheme.classes]]
    out = out[columns].assign(area_source=series.area_source)
    return stamped(out, raster_version(maps[series.years[0]]))


def series_transitions(
    series_land_use_maps: Loaders,
    series_districts: gpd.GeoDataFrame,
    series: SeriesParams,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The transition matrix and the conversion per district of every interval.

    Intervals: each consecutive pair of ``series.years``, then first -> last.

    Returns:
        ``series_transition_matrix`` (interval, from_class, ``to_<class>_ha`` ...)
        and ``series_cocoa_lost`` (district, interval, from_year, to_year,
        consecutive, ``<from>_to_<to>_ha``, area_source), both with model_version.
    """
    p, maps = transition, _maps(series_land_use_maps, series)
    scheme = ChangeScheme.of(p, land_use)
    matrices, losses = [], []
    for first, last in series.intervals():
        matrix, lost = interval_tables(
            maps[first], maps[last], series_districts, scheme, p.outside_label, p.block_size,
            compute,
        )  # fmt: skip
        meta = {"interval": interval_name(first, last), "from_year": first, "to_year": last}
        meta["consecutive"] = series.years.index(last) == series.years.index(first) + 1
        matrices.append(matrix.assign(**meta))
        losses.append(lost.assign(**meta))
        total = lost[conversion_column(scheme)].sum()
        logger.info(
            "%d -> %d: %s %.1f ha (map area)", first, last, conversion_column(scheme), total
        )
    front = ["interval", "from_year", "to_year", "consecutive"]
    matrix = pd.concat(matrices, ignore_index=True)
    matrix = matrix[front + [c for c in matrix.columns if c not in front]]
    lost = pd.concat(losses, ignore_index=True)
    lost = lost[["district", *front, conversion_column(scheme)]]
    version = raster_version(maps[series.years[0]])
    return stamped(matrix, version), stamped(lost.assign(area_source=series.area_source), version)


def series_change_maps(
    series_land_use_maps: Loaders,
    series: SeriesParams,
    transition: TransitionParams,
    land_use: LandUse,
    compute: ComputeParams,
) -> dict[str, Callable[[], RasterProducer]]:
    """A change map (``from * 10 + to``) per interval, lazy, one partition each.

    Returns:
        ``series_change_maps``: ``change_<first>_<last>`` -> a function returning
        the lazy change raster, written by the catalog as a COG.
    """
    p = transition
    scheme = ChangeScheme.of(p, land_use)

    def change(first: int, last: int) -> Callable[[], RasterProducer]:
        def make() -> RasterProducer:
            maps = _maps(series_land_use_maps, series)
            return change_producer(maps[first], maps[last], scheme, p.block_size, compute)

        return make

    return {change_partition(a, b): change(a, b) for a, b in series.intervals()}


def plot_series(
    series_by_district: pd.DataFrame,
    series_cocoa_lost: pd.DataFrame,
    series: SeriesParams,
    transition: TransitionParams,
    land_use: LandUse,
) -> Figure:
    """Per district: the two classes' areas per year and the conversion per interval."""
    return plot_series_by_district(
        series_by_district,
        series_cocoa_lost,
        ChangeScheme.of(transition, land_use),
        series.chart_columns,
        series.area_source,
    )


def series_web_map(
    series_land_use_maps: Loaders,
    series_change_maps: Loaders,
    imagery_composites: Loaders,
    series_districts: gpd.GeoDataFrame,
    series_cocoa_lost: pd.DataFrame,
    series: SeriesParams,
    land_use: LandUse,
    reporting: ReportingParams,
) -> WebMap:
    """The series' interactive map: a switch of years and intervals over the pictures.

    Layers: the true-colour composite of every year (``reporting.rgb_bands``, drawn
    under the classes; one at a time), the land use of every year (one at a time),
    the change of every interval (one at a time; first -> last shown), and the
    districts with the conversion of each interval in their pop-ups.

    Returns:
        ``series_web_map``: one page that opens offline.
    """
    years = series.years
    return series_map(
        {y: imagery_composites[composite_partition(y)] for y in years},
        _maps(series_land_use_maps, series),
        {(a, b): series_change_maps[change_partition(a, b)] for a, b in series.intervals()},
        series_districts,
        series_cocoa_lost,
        list(land_use.classes),
        list(reporting.rgb_bands),
        reporting.map,
        MAP_FILES,
    )
