"""The synthetic demo region (``demo`` in conf/base/parameters_demo.yml).

Everything about the region the demo pipeline generates: its size, CRS, years,
fractions, seed, the cocoa-probability layer, districts and mercury survey. The
class signatures of the landscape are the generator's model of the world
(:mod:`cocoa_threat.demo.region`), not parameters.
"""

from __future__ import annotations

from typing import Literal

from affine import Affine
from pydantic import Field, model_validator

from cocoa_threat.params.base import Block, StrictModel

# The bands the demo generator paints, in the order of the released SmallMinesDS.
DEMO_BANDS = ["B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12", "VV", "VH", "DEM"]


class MercurySurveyConfig(StrictModel):
    """Parameters of the demo survey (``demo.mercury``)."""

    n_road_points: int = Field(220, ge=10)
    n_transects: int = Field(4, ge=0)
    points_per_transect: int = Field(20, ge=2)
    background_ng_m3: float = Field(1.3, gt=0)  # Soerensen et al. 2010
    background_log_sd: float = Field(0.3, ge=0)
    n_burning_sites: int = Field(40, ge=0)
    site_median_ng_m3: float = Field(150.0, gt=0)
    site_log_sd: float = Field(1.0, ge=0)
    plume_length_m: float = Field(250.0, gt=0)
    measurement_log_sd: float = Field(0.15, ge=0)
    survey_date: str = "2022-01-20"
    crs: str = "EPSG:4326"
    instrument: str = "Lumex RA-915M"
    height_m: float = 1.5


class DemoCocoaLayerConfig(StrictModel):
    """The demo's cocoa-probability layer (``demo.cocoa_layer``)."""

    crs: str = Field("EPSG:4326", description="CRS of the layer (national maps: lon/lat).")
    resolution: float = Field(0.00009, gt=0, description="Pixel size in CRS units (~10 m).")
    scale: float = Field(100.0, gt=0, description="Stored value = probability x scale.")
    dtype: Literal["uint8", "float32"] = "uint8"
    nodata: float = 255.0
    margin_px: int = Field(20, ge=0, description="Nodata margin around the region (px).")
    n_gaps: int = Field(3, ge=0, description="Small nodata gaps inside (e.g. cloud).")


class DemoRegionConfig(Block):
    """Parameters of the synthetic demo region (``demo``, conf/base/parameters_demo.yml)."""

    conf_key = "demo"

    regenerate: bool = Field(False, description="Rewrite the demo region even if it is up to date.")
    seed: int = 2016
    n_tiles_x: int = Field(8, ge=2)
    n_tiles_y: int = Field(8, ge=2)
    tile_size: int = Field(128, ge=16)
    edge_trim_x: int = Field(50, ge=0, description="Pixels missing from the last tile column.")
    edge_trim_y: int = Field(91, ge=0, description="Pixels missing from the last tile row.")
    pixel_size: float = Field(10.0, gt=0)
    crs: str = "EPSG:32630"
    center_x: float = 616000.0
    center_y: float = 713000.0
    years: list[int] = Field(default_factory=lambda: [2016, 2022], min_length=2)
    band_names: list[str] = Field(default_factory=lambda: list(DEMO_BANDS))
    image_nodata: float = -9999.0
    mask_nodata: float = 255.0
    tile_id_start: int = Field(1000, ge=0)
    image_template: str = "IMG_GH_{tile}_{year}.tif"
    mask_template: str = "MASK_GH_{tile}_{year}.tif"
    mask_layout: Literal["mining", "mining_cocoa"] = Field(
        "mining",
        description="mining: 1-band masks as released; mining_cocoa: 2-band (mining, cocoa).",
    )
    cocoa_layer: DemoCocoaLayerConfig = Field(default_factory=DemoCocoaLayerConfig)
    cocoa_fraction: float = Field(0.47, gt=0, lt=1)
    mining_fraction_first: float = Field(0.055, gt=0, lt=1)
    mining_fraction_last: float = Field(0.075, gt=0, lt=1)
    revegetated_fraction: float = Field(
        0.08, ge=0, lt=1, description="Share of first-year mining that re-vegetates."
    )
    nodata_tile_fraction: float = Field(0.12, ge=0, le=1)
    districts: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="District name -> (x, y) seed as a fraction of the region.",
    )
    districts_crs: str = Field("EPSG:4326", description="CRS the demo boundaries are written in.")
    mercury: MercurySurveyConfig | None = Field(
        default_factory=MercurySurveyConfig,
        description="Demo survey of gaseous mercury (null: none).",
    )

    @model_validator(mode="after")
    def _check(self) -> DemoRegionConfig:
        unknown = [b for b in self.band_names if b not in DEMO_BANDS]
        if unknown:
            raise ValueError(
                f"demo.band_names has bands the demo generator can't "
                f"paint: {unknown}; use names from {DEMO_BANDS}"
            )
        if self.edge_trim_x >= self.tile_size or self.edge_trim_y >= self.tile_size:
            raise ValueError("demo.edge_trim_x/edge_trim_y must be smaller than tile_size")
        if sorted(self.years) != self.years or len(set(self.years)) != len(self.years):
            raise ValueError("demo.years must be increasing, e.g. [2016, 2022]")
        if self.tile_id_start + self.n_tiles_x * self.n_tiles_y > 9999:
            raise ValueError(
                "demo: tile ids must stay 4-digit; lower tile_id_start or the number of tiles"
            )
        return self

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the whole region in pixels."""
        return (
            self.n_tiles_y * self.tile_size - self.edge_trim_y,
            self.n_tiles_x * self.tile_size - self.edge_trim_x,
        )

    @property
    def transform(self) -> Affine:
        """Affine transform of the region's top-left corner, snapped to the pixel grid."""
        rows, cols = self.shape
        x0 = round((self.center_x - cols * self.pixel_size / 2) / self.pixel_size)
        y0 = round((self.center_y + rows * self.pixel_size / 2) / self.pixel_size)
        return Affine(
            self.pixel_size, 0, x0 * self.pixel_size, 0, -self.pixel_size, y0 * self.pixel_size
        )
