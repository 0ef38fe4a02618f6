"""Reporting: the report and the interactive map (``reporting`` in parameters_reporting.yml)."""

from __future__ import annotations

from pydantic import Field, field_validator

from cocoa_threat.params.base import Block, StrictModel


class WebMapSpec(StrictModel):
    """The interactive map (``map.html``)."""

    max_px: int = Field(
        4096, ge=64, description="Rasters are shown at most this many pixels per side."
    )
    tile_px: int = Field(
        2048,
        ge=64,
        description="A raster larger than this (per side) is cut into tiles of this size, "
        "written beside map.html; a smaller one is inlined.",
    )
    opacity: float = Field(0.8, gt=0, le=1)
    mercury_colour_map: str = "magma_r"
    true_colour_percentiles: tuple[float, float] = Field(
        (2.0, 98.0),
        description="Each band of a true-colour layer is stretched between these percentiles.",
    )

    @field_validator("true_colour_percentiles")
    @classmethod
    def _percentiles(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0 <= low < high <= 100:
            raise ValueError(f"{list(value)}: give [low, high] with 0 <= low < high <= 100")
        return value


class ReportingParams(Block):
    """All of ``reporting``."""

    conf_key = "reporting"

    sample_patches: int = Field(3, ge=1, le=12, description="Tiles shown with their labels.")
    rgb_bands: list[str] = Field(
        default_factory=lambda: ["RED", "GREEN", "BLUE"],
        min_length=3,
        max_length=3,
        description="The model-input bands shown as red, green and blue.",
    )
    map: WebMapSpec = Field(default_factory=WebMapSpec)
