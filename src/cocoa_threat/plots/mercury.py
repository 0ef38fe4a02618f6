"""Figures of the mercury analysis: the surface map and the decay with distance."""

from __future__ import annotations

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from cocoa_threat.analysis.mercury import decay_curve
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.plots.maps import add_scale_bar, km_axes


def plot_distance_decay(
    d: np.ndarray,
    c: np.ndarray,
    params: list[float],
    breaks: list[float],
    labels: list[str],
) -> Figure:
    """Survey concentrations against distance to mining, the fitted decay and the reference values."""
    ok = np.isfinite(d)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.scatter(d[ok], c[ok], s=10, alpha=0.6, color="#4d4d4d", label="survey points")
    grid = np.linspace(0, np.nanmax(d[ok]) if ok.any() else 1.0, 200)
    ax.plot(grid, np.exp(decay_curve(grid, *params)), color="#d7301f", label="fitted decay")
    for value, name in zip(breaks[1:], labels[2:], strict=False):
        ax.axhline(value, color="grey", lw=0.6, ls="--")
        ax.text(grid[-1], value, name.split("(")[0].strip(), fontsize=7, ha="right", va="bottom")
    ax.set_yscale("log")
    ax.set_xlabel("distance to nearest mining pixel (m)")
    ax.set_ylabel("gaseous mercury (ng/m3)")
    ax.set_title(f"Mercury vs distance to mining (L = {params[2]:.0f} m)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_mercury_surface(
    surface: RasterSource,
    points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    background: float,
) -> Figure:
    """Map of the concentration surface (log colour scale), survey points and districts."""
    data = surface.read_overview(max_size=1000)
    finite = data[np.isfinite(data)]
    low = float(finite.min()) if finite.size else background
    high = float(finite.max()) if finite.size else 10.0
    minx, miny, maxx, maxy = surface.grid.bounds
    fig, ax = plt.subplots(figsize=(8, 8 * (maxy - miny) / max(maxx - minx, 1)))
    cmap = plt.get_cmap("magma_r").copy()
    cmap.set_bad("#d9d9d9")  # not covered by the survey
    img = ax.imshow(
        np.ma.masked_invalid(data),
        extent=(minx, maxx, miny, maxy),
        origin="upper",
        cmap=cmap,
        norm=LogNorm(vmin=max(background / 2, low), vmax=max(high, 10)),
    )
    ax.scatter(points.geometry.x, points.geometry.y, s=6, c="#1f78b4", label="survey points")
    districts.to_crs(surface.grid.crs).boundary.plot(ax=ax, color="black", linewidth=0.7)
    fig.colorbar(img, ax=ax, shrink=0.7, label="gaseous elemental mercury, mean (ng/m3)")
    km_axes(ax, surface.grid.crs, (minx, miny, maxx, maxy))
    add_scale_bar(ax, (minx, miny, maxx, maxy))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Gaseous mercury in air (interpolated mean; grey: not covered by the survey)")
    fig.tight_layout()
    return fig
