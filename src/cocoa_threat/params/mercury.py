"""Mercury: the survey, its interpolation and the exposure classes (``mercury`` in
parameters_mercury.yml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cocoa_threat.params.base import Block, StrictModel


class SurveySpec(StrictModel):
    """Columns of the survey table."""

    x_column: str = "longitude"
    y_column: str = "latitude"
    value_column: str = "concentration_ng_m3"
    time_column: str | None = "time"
    crs: str | None = "EPSG:4326"
    min_locations: int = Field(3, ge=3)
    location_tolerance_m: float = Field(1.0, ge=0)


class InterpolationSpec(StrictModel):
    """Surface interpolation."""

    methods: list[Literal["idw", "background_kriging", "ordinary_kriging"]] = Field(
        default_factory=lambda: ["idw", "background_kriging"], min_length=1
    )
    idw_power: float = Field(2.0, gt=0)
    idw_neighbours: int = Field(12, ge=1)
    gp_length_scale_m: float = Field(500.0, gt=0)
    gp_restarts: int = Field(2, ge=0)
    cv_block_size_m: float = Field(2000.0, gt=0)
    resolution_m: float = Field(50.0, gt=0)


class MercuryParams(Block):
    """All of ``mercury``."""

    conf_key = "mercury"

    survey: SurveySpec = Field(default_factory=SurveySpec)
    detection_limit_ng_m3: float = Field(1.0, gt=0)
    below_detection: Literal["half_limit", "limit", "drop"] = "half_limit"
    background_ng_m3: float = Field(1.3, gt=0)
    max_distance_m: float = Field(1500.0, gt=0)
    interpolation: InterpolationSpec = Field(default_factory=InterpolationSpec)
    class_breaks_ng_m3: list[float] = Field(min_length=1)
    class_labels: list[str]
    decay_search_radius_m: float = Field(5000.0, gt=0)
    outside_label: str = "outside districts"
    block_size: int = Field(1024, ge=64)

    @model_validator(mode="after")
    def _check(self) -> MercuryParams:
        if sorted(self.class_breaks_ng_m3) != self.class_breaks_ng_m3:
            raise ValueError("mercury.class_breaks_ng_m3 must be increasing")
        if len(self.class_labels) != len(self.class_breaks_ng_m3) + 1:
            raise ValueError(
                "mercury.class_labels needs one label more than mercury.class_breaks_ng_m3"
            )
        return self
