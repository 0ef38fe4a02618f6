"""The gross value of cocoa production lost to mining: seasons, area, beans and money.

Values are **gross** (beans x producer price): what the lost cocoa would have
sold for at the farm gate, not farm income (inputs and labour are not deducted).
They are given in nominal cedis, in constant cedis of one base season (deflated
with the consumer price index) and in US dollars at each season's average
exchange rate. Everything here is plain arithmetic on explicit arguments; the
economics pipeline validates the parameters and calls it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cocoa_threat.params.economics import (
    EconomicsParams,
    check_schedule,
    season_bounds,
    season_start_year,
    seasons_between,
)

logger = logging.getLogger(__name__)

SCENARIOS = ("low", "central", "high")


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
    """The converted area of the whole region: estimate, its interval's bounds and the map count.

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


def season_price_index(
    inflation_pct: Mapping[int, float], seasons: list[str], start_month: int
) -> dict[str, float]:
    """A consumer price index per season from annual-average inflation by calendar year.

    The calendar-year index is 100 in the first year given and grows by each
    later year's inflation; a season (e.g. October 2016 - September 2017) takes
    the two years' indices weighted by its months in each.

    Args:
        inflation_pct: Annual-average CPI inflation (%) per calendar year.
        seasons: The seasons to index (e.g. "2016/17").
        start_month: Month the season begins.

    Returns:
        Season -> index.

    Raises:
        ValueError: If a year a season needs is missing.
    """
    years = sorted(inflation_pct)
    index = {years[0]: 100.0}
    for prev, year in zip(years, years[1:], strict=False):
        if year != prev + 1:
            raise ValueError(f"the inflation series has no year between {prev} and {year}")
        index[year] = index[prev] * (1 + inflation_pct[year] / 100.0)
    first_weight = (13 - start_month) / 12.0
    out = {}
    for season in seasons:
        y = season_start_year(season)
        missing = [v for v in (y, y + 1) if v not in index]
        if missing:
            raise ValueError(f"season {season} needs inflation for {missing}")
        out[season] = first_weight * index[y] + (1 - first_weight) * index[y + 1]
    return out


@dataclass(frozen=True)
class Valuation:
    """How a hectare of cocoa is valued: yields, per-season prices, deflator and exchange rates.

    Attributes:
        yield_t_per_ha: Dry-bean yield, tonnes per hectare, per scenario.
        price_per_t: Nominal producer price per season (local currency per tonne).
        local_per_usd: Local currency per US$, season average.
        deflator: Per season, the factor that turns its local currency into the base
            season's (price index of the base season / the season's).
    """

    yield_t_per_ha: Mapping[str, float]
    price_per_t: Mapping[str, float]
    local_per_usd: Mapping[str, float]
    deflator: Mapping[str, float]


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
        One row per season: the prices, ``area_lost_ha_<s>``, ``beans_lost_t_<s>``,
        ``value_lost_ghs_<s>`` (nominal), ``value_lost_ghs_const_<s>`` (base-season
        cedis), ``value_lost_usd_<s>`` and their cumulative sums.
    """
    rows = []
    for season, share in shares.items():
        price, fx = valuation.price_per_t[season], valuation.local_per_usd[season]
        deflator = valuation.deflator[season]
        row: dict[str, float | str] = {
            "season": season,
            "converted_share": share,
            "price_ghs_per_t": price,
            "deflator": deflator,
            "price_ghs_per_t_const": price * deflator,
            "ghs_per_usd": fx,
        }
        for s in SCENARIOS:
            ha = area[s] * share
            tonnes = ha * valuation.yield_t_per_ha[s]
            row[f"area_lost_ha_{s}"] = ha
            row[f"beans_lost_t_{s}"] = tonnes
            row[f"value_lost_ghs_{s}"] = tonnes * price
            row[f"value_lost_ghs_const_{s}"] = tonnes * price * deflator
            row[f"value_lost_usd_{s}"] = tonnes * price / fx
        rows.append(row)
    table = pd.DataFrame(rows)
    for s in SCENARIOS:
        table[f"cumulative_ghs_{s}"] = table[f"value_lost_ghs_{s}"].cumsum()
        table[f"cumulative_ghs_const_{s}"] = table[f"value_lost_ghs_const_{s}"].cumsum()
        table[f"cumulative_usd_{s}"] = table[f"value_lost_usd_{s}"].cumsum()
    return table


def season_price(schedule: Mapping[dt.date, float], season: str, start_month: int) -> float:
    """The price of a season whose price changed within it: the mean over its days.

    Args:
        schedule: Price from each date on (the first on or before the season's
            first day, the others within the season).
        season: The season, e.g. "2023/24".
        start_month: Month the season begins.

    Raises:
        ValueError: If the first price starts after the season began or a change
            falls outside the season.
    """
    check_schedule(schedule, season, start_month)
    start, end = season_bounds(season, start_month)
    dates = sorted(schedule)
    bounds = [start, *dates[1:], end]
    days = np.diff([d.toordinal() for d in bounds])
    prices = [schedule[d] for d in dates]
    return float(np.dot(days, prices) / days.sum())


def present_value(values: np.ndarray, rate: float) -> float:
    """Present value of ``values[k - 1]`` received at the end of years k = 1..len(values)."""
    k = np.arange(1, len(values) + 1)
    return float(np.sum(np.asarray(values, float) / (1.0 + rate) ** k))


def growth_path(start: float, growth: float, years: int) -> np.ndarray:
    """``start * (1 + growth) ** k`` for the years k = 1..years after the start."""
    return start * (1.0 + growth) ** np.arange(1, years + 1)


def mean_reverting_path(start: float, mean: float, half_life: float, years: int) -> np.ndarray:
    """A value that closes half its gap to ``mean`` every ``half_life`` years, k = 1..years.

    ``mean + (start - mean) * 0.5 ** (k / half_life)``: the expected path of a
    first-order autoregressive (Ornstein-Uhlenbeck) price with that long-run mean.
    """
    k = np.arange(1, years + 1)
    return mean + (start - mean) * 0.5 ** (k / half_life)


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


def season_prices(p: EconomicsParams) -> dict[str, float]:
    """Each season's producer price; one that changed within the season, its day mean."""
    return {
        season: season_price(v, season, p.season_start_month) if isinstance(v, dict) else float(v)
        for season, v in p.producer_price_ghs_per_t.items()
    }


def valuation(p: EconomicsParams) -> Valuation:
    """Yields (t/ha), producer prices, the deflator and exchange rates of ``economics``."""
    index = season_price_index(p.cpi_inflation_pct, p.seasons(), p.season_start_month)
    base = index[p.price_base_season]
    return Valuation(
        yield_t_per_ha={k: v / 1000.0 for k, v in p.yield_kg_per_ha.model_dump().items()},
        price_per_t=season_prices(p),
        local_per_usd=p.exchange_rate_ghs_per_usd,
        deflator={season: base / value for season, value in index.items()},
    )


PRICE_SCENARIOS = ("flat", "mean_reverting", "low", "high")


def price_paths(p: EconomicsParams, value: Valuation) -> dict[str, np.ndarray]:
    """The real price (base-season cedis) of each future season under each price scenario.

    ``flat``, ``low`` and ``high`` change by ``price_growth`` a year from the base
    season's real price; ``mean_reverting`` closes half its gap to the mean real price
    of ``price_mean_reversion.mean_seasons`` every ``half_life_years``.
    """
    real = {s: value.price_per_t[s] * value.deflator[s] for s in p.seasons()}
    base, years, g = real[p.price_base_season], p.horizon_years, p.price_growth
    lo, hi = p.price_mean_reversion.mean_seasons
    window = seasons_between(lo, hi)
    mean = float(np.mean([real[s] for s in window]))
    paths = {name: growth_path(base, getattr(g, name), years) for name in ("flat", "low", "high")}
    half_life = p.price_mean_reversion.half_life_years
    paths["mean_reverting"] = mean_reverting_path(base, mean, half_life, years)
    logger.info(
        "Real producer price paths from %.0f GH¢/t (%s): mean-reverting to %.0f (mean of %s "
        "to %s) with a half-life of %g years",
        base,
        p.price_base_season,
        mean,
        lo,
        hi,
        half_life,
    )
    return {name: paths[name] for name in PRICE_SCENARIOS}


def present_values(
    area: Mapping[str, float], p: EconomicsParams, value: Valuation
) -> dict[str, dict[str, float]]:
    """Present value of the future gross value of the converted area, per price scenario.

    Each of the next ``horizon_years`` seasons loses ``area[s] * yield[s]`` tonnes
    (``s`` in :data:`SCENARIOS`) sold at the scenario's real price
    (:func:`price_paths`), discounted at ``real_discount_rate``: base-season cedis.

    Returns:
        For each price scenario, the low / central / high present values.
    """
    return {
        scenario: {
            s: present_value(area[s] * value.yield_t_per_ha[s] * path, p.real_discount_rate)
            for s in SCENARIOS
        }
        for scenario, path in price_paths(p, value).items()
    }
