"""Nodes of the economics pipeline: cocoa beans and money lost to mining."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.params import land_use_params, require_cocoa
from cocoa_threat.pipelines.economics.params import (
    EconomicsParams,
    economics_params,
    season_start_year,
)

logger = logging.getLogger(__name__)

SCENARIOS = ("low", "central", "high")


def converted_share(season: str, p: EconomicsParams) -> float:
    """Share of the converted area already lost when ``season`` starts.

    ``linear``: conversion at a constant rate between the two image dates;
    ``end``: all of it at the later image date. A season counts as lost if the
    land was converted before the season began.
    """
    start = dt.date(season_start_year(season), p.season_start_month, 1)
    before, after = p.image_dates["before"], p.image_dates["after"]
    if p.conversion_timing == "end":
        return 1.0 if start >= after else 0.0
    span = (after - before).days
    return float(np.clip((start - before).days / span, 0.0, 1.0))


def _area(area_estimates: pd.DataFrame, p: EconomicsParams) -> dict[str, float]:
    """The converted area of the whole region: the estimate and its interval as low / high."""
    rows = area_estimates[
        (area_estimates["quantity"] == p.conversion)
        & (area_estimates.get("population", "whole region") == "whole region")
    ]
    if rows.empty:
        raise ValueError(
            f"area_estimates has no row '{p.conversion}' for the whole region "
            f"(economics.conversion); quantities: {sorted(set(area_estimates['quantity']))}"
        )
    r = rows.iloc[0]
    if not (np.isfinite(r["ci_low_ha"]) and np.isfinite(r["ci_high_ha"])):
        logger.warning(
            "The area of %s has no confidence interval (%s): the low and high cases are "
            "not available",
            p.conversion,
            r.get("note", "see area_estimates"),
        )
    return {
        "low": float(r["ci_low_ha"]),
        "central": float(r["adjusted_ha"]),
        "high": float(r["ci_high_ha"]),
        "map": float(r["map_ha"]),
    }


def loss_by_season(
    area_estimates: pd.DataFrame, economics: dict[str, Any], land_use: dict[str, Any]
) -> pd.DataFrame:
    """Area lost to date, beans and value lost per season (low / central / high).

    Value lost in a season = area converted before the season x yield x that
    season's producer price; a converted hectare stays lost in every later season.
    Low and high combine the area's confidence bounds with the low and high yields.

    Args:
        area_estimates: The transition pipeline's error-adjusted areas.
        economics: The ``economics`` parameters.
        land_use: The ``land_use`` parameters (the study must have a cocoa class).

    Returns:
        ``economic_loss_by_season``.
    """
    p = economics_params(economics)
    require_cocoa(land_use_params(land_use), "The economics pipeline")
    area = _area(area_estimates, p)
    rows = []
    for season in p.seasons():
        share = converted_share(season, p)
        price = p.producer_price_ghs_per_t[season]
        fx = p.exchange_rate_ghs_per_usd[season]
        row: dict[str, Any] = {
            "season": season,
            "converted_share": share,
            "price_ghs_per_t": price,
            "ghs_per_usd": fx,
        }
        for s in SCENARIOS:
            ha = area[s] * share
            tonnes = ha * getattr(p.yield_kg_per_ha, s) / 1000.0
            row[f"area_lost_ha_{s}"] = ha
            row[f"beans_lost_t_{s}"] = tonnes
            row[f"value_lost_ghs_{s}"] = tonnes * price
            row[f"value_lost_usd_{s}"] = tonnes * price / fx
        rows.append(row)
    table = pd.DataFrame(rows)
    for s in SCENARIOS:
        table[f"cumulative_ghs_{s}"] = table[f"value_lost_ghs_{s}"].cumsum()
        table[f"cumulative_usd_{s}"] = table[f"value_lost_usd_{s}"].cumsum()
    return table


def present_value(annual: float, rate: float, years: int) -> float:
    """Present value of ``annual`` received at the end of each of ``years`` years."""
    k = np.arange(1, years + 1)
    return float(np.sum(annual / (1.0 + rate) ** k))


def economic_summary(
    area_estimates: pd.DataFrame, economic_loss_by_season: pd.DataFrame, economics: dict[str, Any]
) -> pd.DataFrame:
    """Headline figures: area, cumulative value lost, present value of future losses.

    The future losses are the latest season's loss (all converted area, latest
    price) over ``economics.horizon_years`` seasons, discounted at
    ``economics.discount_rate``.

    Returns:
        ``economic_summary``: one row per figure, columns low / central / high.
    """
    p = economics_params(economics)
    area = _area(area_estimates, p)
    last = economic_loss_by_season.iloc[-1]
    price = p.producer_price_ghs_per_t[p.latest_season]
    fx = p.exchange_rate_ghs_per_usd[p.latest_season]
    rows = {
        "cocoa area converted, ha (estimate; low, high: 95% CI)": {s: area[s] for s in SCENARIOS},
        "cocoa area converted, ha (map count)": dict.fromkeys(SCENARIOS, area["map"]),
        f"beans lost in {p.latest_season}, t": {s: last[f"beans_lost_t_{s}"] for s in SCENARIOS},
        f"value lost {p.first_season}-{p.latest_season}, GH¢": {
            s: last[f"cumulative_ghs_{s}"] for s in SCENARIOS
        },
        f"value lost {p.first_season}-{p.latest_season}, US$": {
            s: last[f"cumulative_usd_{s}"] for s in SCENARIOS
        },
    }
    pv_ghs, pv_usd = {}, {}
    for s in SCENARIOS:
        annual = area[s] * getattr(p.yield_kg_per_ha, s) / 1000.0 * price
        pv_ghs[s] = present_value(annual, p.discount_rate, p.horizon_years)
        pv_usd[s] = pv_ghs[s] / fx
    rows[f"present value of the next {p.horizon_years} seasons, GH¢"] = pv_ghs
    rows[f"present value of the next {p.horizon_years} seasons, US$"] = pv_usd
    table = pd.DataFrame([{"figure": k, **v} for k, v in rows.items()])
    logger.info(
        "Cocoa lost to mining: %.0f ha (%.0f-%.0f); value lost %s-%s US$ %.0f (%.0f-%.0f)",
        area["central"],
        area["low"],
        area["high"],
        p.first_season,
        p.latest_season,
        last["cumulative_usd_central"],
        last["cumulative_usd_low"],
        last["cumulative_usd_high"],
    )
    return table


def loss_by_district(
    transition_by_district: pd.DataFrame,
    economic_summary: pd.DataFrame,
    economics: dict[str, Any],
) -> pd.DataFrame:
    """Split the headline figures over districts by their share of the mapped conversion.

    Returns:
        ``economic_loss_by_district``: district, mapped hectares, share and the
        error-adjusted area and values (low / central / high).
    """
    p = economics_params(economics)
    src, dst = (part.strip() for part in p.conversion.split("->"))
    conv = transition_by_district[
        (transition_by_district["from_class"] == src) & (transition_by_district["to_class"] == dst)
    ]
    total = conv["hectares"].sum()
    summary = economic_summary.set_index("figure")
    picks = {
        "area_ha": "cocoa area converted, ha (estimate; low, high: 95% CI)",
        "value_lost_ghs": f"value lost {p.first_season}-{p.latest_season}, GH¢",
        "value_lost_usd": f"value lost {p.first_season}-{p.latest_season}, US$",
        "present_value_usd": f"present value of the next {p.horizon_years} seasons, US$",
    }
    rows = []
    for r in conv.itertuples():
        share = r.hectares / total if total > 0 else 0.0
        row = {"district": r.district, "map_ha": r.hectares, "share": share}
        for name, figure in picks.items():
            for s in SCENARIOS:
                row[f"{name}_{s}"] = share * summary.loc[figure, s]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("map_ha", ascending=False).reset_index(drop=True)


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
