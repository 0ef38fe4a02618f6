"""A yearly series of land-use maps (``series`` in parameters_series.yml)."""

from __future__ import annotations

from pydantic import Field, field_validator

from cocoa_threat.params.base import Block


class SeriesParams(Block):
    """All of ``series``: the years mapped from the imagery pipeline's composites."""

    conf_key = "series"

    years: list[int] = Field(
        description="Years mapped (each needs its composite: imagery.years); >= 2, increasing."
    )
    area_source: str = Field(
        "map area (not adjusted)",
        description="What the series' areas are: map areas, no reference sample behind them.",
    )
    chart_columns: int = Field(3, ge=1, description="Panels per row of the district chart.")

    @field_validator("years")
    @classmethod
    def _years(cls, value: list[int]) -> list[int]:
        if len(value) < 2:
            raise ValueError(f"{value}: a series needs at least two years")
        if len(set(value)) != len(value):
            raise ValueError(f"{value}: a year is listed twice; list each year once")
        if value != sorted(value):
            raise ValueError(f"{value}: list the years in increasing order ({sorted(value)})")
        return value

    def intervals(self) -> list[tuple[int, int]]:
        """Each consecutive pair of years, then first -> last (if not already one of them)."""
        pairs = list(zip(self.years[:-1], self.years[1:], strict=True))
        overall = (self.years[0], self.years[-1])
        return pairs if overall in pairs else [*pairs, overall]
