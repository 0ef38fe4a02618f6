"""Sample patches: what the model input and its labels look like."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cocoa_threat.geo.raster import Raster
from cocoa_threat.params import LandUse


def plot_sample_patches(
    model_input: Mapping[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    n: int,
    land_use: LandUse,
    rgb_bands: tuple[int, int, int] = (2, 1, 0),
) -> Figure:
    """True-colour images and labels of the ``n`` tiles with the most mining, every year."""
    lu = land_use
    classes, colours = lu.classes, lu.colours
    by_mining = (
        tile_manifest.groupby("tile_id")[f"fraction_{lu.mining_class}"]
        .max()
        .sort_values(ascending=False)
    )
    tiles = by_mining.index[:n].tolist()
    years = sorted(tile_manifest["year"].unique())
    fig, axes = plt.subplots(
        len(tiles), 2 * len(years), figsize=(3 * 2 * len(years), 3 * len(tiles)), squeeze=False
    )
    cmap = ListedColormap([to_rgba(colours[c]) for c in classes])
    for i, tile in enumerate(tiles):
        for j, year in enumerate(years):
            row = tile_manifest[
                (tile_manifest["tile_id"] == tile) & (tile_manifest["year"] == year)
            ].iloc[0]
            key = f"{row['split']}/{row['sample']}"
            img = model_input[f"{key}_img"]().data[list(rgb_bands)].astype(float)
            img[img < 0] = np.nan
            lo, hi = np.nanpercentile(img, [2, 98])
            rgb = np.clip((np.moveaxis(img, 0, -1) - lo) / max(hi - lo, 1), 0, 1)
            lbl = np.ma.masked_equal(model_input[f"{key}_lbl"]().data[0], lu.nodata)
            axes[i, 2 * j].imshow(np.nan_to_num(rgb), interpolation="nearest")
            axes[i, 2 * j].set_title(f"tile {tile}, {year}", fontsize=9)
            axes[i, 2 * j + 1].imshow(
                lbl, cmap=cmap, vmin=-0.5, vmax=len(classes) - 0.5, interpolation="nearest"
            )
            axes[i, 2 * j + 1].set_title(f"labels {year} ({row['split']})", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    handles = [Patch(color=colours[c], label=c) for c in classes]
    fig.legend(handles=handles, loc="lower center", ncol=len(classes), frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
