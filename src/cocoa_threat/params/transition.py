"""Transition: the conversion of interest and its areas (``transition`` in
parameters_transition.yml)."""

from __future__ import annotations

from typing import Literal

from matplotlib.colors import to_rgba
from pydantic import Field, field_validator

from cocoa_threat.params.base import Block
from cocoa_threat.params.land_use import LandUse


class TransitionParams(Block):
    """All of ``transition`` (the classes themselves are ``land_use``)."""

    conf_key = "transition"

    from_class: str = "cocoa"
    to_class: str = "mining"
    conversion_colour: str = "#7a0177"
    min_mapping_unit_ha: float = Field(0.5, ge=0)
    district_name_column: str = "district"
    outside_label: str = "outside districts"
    block_size: int = Field(1024, ge=64, description="Window size of the windowed passes (px).")
    confidence: float = Field(0.95, gt=0, lt=1)
    sampling_unit: Literal["block", "tile_id"] = Field(
        "block", description="The unit the test sample was drawn in (whole spatial blocks)."
    )
    min_test_units: int = Field(
        3, ge=2, description="Fewest test units (blocks) for an area interval."
    )
    quicklook_max_size: int = Field(1200, ge=100)

    @field_validator("conversion_colour")
    @classmethod
    def _colour(cls, value: str) -> str:
        to_rgba(value)
        return value

    def check_land_use(self, land_use: LandUse) -> list[str]:
        """Problems of the conversion's classes against ``land_use.classes``."""
        return [
            f"transition.{k}: {getattr(self, k)!r} is not one of land_use.classes "
            f"{land_use.classes}"
            for k in ("from_class", "to_class")
            if getattr(self, k) not in land_use.classes
        ]
