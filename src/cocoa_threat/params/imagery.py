"""Validated parameters of the imagery pipeline (``imagery`` in conf, parameters_imagery.yml)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from cocoa_threat.params.base import Block, StrictModel

MONTH_DAY = re.compile(r"^(?P<month>\d{2})-(?P<day>\d{2})$")
SCL_CLASSES = range(12)  # the Sentinel-2 L2A scene classification's classes 0..11
OFFSET_SOURCES = (
    "earthsearch:boa_offset_applied",
    "raster:bands",
    "s2:processing_baseline",
    "date",
)


def _month_day(text: str) -> tuple[int, int]:
    match = MONTH_DAY.match(text)
    if not match:
        raise ValueError(f"{text!r} is not MM-DD (e.g. 01-31)")
    month, day = int(match["month"]), int(match["day"])
    date(2000, month, day)  # a leap year: 02-29 is allowed (it becomes 02-28 in other years)
    return month, day


def _on(year: int, month: int, day: int) -> date:
    if (month, day) == (2, 29) and not (year % 4 == 0 and (year % 100 or year % 400 == 0)):
        return date(year, 2, 28)
    return date(year, month, day)


class Season(StrictModel):
    """The window of the year whose clear observations make a composite.

    A window whose start comes after its end in the calendar (``12-01`` to
    ``02-28``) crosses the new year and belongs to the year in which it ends.
    """

    start: str = Field("01-01", description="First day, MM-DD.")
    end: str = Field("01-31", description="Last day (included), MM-DD.")

    @field_validator("start", "end")
    @classmethod
    def _valid(cls, value: str) -> str:
        _month_day(value)
        return value

    def window(self, year: int) -> tuple[date, date]:
        """First and last day (both included) of the window of ``year``."""
        start, end = _month_day(self.start), _month_day(self.end)
        first_year = year - 1 if start > end else year
        return _on(first_year, *start), _on(year, *end)


class AreaSpec(StrictModel):
    """Where to make composites: the district boundaries, or a box."""

    source: Literal["districts", "bbox"] = "districts"
    bbox: list[float] | None = Field(None, description="[minx, miny, maxx, maxy] in bbox_crs.")
    bbox_crs: str = "EPSG:4326"
    districts: list[str] = Field(default_factory=list, description="Names to keep; [] = all.")
    name_column: str = "district"
    buffer_m: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> AreaSpec:
        if self.source == "bbox":
            if self.bbox is None or len(self.bbox) != 4:
                raise ValueError("area.bbox must be [minx, miny, maxx, maxy] for source: bbox")
            minx, miny, maxx, maxy = self.bbox
            if not (minx < maxx and miny < maxy):
                raise ValueError(f"area.bbox {self.bbox} must have minx < maxx and miny < maxy")
        return self


class GridParams(StrictModel):
    """The output grid: CRS and pixel size (pixel edges on multiples of it)."""

    crs: str = "EPSG:32630"
    resolution: float = Field(10.0, gt=0)


class DataSpec(StrictModel):
    """Special digital numbers of the reflectance assets."""

    dtype: str = "uint16"
    nodata: float = 0
    saturated: float | None = 65535


class MaskingSpec(StrictModel):
    """Which scene-classification (SCL) classes are not clear observations."""

    masked_classes: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 8, 9, 10])

    @field_validator("masked_classes")
    @classmethod
    def _classes(cls, value: list[int]) -> list[int]:
        bad = [v for v in value if v not in SCL_CLASSES]
        if bad:
            raise ValueError(f"{bad} are not scene-classification classes (0..11)")
        return value


class HarmoniseSpec(StrictModel):
    """How each scene's offset (processing baseline 04.00) is read from its metadata."""

    sources: list[str] = Field(default_factory=lambda: list(OFFSET_SOURCES[:3]))
    boa_add_offset: float = -1000.0
    new_baseline: str = "04.00"
    baseline_change_date: date = date(2022, 1, 25)
    on_conflict: Literal["warn", "error"] = "warn"
    clip_negative: bool = True

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in OFFSET_SOURCES]
        if bad or not value:
            raise ValueError(f"{bad or value}: choose among {list(OFFSET_SOURCES)}")
        return value


class ResamplingSpec(StrictModel):
    """Resampling onto the output grid (the scene classification is always nearest)."""

    reflectance: Literal["nearest", "bilinear", "cubic", "average"] = "nearest"
    dem: Literal["nearest", "bilinear", "cubic"] = "bilinear"


class DemSpec(StrictModel):
    """The elevation band (``collection: null`` leaves it out)."""

    catalog_url: str | None = None
    collection: str | None = "cop-dem-glo-30"
    asset: str = "data"
    band_name: str = "DEM"
    signing: Literal["none", "planetary_computer"] | None = None


class SearchSpec(StrictModel):
    """How the catalog is asked."""

    timeout_s: float = Field(30.0, gt=0)
    retries: int = Field(4, ge=0, le=20)
    backoff_s: float = Field(2.0, ge=0)
    page_size: int = Field(100, ge=1, le=10000)


class CacheSpec(StrictModel):
    """Where searches and downloaded windows are kept, so that a re-run fetches nothing."""

    dir: str = "data/01_raw/imagery_cache"
    local_assets: Literal["read", "cache"] = "read"
    refresh_search: bool = False


class OutputSpec(StrictModel):
    """The composite GeoTIFF."""

    nodata: float = -9999.0
    count_band: str = "CLEAR_COUNT"
    window_size: int = Field(512, ge=32)
    threads: int = Field(2, ge=1)


class ImageryParams(Block):
    """All of ``imagery``."""

    conf_key = "imagery"

    catalog_url: str = "https://earth-search.aws.element84.com/v1"
    collection: str = "sentinel-2-l2a"
    signing: Literal["none", "planetary_computer"] = "none"
    season: Season = Field(default_factory=Season)
    first_available: date = date(2015, 6, 27)
    years: list[int] = Field(default_factory=lambda: [2016, 2022], min_length=1)
    max_cloud_cover: float = Field(80.0, ge=0, le=100)
    area: AreaSpec = Field(default_factory=AreaSpec)
    grid: GridParams = Field(default_factory=GridParams)
    assets: dict[str, str] = Field(min_length=1)
    scl_asset: str | None = "scl"
    data: DataSpec = Field(default_factory=DataSpec)
    masking: MaskingSpec = Field(default_factory=MaskingSpec)
    harmonise: HarmoniseSpec = Field(default_factory=HarmoniseSpec)
    resampling: ResamplingSpec = Field(default_factory=ResamplingSpec)
    dem: DemSpec = Field(default_factory=DemSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    cache: CacheSpec = Field(default_factory=CacheSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)
    progress: bool = True

    @field_validator("years")
    @classmethod
    def _years(cls, years: list[int], info: ValidationInfo) -> list[int]:
        if len(set(years)) != len(years):
            raise ValueError(f"duplicates in {years}")
        season, first = info.data.get("season"), info.data.get("first_available")
        if season is None or first is None:
            return years  # their own errors are reported
        for year in years:
            start, end = season.window(year)
            if end < first:
                raise ValueError(
                    f"the {year} season ({start} to {end}) ends before the first Sentinel-2 "
                    f"L2A acquisition, {first} (imagery.first_available: the start of the "
                    f"collection's temporal extent in the catalog); choose a later year"
                )
        return years

    def windows(self) -> dict[int, tuple[date, date]]:
        """Each year's season window."""
        return {year: self.season.window(year) for year in self.years}
