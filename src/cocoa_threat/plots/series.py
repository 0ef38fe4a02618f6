"""Charts of a yearly series: class areas per year and the conversion per interval."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.transitions import ChangeScheme


def plot_series_by_district(
    by_district: pd.DataFrame,
    lost: pd.DataFrame,
    scheme: ChangeScheme,
    columns: int,
    area_source: str,
) -> Figure:
    """One panel per district: the two classes' areas per year (lines) and the
    conversion per consecutive interval (bars, drawn over the interval).

    Args:
        by_district: ``district, year, <class>_ha`` (one row per district and year).
        lost: ``district, interval, from_year, to_year, consecutive, <from>_to_<to>_ha``.
        scheme: The classes, their colours and the conversion of interest.
        columns: Panels per row.
        area_source: What the areas are (in the title).
    """
    districts = list(dict.fromkeys(by_district["district"]))
    rows = math.ceil(len(districts) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    conv = f"{scheme.from_class}_to_{scheme.to_class}_ha"
    years = sorted(by_district["year"].unique())
    for ax, name in zip(axes.flat, districts, strict=False):
        own = by_district[by_district["district"] == name].sort_values("year")
        steps = lost[(lost["district"] == name) & lost["consecutive"]]
        ax.bar(
            (steps["from_year"] + steps["to_year"]) / 2,
            steps[conv],
            width=(steps["to_year"] - steps["from_year"]) * 0.9,
            color=scheme.conversion_colour,
            alpha=0.35,
            label=f"{scheme.from_class} -> {scheme.to_class} in the interval",
        )
        for c in (scheme.from_class, scheme.to_class):
            ax.plot(own["year"], own[f"{c}_ha"], "o-", color=scheme.colours[c], label=c)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("hectares")
        ax.set_xticks(years)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    for ax in list(axes.flat)[len(districts) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=8)
    fig.suptitle(f"Land use per district and year ({area_source})", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.96))
    return fig
