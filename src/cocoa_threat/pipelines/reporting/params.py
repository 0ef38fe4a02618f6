"""Validated parameters of the reporting pipeline (``reporting`` in conf)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cocoa_threat.params import StrictModel, parse_params


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


class ReportingParams(StrictModel):
    """All of ``reporting``."""

    sample_patches: int = Field(3, ge=1, le=12, description="Tiles shown with their labels.")
    rgb_bands: list[str] = Field(
        default_factory=lambda: ["RED", "GREEN", "BLUE"],
        min_length=3,
        max_length=3,
        description="The model-input bands shown as red, green and blue.",
    )
    map: WebMapSpec = Field(default_factory=WebMapSpec)


def reporting_params(params: dict[str, Any]) -> ReportingParams:
    """Validate the ``reporting`` parameters."""
    return parse_params(ReportingParams, params, "reporting")
