"""Economics: yields, prices, exchange rates and the valuation (``economics`` in
parameters_economics.yml), and the season notation of its tables ("2016/17")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from cocoa_threat.params.base import Block, StrictModel

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


def season_bounds(season: str, start_month: int) -> tuple[dt.date, dt.date]:
    """The first day of a season and of the next one."""
    year = season_start_year(season)
    return dt.date(year, start_month, 1), dt.date(year + 1, start_month, 1)


def check_schedule(schedule: Mapping[dt.date, float], season: str, start_month: int) -> None:
    """A season's price schedule: the first price in force when it began, changes within it.

    Raises:
        ValueError: If the first price starts after the season began or a change
            falls outside the season.
    """
    start, end = season_bounds(season, start_month)
    dates = sorted(schedule)
    if dates[0] > start:
        raise ValueError(
            f"season {season}: the first price is from {dates[0]}, after the season began "
            f"({start}); give the price in force on {start}"
        )
    outside = [str(d) for d in dates[1:] if not start < d < end]
    if outside:
        raise ValueError(f"season {season}: price changes {outside} are not within {start}-{end}")


class Scenario(StrictModel):
    """Low / central / high values."""

    low: float = Field(gt=0)
    central: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> Scenario:
        if not self.low <= self.central <= self.high:
            raise ValueError("needs low <= central <= high")
        return self


class PriceGrowth(StrictModel):
    """Real (inflation-adjusted) yearly change of the producer price after the latest season."""

    flat: float = Field(0.0, gt=-1, lt=1)
    low: float = Field(-0.10, gt=-1, lt=1)
    high: float = Field(0.02, gt=-1, lt=1)


class MeanReversion(StrictModel):
    """The ``mean_reverting`` price path: the real price returns towards a long-run mean."""

    mean_seasons: tuple[str, str]
    half_life_years: float = Field(3.0, gt=0, le=100)


class EconomicsParams(Block):
    """All of ``economics``."""

    conf_key = "economics"

    yield_kg_per_ha: Scenario
    producer_price_ghs_per_t: dict[str, float | dict[dt.date, float]]
    exchange_rate_ghs_per_usd: dict[str, float]
    season_start_month: int = Field(10, ge=1, le=12)
    conversion_timing: Literal["linear", "end"] = "linear"
    image_dates: dict[Literal["before", "after"], dt.date]
    first_season: str
    latest_season: str
    cpi_inflation_pct: dict[int, float]
    price_base_season: str
    real_discount_rate: float = Field(0.06, ge=0)
    horizon_years: int = Field(10, ge=0)
    price_growth: PriceGrowth = Field(default_factory=PriceGrowth)
    price_mean_reversion: MeanReversion
    confidence: float = Field(0.95, gt=0, lt=1)
    conversion: str = "cocoa -> mining"

    @model_validator(mode="after")
    def _check(self) -> EconomicsParams:
        first, last = season_start_year(self.first_season), season_start_year(self.latest_season)
        if last < first:
            raise ValueError("economics.latest_season is before economics.first_season")
        if set(self.image_dates) != {"before", "after"} or not (
            self.image_dates["before"] < self.image_dates["after"]
        ):
            raise ValueError("economics.image_dates needs before < after")
        for key in ("producer_price_ghs_per_t", "exchange_rate_ghs_per_usd"):
            table = getattr(self, key)
            for season in table:
                season_start_year(season)
            missing = [
                season_name(y) for y in range(first, last + 1) if season_name(y) not in table
            ]
            if missing:
                raise ValueError(
                    f"economics.{key} has no value for season(s) {missing}; add them "
                    f"(seasons {self.first_season} to {self.latest_season} are valued)"
                )
            bad = [
                s
                for s, v in table.items()
                if min(v.values() if isinstance(v, dict) else [v], default=0) <= 0
            ]
            if bad:
                raise ValueError(f"economics.{key} must be > 0 (seasons {bad})")
        if self.price_base_season not in self.seasons():
            raise ValueError(
                f"economics.price_base_season {self.price_base_season!r} is not one of the "
                f"valued seasons {self.first_season} to {self.latest_season}"
            )
        self._check_schedules()
        lo, hi = self.price_mean_reversion.mean_seasons
        if not {lo, hi} <= set(self.seasons()) or season_start_year(hi) < season_start_year(lo):
            raise ValueError(
                f"economics.price_mean_reversion.mean_seasons {[lo, hi]} must be first and last "
                f"of valued seasons ({self.first_season} to {self.latest_season})"
            )
        needed = [y for y in range(first, last + 2) if y not in self.cpi_inflation_pct]
        if needed:
            raise ValueError(
                f"economics.cpi_inflation_pct has no value for year(s) {needed} (a season "
                f"spans two calendar years)"
            )
        return self

    def _check_schedules(self) -> None:
        for season, value in self.producer_price_ghs_per_t.items():
            if isinstance(value, dict):
                try:
                    check_schedule(value, season, self.season_start_month)
                except ValueError as exc:
                    raise ValueError(f"economics.producer_price_ghs_per_t: {exc}") from exc

    def seasons(self) -> list[str]:
        """The valued seasons, first to latest."""
        return seasons_between(self.first_season, self.latest_season)
