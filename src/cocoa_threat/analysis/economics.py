"""The value of cocoa lost to mining: seasons, converted area over time, beans and money.

Everything here is plain arithmetic on explicit arguments; the economics
pipeline validates the parameters and calls it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

SCENARIOS = ("low", "central", "high")
SEASON = re.compile(r"^(\d{4})/(\d{2})$")


def season_start_year(season: str) -> int:
    """2016 for "2016/17".

    Raises:
        ValueError: If the season is not written like 2016/17.
    """
    match = SEASON.match(season)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"season {season!r} is not of the form 2016/17")
    return int(match[1])


def season_name(start_year: int) -> str:
    """ "2016/17" for 2016."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def seasons_between(first: str, last: str) -> list[str]:
    """The seasons from ``first`` to ``last``, both included."""
    return [season_name(y) for y in range(season_start_year(first), season_start_year(last) + 1)]


def converted_share(
    season: str,
    before: dt.date,
    after: dt.date,
    start_month: int,
    timing: Literal["linear", "end"],
) -> float:
    """Share of the area converted between two images that is lost when ``season`` starts.

    A season counts as lost if the land was converted before the season began
    (the first day of ``start_month``).

    Args:
        season: The season, e.g. "2016/17".
        before: Date of the earlier image.
        after: Date of the later image.
        start_month: Month the season begins.
        timing: ``linear`` (a constant rate between the image dates) or ``end``
            (all at the later image date).

    Returns:
        A share in [0, 1].
    """
    start = dt.date(season_start_year(season), start_month, 1)
    if timing == "end":
        return 1.0 if start >= after else 0.0
    span = (after - before).days
    return float(np.clip((start - before).days / span, 0.0, 1.0))


def converted_area(area_estimates: pd.DataFrame, quantity: str) -> dict[str, float]:
    """The converted area of the whole region: estimate, its 95% bounds and the map count.

    Args:
        area_estimates: The transition pipeline's error-adjusted areas.
        quantity: The row that is lost cocoa, e.g. "cocoa -> mining".

    Returns:
        ``low`` / ``central`` / ``high`` (CI bounds, NaN where the design gives
        no interval) and ``map`` hectares.

    Raises:
        ValueError: If the table has no such row for the whole region.
    """
    population = area_estimates.get("population", pd.Series("whole region", area_estimates.index))
    rows = area_estimates[(area_estimates["quantity"] == quantity) & (population == "whole region")]
    if rows.empty:
        raise ValueError(
            f"area_estimates has no row '{quantity}' for the whole region "
            f"(economics.conversion); quantities: {sorted(set(area_estimates['quantity']))}"
        )
    r = rows.iloc[0]
    return {
        "low": float(r["ci_low_ha"]),
        "central": float(r["adjusted_ha"]),
        "high": float(r["ci_high_ha"]),
        "map": float(r["map_ha"]),
    }


@dataclass(frozen=True)
class Valuation:
    """How a hectare of cocoa is valued: yields and per-season prices and exchange rates.

    Attributes:
        yield_t_per_ha: Dry-bean yield, tonnes per hectare, per scenario.
        price_per_t: Producer price per season (local currency per tonne).
        local_per_usd: Local currency per US$, per season.
    """

    yield_t_per_ha: Mapping[str, float]
    price_per_t: Mapping[str, float]
    local_per_usd: Mapping[str, float]


def losses_by_season(
    area: Mapping[str, float],
    shares: Mapping[str, float],
    valuation: Valuation,
) -> pd.DataFrame:
    """Area lost to date, beans and value lost per season, per scenario, and cumulated.

    Value lost in a season = area converted before the season x yield x that
    season's price; a converted hectare stays lost in every later season. Low
    and high pair the area's bounds with the low and high yields.

    Args:
        area: Converted hectares per scenario (:func:`converted_area`).
        shares: Share of the area lost at each season's start, in season order.
        valuation: Yields, prices and exchange rates.

    Returns:
        One row per season: ``area_lost_ha_<s>``, ``beans_lost_t_<s>``,
        ``value_lost_ghs_<s>``, ``value_lost_usd_<s>`` and cumulative sums.
    """
    rows = []
    for season, share in shares.items():
        price, fx = valuation.price_per_t[season], valuation.local_per_usd[season]
        row: dict[str, float | str] = {
            "season": season,
            "converted_share": share,
            "price_ghs_per_t": price,
            "ghs_per_usd": fx,
        }
        for s in SCENARIOS:
            ha = area[s] * share
            tonnes = ha * valuation.yield_t_per_ha[s]
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


def share_by_district(
    conversions: pd.DataFrame, totals: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """Split regional totals over districts by their share of the mapped conversion.

    Args:
        conversions: District and mapped ``hectares`` of the conversion.
        totals: For each output name, its low / central / high regional values.

    Returns:
        district, map_ha, share and ``<name>_<scenario>`` columns, largest first.
    """
    total = conversions["hectares"].sum()
    rows = []
    for r in conversions.itertuples():
        share = r.hectares / total if total > 0 else 0.0
        row = {"district": r.district, "map_ha": r.hectares, "share": share}
        for name, values in totals.items():
            for s in SCENARIOS:
                row[f"{name}_{s}"] = share * values[s]
        rows.append(row)
    columns = ["district", "map_ha", "share"]
    return pd.DataFrame(rows, columns=columns if not rows else None).sort_values(
        "map_ha", ascending=False, ignore_index=True
    )


def conversion_rows(transitions: pd.DataFrame, conversion: str) -> pd.DataFrame:
    """The rows of a from/to table for ``"<from> -> <to>"``."""
    src, dst = (part.strip() for part in conversion.split("->"))
    return transitions[(transitions["from_class"] == src) & (transitions["to_class"] == dst)]
