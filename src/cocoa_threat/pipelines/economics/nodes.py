"""Nodes of the economics pipeline: cocoa beans and money lost to mining.

The arithmetic is in :mod:`cocoa_threat.analysis.economics`.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.analysis.economics import (
    PRICE_SCENARIOS,
    SCENARIOS,
    conversion_rows,
    converted_area,
    converted_share,
    losses_by_season,
    present_values,
    share_by_district,
    valuation,
)
from cocoa_threat.errors import require_finite
from cocoa_threat.params import LandUse, require_cocoa
from cocoa_threat.params.economics import EconomicsParams
from cocoa_threat.plots import charts
from cocoa_threat.provenance import one_version, stamped, table_version

logger = logging.getLogger(__name__)

# What the economic tables are computed from (named when a value is not finite).
INPUTS = "area_estimates (the conversion's adjusted area and interval) and the economics parameters"


def _area(area_estimates: pd.DataFrame, p: EconomicsParams) -> dict[str, float]:
    area = converted_area(area_estimates, p.conversion)
    if not (np.isfinite(area["low"]) and np.isfinite(area["high"])):
        logger.warning(
            "The area of %s has no confidence interval (see area_estimates): the low and "
            "high cases are not available",
            p.conversion,
        )
    return area


def _figures(p: EconomicsParams) -> dict[str, str]:
    """The names of the headline figures (rows of ``economic_summary``)."""
    seasons = f"{p.first_season}-{p.latest_season}"
    gross = f"gross value of lost production {seasons}"
    pv = f"present value of the next {p.horizon_years} seasons' gross value"
    names = {
        "area": f"cocoa area converted, ha (estimate; low, high: {p.confidence:.0%} CI)",
        "map": "cocoa area converted, ha (map count)",
        "beans": f"beans lost in {p.latest_season}, t",
        "ghs": f"{gross}, GH¢ nominal",
        "ghs_const": f"{gross}, GH¢ at {p.price_base_season} prices",
        "usd": f"{gross}, US$ at each season's average rate",
    }
    for scenario in PRICE_SCENARIOS:
        names[f"pv_{scenario}"] = (
            f"{pv}, GH¢ at {p.price_base_season} prices, real price {scenario}"
        )
        names[f"pv_usd_{scenario}"] = f"{pv}, US$ (real price {scenario})"
    return names


def loss_by_season(
    area_estimates: pd.DataFrame, economics: EconomicsParams, land_use: LandUse
) -> pd.DataFrame:
    """Area lost to date, beans and value lost per season (low / central / high).

    Args:
        area_estimates: The transition pipeline's error-adjusted areas.
        economics: The ``economics`` parameters.
        land_use: The ``land_use`` parameters (the study must have a cocoa class).

    Returns:
        ``economic_loss_by_season``.
    """
    p = economics
    require_cocoa(land_use, "The economics pipeline")
    before, after = p.image_dates["before"], p.image_dates["after"]
    shares = {
        s: converted_share(s, before, after, p.season_start_month, p.conversion_timing)
        for s in p.seasons()
    }
    table = losses_by_season(_area(area_estimates, p), shares, valuation(p))
    optional = [c for c in table.columns if c.endswith(("_low", "_high"))]
    require_finite(table, "economic_loss_by_season", INPUTS, optional, key="season")
    return stamped(table, table_version(area_estimates, "area_estimates"))


def _summary_rows(
    area: dict[str, float], last: pd.Series, p: EconomicsParams
) -> dict[str, dict[str, float]]:
    """The low / central / high values of every headline figure, by its name."""
    names, value = _figures(p), valuation(p)
    fx = value.local_per_usd[p.price_base_season]
    rows = {
        names["area"]: {s: area[s] for s in SCENARIOS},
        names["map"]: dict.fromkeys(SCENARIOS, area["map"]),
        names["beans"]: {s: last[f"beans_lost_t_{s}"] for s in SCENARIOS},
        names["ghs"]: {s: last[f"cumulative_ghs_{s}"] for s in SCENARIOS},
        names["ghs_const"]: {s: last[f"cumulative_ghs_const_{s}"] for s in SCENARIOS},
        names["usd"]: {s: last[f"cumulative_usd_{s}"] for s in SCENARIOS},
    }
    for scenario, pv in present_values(area, p, value).items():
        rows[names[f"pv_{scenario}"]] = pv
        rows[names[f"pv_usd_{scenario}"]] = {s: pv[s] / fx for s in SCENARIOS}
    logger.info(
        "Cocoa lost to mining: %.0f ha (%.0f-%.0f); %s: %.0f (%.0f-%.0f)",
        area["central"],
        area["low"],
        area["high"],
        names["ghs_const"],
        *(last[f"cumulative_ghs_const_{s}"] for s in ("central", "low", "high")),
    )
    return rows


def economic_summary(
    area_estimates: pd.DataFrame, economic_loss_by_season: pd.DataFrame, economics: EconomicsParams
) -> pd.DataFrame:
    """Headline figures: area, gross value lost (nominal, constant, US$), present values.

    The future losses are a season's gross value of all the converted area at the
    real price of each price scenario (``economics.price_growth``: flat, low, high
    yearly changes from the base season's real price; ``mean_reverting``: towards a
    long-run mean, ``economics.price_mean_reversion``), over
    ``economics.horizon_years`` seasons, discounted at ``economics.real_discount_rate``;
    in US$ at the base season's rate.

    Returns:
        ``economic_summary``: one row per figure, columns low / central / high.
    """
    p = economics
    version = one_version(
        {
            "area_estimates": table_version(area_estimates, "area_estimates"),
            "economic_loss_by_season": table_version(economic_loss_by_season, "loss by season"),
        },
        "Economic summary",
    )
    rows = _summary_rows(_area(area_estimates, p), economic_loss_by_season.iloc[-1], p)
    table = pd.DataFrame([{"figure": k, **v} for k, v in rows.items()])
    require_finite(table, "economic_summary", INPUTS, ["low", "high"], key="figure")
    return stamped(table, version)


def loss_by_district(
    transition_by_district: pd.DataFrame,
    economic_summary: pd.DataFrame,
    economics: EconomicsParams,
) -> pd.DataFrame:
    """Split the headline figures over districts by their share of the mapped conversion.

    Returns:
        ``economic_loss_by_district``: district, mapped hectares, share and the
        error-adjusted area and values (low / central / high).
    """
    p = economics
    version = one_version(
        {
            "transition_by_district": table_version(transition_by_district, "transitions"),
            "economic_summary": table_version(economic_summary, "economic_summary"),
        },
        "Economic loss by district",
    )
    names, summary = _figures(p), economic_summary.set_index("figure")
    picks = {"area_ha": "area", "value_lost_ghs": "ghs", "value_lost_ghs_const": "ghs_const"}
    picks |= {"value_lost_usd": "usd", "present_value_usd_flat": "pv_usd_flat"}
    totals = {out: summary.loc[names[key], list(SCENARIOS)] for out, key in picks.items()}
    table = share_by_district(conversion_rows(transition_by_district, p.conversion), totals)
    optional = [c for c in table.columns if c.endswith(("_low", "_high"))]
    require_finite(table, "economic_loss_by_district", INPUTS, optional, key="district")
    return stamped(table, version)


def plot_losses(economic_loss_by_season: pd.DataFrame, economics: EconomicsParams) -> Figure:
    """Chart of the gross value lost per season and cumulated, at constant prices."""
    p = economics
    return charts.plot_losses(economic_loss_by_season, p.price_base_season)
