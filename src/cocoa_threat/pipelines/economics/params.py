"""Validated parameters of the economics pipeline (``economics`` in conf)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from cocoa_threat.analysis.economics import (
    Valuation,
    season_name,
    season_price,
    season_price_index,
    season_start_year,
    seasons_between,
)
from cocoa_threat.params import StrictModel, parse_params


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


class EconomicsParams(StrictModel):
    """All of ``economics``."""

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
                    season_price(value, season, self.season_start_month)
                except ValueError as exc:
                    raise ValueError(f"economics.producer_price_ghs_per_t: {exc}") from exc

    def prices(self) -> dict[str, float]:
        """Each season's producer price; one that changed within the season, its day mean."""
        return {
            season: season_price(v, season, self.season_start_month)
            if isinstance(v, dict)
            else float(v)
            for season, v in self.producer_price_ghs_per_t.items()
        }

    def seasons(self) -> list[str]:
        """The valued seasons, first to latest."""
        return seasons_between(self.first_season, self.latest_season)

    def valuation(self) -> Valuation:
        """Yields (t/ha), producer prices, the deflator and exchange rates for the library."""
        index = season_price_index(self.cpi_inflation_pct, self.seasons(), self.season_start_month)
        base = index[self.price_base_season]
        return Valuation(
            yield_t_per_ha={k: v / 1000.0 for k, v in self.yield_kg_per_ha.model_dump().items()},
            price_per_t=self.prices(),
            local_per_usd=self.exchange_rate_ghs_per_usd,
            deflator={season: base / value for season, value in index.items()},
        )


def economics_params(params: dict[str, Any]) -> EconomicsParams:
    """Validate the ``economics`` parameters."""
    return parse_params(EconomicsParams, params, "economics")
