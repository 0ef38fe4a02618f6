"""Charts of tables: money lost per season."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot_losses(economic_loss_by_season: pd.DataFrame) -> Figure:
    """Value lost per season (central, with low-high range) and cumulative, in US$."""
    t = economic_loss_by_season
    fig, ax = plt.subplots(figsize=(9, 4.2))
    x = np.arange(len(t))
    central = t["value_lost_usd_central"] / 1e6
    err = np.vstack(
        [central - t["value_lost_usd_low"] / 1e6, t["value_lost_usd_high"] / 1e6 - central]
    )
    ax.bar(
        x, central, yerr=err, color="#a6611a", alpha=0.85, capsize=3, label="per season (low-high)"
    )
    ax.set_xticks(x, t["season"], rotation=45, ha="right")
    ax.set_ylabel("value lost per season, US$ million")
    ax2 = ax.twinx()
    ax2.plot(
        x, t["cumulative_usd_central"] / 1e6, color="black", marker="o", ms=3, label="cumulative"
    )
    ax2.fill_between(
        x, t["cumulative_usd_low"] / 1e6, t["cumulative_usd_high"] / 1e6, color="grey", alpha=0.2
    )
    ax2.set_ylabel("cumulative, US$ million")
    ax.set_title("Cocoa income lost to mining (COCOBOD producer prices)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
