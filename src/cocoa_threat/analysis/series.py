"""A yearly series of land-use maps: class areas per district and year, change per interval.

Every area here is a **map area**: pixels counted on the maps, with no reference
sample behind them (the study's error-adjusted areas need the labelled test tiles
of its two years; see :mod:`cocoa_threat.analysis.area`). The tables say so in
their ``area_source`` column.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from cocoa_threat.analysis.transitions import ChangeScheme, transition_tables
from cocoa_threat.geo.compute import ComputeSettings
from cocoa_threat.geo.grid import RasterSource


def interval_name(first: int, last: int) -> str:
    """``2016-2019``: the name of an interval in the tables and partitions."""
    return f"{first}-{last}"


def year_areas(
    land_use_map: RasterSource,
    districts: gpd.GeoDataFrame,
    scheme: ChangeScheme,
    outside_label: str,
    block: int,
    compute: ComputeSettings | None = None,
) -> pd.DataFrame:
    """Hectares of every class per district of one map (every pixel with a class).

    One windowed pass of :func:`~cocoa_threat.analysis.transitions.transition_tables`
    of the map against itself: its stable transitions are the map's class areas.

    Returns:
        One row per district (and ``outside_label``) with ``<class>_ha`` for every
        class of ``scheme``.
    """
    _, by_district, _ = transition_tables(
        land_use_map, land_use_map, districts, scheme, outside_label, block, compute
    )
    stable = by_district[by_district["from_class"] == by_district["to_class"]]
    table = stable.pivot_table(
        index="district", columns="from_class", values="hectares", aggfunc="sum", sort=False
    )
    table = table.reindex(columns=scheme.classes, fill_value=0.0).fillna(0.0)
    table.columns = [f"{c}_ha" for c in table.columns]
    return table.reset_index()


def interval_tables(
    before: RasterSource,
    after: RasterSource,
    districts: gpd.GeoDataFrame,
    scheme: ChangeScheme,
    outside_label: str,
    block: int,
    compute: ComputeSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The transition matrix and the conversion of interest per district, one interval.

    Returns:
        ``(matrix, lost)``: the matrix of
        :func:`~cocoa_threat.analysis.transitions.transition_tables`, and one row per
        district with ``<from>_to_<to>_ha`` (pixels of the conversion in both maps).
    """
    matrix, by_district, _ = transition_tables(
        before, after, districts, scheme, outside_label, block, compute
    )
    conv = by_district[
        (by_district["from_class"] == scheme.from_class)
        & (by_district["to_class"] == scheme.to_class)
    ]
    zones = by_district["district"].drop_duplicates()
    lost = (
        conv.set_index("district")["hectares"]
        .reindex(zones, fill_value=0.0)
        .rename(conversion_column(scheme))
        .reset_index()
    )
    return matrix, lost


def conversion_column(scheme: ChangeScheme) -> str:
    """``cocoa_to_mining_ha`` for the conversion of interest."""
    return f"{scheme.from_class}_to_{scheme.to_class}_ha"
