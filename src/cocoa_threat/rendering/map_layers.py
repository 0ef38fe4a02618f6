"""The layers of the interactive map, from the project's rasters and tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.geo.overlay import (
    class_colours,
    colour_table_of,
    lonlat_values,
    overlays,
    ramp_colours,
)
from cocoa_threat.rendering.webmap import MapLayer


def _hex(colour: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour[:3])


def class_layer(
    source: RasterSource,
    name: str,
    labels: dict[int, str],
    max_px: int,
    tile_px: int,
    opacity: float,
    visible: bool = True,
) -> MapLayer:
    """A class raster in its own GeoTIFF colours, with a legend of the codes in ``labels``."""
    table = colour_table_of(source)
    values, bounds = lonlat_values(source, 1, max_px)
    present = {int(v) for v in np.unique(values[np.isfinite(values)])}
    categories = [
        [label, _hex(table[code])]
        for code, label in labels.items()
        if code in table and code in present
    ]
    return MapLayer(
        name=name,
        kind="raster",
        legend={"title": name, "categories": categories},
        overlays=overlays(values, bounds, class_colours(table), tile_px),
        visible=visible,
        opacity=opacity,
    )


def continuous_layer(
    source: RasterSource,
    name: str,
    units: str,
    colour_map: str,
    max_px: int,
    tile_px: int,
    opacity: float,
    log: bool = True,
    visible: bool = False,
) -> MapLayer:
    """A continuous raster (band 1) on a colour ramp, with its range in the legend."""
    import matplotlib

    values, bounds = lonlat_values(source, 1, max_px)
    finite = values[np.isfinite(values) & (values > 0 if log else True)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (1.0, 10.0)
    high = max(high, low * 1.01)
    ramp = matplotlib.colormaps[colour_map]
    gradient = [matplotlib.colors.to_hex(ramp(t)) for t in np.linspace(0, 1, 6)]
    return MapLayer(
        name=name,
        kind="raster",
        legend={
            "title": f"{name} ({units})",
            "gradient": gradient,
            "min": f"{low:.3g}",
            "max": f"{high:.3g}",
            "categories": [["not covered", "transparent"]],
        },
        overlays=overlays(values, bounds, ramp_colours(colour_map, low, high, log), tile_px),
        visible=visible,
        opacity=opacity,
    )


def vector_layer(
    frame: Any,
    name: str,
    popups: list[dict[str, Any]],
    colour: str | None,
    legend: dict[str, Any],
    visible: bool = True,
) -> MapLayer:
    """Polygons or points (in any CRS) with a pop-up each."""
    import json

    lonlat = frame.to_crs(4326)
    geojson = json.loads(lonlat[["geometry"]].to_json(drop_id=True))
    for feature, popup in zip(geojson["features"], popups, strict=True):
        feature["properties"] = {"popup": popup, **({"colour": colour} if colour else {})}
    kind = "points" if lonlat.geom_type.isin(["Point"]).all() else "polygons"
    return MapLayer(name=name, kind=kind, legend=legend, geojson=geojson, visible=visible)
