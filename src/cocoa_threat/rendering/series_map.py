"""The series' interactive map: a switch of years and intervals over the pictures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params.reporting import WebMapSpec
from cocoa_threat.rendering.map_layers import class_layer, true_colour_layer, vector_layer
from cocoa_threat.rendering.webmap import MapLayer, WebMap, build_web_map


def district_popup(name: str, lost: pd.DataFrame, column: str) -> dict[str, Any]:
    """A district's pop-up: its ``column`` (a conversion, map area) in every interval."""
    own = lost[lost["district"] == name]
    popup: dict[str, Any] = {"district": name}
    for row in own.itertuples():
        popup[f"{column} {row.interval} (map area)"] = f"{getattr(row, column):.1f}"
    return popup


def change_layers(
    changes: dict[tuple[int, int], Callable[[], RasterSource]],
    years: list[int],
    size: dict[str, int],
    opacity: float,
) -> list[MapLayer]:
    """The change map of every interval (legend from its ``code_<n>`` tags); first -> last shown."""
    layers = []
    for (a, b), load in changes.items():
        change = load()
        codes = {int(k[5:]): v for k, v in change.tags.items() if k.startswith("code_")}
        shown = (a, b) == (years[0], years[-1])
        layers.append(
            class_layer(change, f"Change {a}-{b}", codes, **size, opacity=opacity, visible=shown)
        )
    return layers


def series_web_map(
    composites: dict[int, Callable[[], RasterSource]],
    maps: dict[int, RasterSource],
    changes: dict[tuple[int, int], Callable[[], RasterSource]],
    districts: gpd.GeoDataFrame,
    lost: pd.DataFrame,
    classes: list[str],
    rgb_bands: list[str],
    spec: WebMapSpec,
    files: str,
) -> WebMap:
    """The series' map: true colour, land use and change of every year and interval.

    Layers: the true-colour composite of every year (``rgb_bands``, drawn under the
    classes; one at a time, the last year shown), the land use of every year (one
    at a time), the change of every interval (one at a time; first -> last shown),
    and the districts with the conversion of each interval in their pop-ups.

    Args:
        composites: Year -> its composite's loader, in the order of the years.
        maps: Year -> its land-use map, same years and order.
        changes: ``(first, last)`` -> the interval's change map's loader.
        districts: The districts (``district``, geometry).
        lost: The conversion per district and interval (``district``, ``interval``,
            one ``*_ha`` column).
        classes: The land-use classes, by code.
        rgb_bands: The composites' bands drawn as red, green, blue.
        spec: The map's sizes, opacity and stretch (``reporting.map``).
        files: Folder of the tiles of large layers, beside the page.
    """
    years = list(maps)
    size = {"max_px": spec.max_px, "tile_px": spec.tile_px}
    layers = [
        true_colour_layer(load(), f"Imagery {y}", rgb_bands, spec.true_colour_percentiles,
                          **size, visible=y == years[-1], group="imagery")
        for y, load in composites.items()
    ]  # fmt: skip
    labels = dict(enumerate(classes))
    layers += [
        class_layer(maps[y], f"Land use {y}", labels, **size, opacity=spec.opacity, visible=False)
        for y in years
    ]
    layers += change_layers(changes, years, size, spec.opacity)
    for layer in layers[len(years) :]:
        layer.group = "classes"
    column = [c for c in lost.columns if c.endswith("_ha")][0]
    popups = [district_popup(n, lost, column) for n in districts["district"]]
    legend = {"title": "Districts (click for figures)", "categories": []}
    layers.append(vector_layer(districts, "Districts", popups, None, legend))
    return build_web_map(f"cocoa-threat: series {years[0]}-{years[-1]}", layers, files)
