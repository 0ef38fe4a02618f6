"""Map quicklooks: class rasters with a legend, a scale bar, map coordinates and districts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from cocoa_threat.geo.grid import RasterSource


def _nice_length(span_m: float) -> float:
    """A round scale-bar length of about a fifth of the map width."""
    target = span_m / 5
    power = 10 ** np.floor(np.log10(target))
    for step in (1, 2, 5, 10):
        if step * power >= target:
            return float(step * power)
    return float(10 * power)


def add_scale_bar(ax: plt.Axes, bounds: tuple[float, float, float, float]) -> None:
    """Draw a scale bar in the lower-left corner (map units: metres)."""
    minx, miny, maxx, maxy = bounds
    length = _nice_length(maxx - minx)
    x0 = minx + 0.05 * (maxx - minx)
    y0 = miny + 0.05 * (maxy - miny)
    height = 0.012 * (maxy - miny)
    ax.add_patch(Rectangle((x0, y0), length, height, color="black"))
    ax.add_patch(Rectangle((x0 + length / 2, y0), length / 2, height, color="white", ec="black"))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + 2.2 * height, label, ha="center", va="bottom", fontsize=8)


def km_axes(ax: plt.Axes, crs: str, bounds: tuple[float, float, float, float]) -> None:
    """Map axes in km of the CRS (metres), limited to ``bounds``."""
    minx, miny, maxx, maxy = bounds
    ticks = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1000:.0f}")
    ax.xaxis.set_major_formatter(ticks)
    ax.yaxis.set_major_formatter(ticks)
    ax.set_xlabel(f"Easting (km, {crs})")
    ax.set_ylabel("Northing (km)")
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)


def plot_class_raster(
    source: RasterSource,
    values: list[int],
    labels: list[str],
    colours: list[str],
    title: str,
    districts: gpd.GeoDataFrame | None = None,
    max_size: int = 1200,
    nodata: int | None = 255,
) -> Figure:
    """A class raster as a map: north up, map coordinates in km, legend, scale bar.

    Args:
        source: The class raster (uint8 codes).
        values: Codes to colour, in legend order.
        labels: Legend label of each code.
        colours: Matplotlib colour of each code.
        title: Figure title.
        districts: Boundaries drawn on top (reprojected to the raster's CRS).
        max_size: Longest side of the decimated raster drawn.
        nodata: Code drawn transparent.

    Returns:
        The figure.
    """
    index = _colour_index(source.read_overview(max_size=max_size), values, nodata)
    cmap = ListedColormap([to_rgba(c) for c in colours] + [(1, 1, 1, 0)])
    minx, miny, maxx, maxy = source.grid.bounds
    fig, ax = plt.subplots(figsize=(8, 8 * (maxy - miny) / max(maxx - minx, 1) + 0.6))
    ax.imshow(
        index,
        cmap=cmap,
        vmin=-0.5,
        vmax=len(values) + 0.5,
        extent=(minx, maxx, miny, maxy),
        origin="upper",
        interpolation="nearest",
    )
    if districts is not None and len(districts):
        _draw_districts(ax, districts.to_crs(source.grid.crs))
    ax.set_aspect("equal")
    km_axes(ax, source.grid.crs, (minx, miny, maxx, maxy))
    add_scale_bar(ax, (minx, miny, maxx, maxy))
    ax.legend(
        handles=[
            Patch(facecolor=c, edgecolor="black", label=lab)
            for c, lab in zip(colours, labels, strict=True)
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _colour_index(data: np.ndarray, values: list[int], nodata: int | None) -> np.ndarray:
    """Position of each pixel's code in ``values``; ``len(values)`` (transparent) for the rest."""
    lut = np.full(256, len(values), dtype=np.int32)
    for i, v in enumerate(values):
        lut[v] = i
    if nodata is not None:
        lut[nodata] = len(values)
    return lut[data]


def _draw_districts(ax: plt.Axes, districts: gpd.GeoDataFrame) -> None:
    """District boundaries, and their names when the table has a ``district`` column."""
    districts.boundary.plot(ax=ax, color="black", linewidth=0.8)
    if "district" not in districts:
        return
    for name, point in zip(districts["district"], districts.representative_point(), strict=True):
        ax.annotate(
            name,
            (point.x, point.y),
            ha="center",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.7, "lw": 0},
        )
