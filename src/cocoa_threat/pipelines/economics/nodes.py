"""Nodes of the economics pipeline: cocoa beans and money lost to mining.

The arithmetic is in :mod:`cocoa_threat.analysis.economics`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.analysis.economics import (
    SCENARIOS,
    conversion_rows,
    converted_area,
    converted_share,
    losses_by_season,
    present_value,
    share_by_district,
)
from cocoa_threat.params import land_use_params, require_cocoa
from cocoa_threat.pipelines.economics.params import EconomicsParams, economics_params
from cocoa_threat.provenance import one_version, stamped, table_version

logger = logging.getLogger(__name__)


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
    return {
        "area": "cocoa area converted, ha (estimate; low, high: 95% CI)",
        "map": "cocoa area converted, ha (map count)",
        "beans": f"beans lost in {p.latest_season}, t",
        "ghs": f"value lost {seasons}, GH¢",
        "usd": f"value lost {seasons}, US$",
        "pv_ghs": f"present value of the next {p.horizon_years} seasons, GH¢",
        "pv_usd": f"present value of the next {p.horizon_years} seasons, US$",
    }


def loss_by_season(
    area_estimates: pd.DataFrame, economics: dict[str, Any], land_use: dict[str, Any]
) -> pd.DataFrame:
    """Area lost to date, beans and value lost per season (low / central / high).

    Args:
        area_estimates: The transition pipeline's error-adjusted areas.
        economics: The ``economics`` parameters.
        land_use: The ``land_use`` parameters (the study must have a cocoa class).

    Returns:
        ``economic_loss_by_season``.
    """
    p = economics_params(economics)
    require_cocoa(land_use_params(land_use), "The economics pipeline")
    before, after = p.image_dates["before"], p.image_dates["after"]
    shares = {
        s: converted_share(s, before, after, p.season_start_month, p.conversion_timing)
        for s in p.seasons()
    }
    table = losses_by_season(_area(area_estimates, p), shares, p.valuation())
    return stamped(table, table_version(area_estimates, "area_estimates"))


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
    version = one_version(
        {
            "area_estimates": table_version(area_estimates, "area_estimates"),
            "economic_loss_by_season": table_version(economic_loss_by_season, "loss by season"),
        },
        "Economic summary",
    )
    names = _figures(p)
    area, last, value = _area(area_estimates, p), economic_loss_by_season.iloc[-1], p.valuation()
    price, fx = value.price_per_t[p.latest_season], value.local_per_usd[p.latest_season]
    pv = {
        s: present_value(
            area[s] * value.yield_t_per_ha[s] * price, p.discount_rate, p.horizon_years
        )
        for s in SCENARIOS
    }
    rows = {
        names["area"]: {s: area[s] for s in SCENARIOS},
        names["map"]: dict.fromkeys(SCENARIOS, area["map"]),
        names["beans"]: {s: last[f"beans_lost_t_{s}"] for s in SCENARIOS},
        names["ghs"]: {s: last[f"cumulative_ghs_{s}"] for s in SCENARIOS},
        names["usd"]: {s: last[f"cumulative_usd_{s}"] for s in SCENARIOS},
        names["pv_ghs"]: pv,
        names["pv_usd"]: {s: pv[s] / fx for s in SCENARIOS},
    }
    logger.info(
        "Cocoa lost to mining: %.0f ha (%.0f-%.0f); %s US$ %.0f (%.0f-%.0f)",
        area["central"],
        area["low"],
        area["high"],
        names["usd"],
        *(last[f"cumulative_usd_{s}"] for s in ("central", "low", "high")),
    )
    return stamped(pd.DataFrame([{"figure": k, **v} for k, v in rows.items()]), version)


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
    version = one_version(
        {
            "transition_by_district": table_version(transition_by_district, "transitions"),
            "economic_summary": table_version(economic_summary, "economic_summary"),
        },
        "Economic loss by district",
    )
    names, summary = _figures(p), economic_summary.set_index("figure")
    picks = {"area_ha": "area", "value_lost_ghs": "ghs", "value_lost_usd": "usd"}
    picks["present_value_usd"] = "pv_usd"
    totals = {out: summary.loc[names[key], list(SCENARIOS)] for out, key in picks.items()}
    table = share_by_district(conversion_rows(transition_by_district, p.conversion), totals)
    return stamped(table, version)
