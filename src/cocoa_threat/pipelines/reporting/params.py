"""Validated parameters of the reporting pipeline (``reporting`` in conf)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cocoa_threat.params import StrictModel, parse_params


class ReportingParams(StrictModel):
    """All of ``reporting``."""

    sample_patches: int = Field(3, ge=1, le=12, description="Tiles shown with their labels.")
    rgb_bands: list[str] = Field(
        default_factory=lambda: ["RED", "GREEN", "BLUE"],
        min_length=3,
        max_length=3,
        description="The model-input bands shown as red, green and blue.",
    )


def reporting_params(params: dict[str, Any]) -> ReportingParams:
    """Validate the ``reporting`` parameters."""
    return parse_params(ReportingParams, params, "reporting")
