"""Figures of the land-use change: the change map and the changes by district."""

from __future__ import annotations

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.transitions import ChangeScheme
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.plots.maps import plot_class_raster


def plot_change_map(
    change_map: RasterSource, districts: gpd.GeoDataFrame, scheme: ChangeScheme, max_size: int
) -> Figure:
    """Quicklook of the change map: stable classes pale, changes strong."""
    colours, labels = scheme.colour_of_codes(), scheme.labels()
    codes = [scheme.code(a, b) for a, b in scheme.pairs()]
    return plot_class_raster(
        change_map,
        values=codes,
        labels=[labels[c] for c in codes],
        colours=[colours[c] for c in codes],
        title="Land-use change",
        districts=districts,
        max_size=max_size,
        nodata=scheme.nodata,
    )


def plot_transitions(by_district: pd.DataFrame, scheme: ChangeScheme) -> Figure:
    """Bar chart of the changes (hectares) per district."""
    changes = by_district[by_district["from_class"] != by_district["to_class"]].copy()
    changes["transition"] = changes["from_class"] + " -> " + changes["to_class"]
    table = changes.pivot_table(
        index="district", columns="transition", values="hectares", aggfunc="sum"
    )
    colours = scheme.colour_of_codes()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    order = [f"{a} -> {b}" for a, b in scheme.pairs() if a != b and f"{a} -> {b}" in table]
    table[order].plot.barh(
        stacked=True,
        ax=ax,
        color=[colours[scheme.code(*t.split(" -> "))] for t in order],
        edgecolor="black",
        linewidth=0.3,
    )
    ax.set_xlabel("hectares")
    ax.set_ylabel("")
    ax.set_title("Land-use changes by district")
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left", frameon=False)
    fig.tight_layout()
    return fig
