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


def true_colour_layer(
    source: RasterSource,
    name: str,
    bands: list[str],
    percentiles: tuple[float, float],
    max_px: int,
    tile_px: int,
    visible: bool = False,
    group: str | None = None,
) -> MapLayer:
    """The picture itself: three bands as red, green and blue, drawn under the classes.

    Each band is stretched between its own ``percentiles`` (e.g. 2 and 98) over the
    pixels with data; pixels without data are transparent.

    Raises:
        ValueError: If the raster lacks one of ``bands`` (naming the bands it has).
    """
    names = list(source.band_names)
    missing = [b for b in bands if b not in names]
    if missing:
        raise ValueError(
            f"{source.path} has no band {missing} for the true-colour layer '{name}' "
            f"(it has {names}); set reporting.rgb_bands to three of them"
        )
    planes = []
    for band in bands:
        values, bounds = lonlat_values(source, names.index(band) + 1, max_px)
        planes.append(values)
    stack = np.stack(planes, axis=-1)
    valid = np.all(np.isfinite(stack), axis=-1)
    scaled = np.zeros_like(stack)
    for i in range(3):
        plane = stack[..., i]
        low, high = np.percentile(plane[valid], percentiles) if valid.any() else (0.0, 1.0)
        scaled[..., i] = np.clip((plane - low) / max(high - low, 1e-9), 0, 1)

    def paint(part: np.ndarray) -> np.ndarray:
        ok = np.all(np.isfinite(part), axis=-1)
        rgb = np.round(np.nan_to_num(part) * 255).astype(np.uint8)
        alpha = np.where(ok, 255, 0).astype(np.uint8)[..., None]
        return np.concatenate([rgb, alpha], axis=-1)

    scaled[~valid] = np.nan
    return MapLayer(
        name=name,
        kind="raster",
        legend={
            "title": name,
            "categories": [[f"{', '.join(bands)} as red, green, blue", "transparent"]],
        },
        overlays=overlays(scaled, bounds, paint, tile_px),
        visible=visible,
        opacity=1.0,
        group=group,
        below=True,
    )
