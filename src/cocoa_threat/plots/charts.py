"""Charts of tables: money lost per season."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot_losses(economic_loss_by_season: pd.DataFrame, base_season: str) -> Figure:
    """Gross value lost per season (central, low-high range) and cumulated, at constant prices."""
    t = economic_loss_by_season
    fig, ax = plt.subplots(figsize=(9, 4.2))
    x = np.arange(len(t))
    central = t["value_lost_ghs_const_central"] / 1e6
    err = np.vstack(
        [
            central - t["value_lost_ghs_const_low"] / 1e6,
            t["value_lost_ghs_const_high"] / 1e6 - central,
        ]
    )
    ax.bar(
        x, central, yerr=err, color="#a6611a", alpha=0.85, capsize=3, label="per season (low-high)"
    )
    ax.set_xticks(x, t["season"], rotation=45, ha="right")
    ax.set_ylabel(f"per season, GH¢ million ({base_season} prices)")
    ax2 = ax.twinx()
    ax2.plot(
        x,
        t["cumulative_ghs_const_central"] / 1e6,
        color="black",
        marker="o",
        ms=3,
        label="cumulative",
    )
    ax2.fill_between(
        x,
        t["cumulative_ghs_const_low"] / 1e6,
        t["cumulative_ghs_const_high"] / 1e6,
        color="grey",
        alpha=0.2,
    )
    ax2.set_ylabel(f"cumulative, GH¢ million ({base_season} prices)")
    ax.set_title("Gross value of cocoa production lost to mining (COCOBOD prices, deflated)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def plot_sensitivity(table: pd.DataFrame, labels: list[str], change: float) -> Figure:
    """Tornado chart: the change in cocoa area of the upper risk classes, per setting +/-."""
    rows = table[table["group"] != "baseline"].copy()
    rows["setting"] = rows["scenario"].str.replace(r" [+-]\d+%$", "", regex=True)
    rows["sign"] = np.where(rows["scenario"].str.contains(r"\+\d+%$"), "+", "-")
    wide = rows.pivot_table(
        index="setting", columns="sign", values="upper_classes_change_ha", aggfunc="first"
    ).fillna(0.0)
    wide = wide.reindex(wide.abs().max(axis=1).sort_values().index)
    upper = " + ".join(labels[len(labels) // 2 :])
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(wide) + 1.5))
    y = np.arange(len(wide))
    ax.barh(y, wide.get("+", 0.0), color="#b2182b", alpha=0.85, label=f"setting +{change:.0%}")
    ax.barh(y, wide.get("-", 0.0), color="#2166ac", alpha=0.85, label=f"setting -{change:.0%}")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, wide.index, fontsize=8)
    base = float(table.loc[table["group"] == "baseline", "upper_classes_ha"].iloc[0])
    ax.set_xlabel(f"change in cocoa area at {upper} risk, ha (baseline {base:,.0f} ha)")
    ax.set_title("Sensitivity of the risk map, one setting at a time")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig
