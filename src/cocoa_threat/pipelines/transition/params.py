"""Validated parameters of the transition pipeline (``transition`` in conf)."""

from __future__ import annotations

from typing import Any

from matplotlib.colors import to_rgba
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cocoa_threat.params import parse_params


class TransitionParams(BaseModel):
    """All of ``transition``."""

    model_config = ConfigDict(extra="forbid")

    classes: list[str] = Field(default_factory=lambda: ["background", "mining", "cocoa"])
    colours: dict[str, str]
    nodata: int = Field(255, ge=0, le=255)
    from_class: str = "cocoa"
    to_class: str = "mining"
    conversion_colour: str = "#7a0177"
    min_mapping_unit_ha: float = Field(0.5, ge=0)
    district_name_column: str = "district"
    outside_label: str = "outside districts"
    block_size: int = Field(1024, ge=64, description="Window size of the windowed passes (px).")
    confidence: float = Field(0.95, gt=0, lt=1)
    quicklook_max_size: int = Field(1200, ge=100)

    @model_validator(mode="after")
    def _check(self) -> TransitionParams:
        for key in ("from_class", "to_class"):
            if getattr(self, key) not in self.classes:
                raise ValueError(f"transition.{key} must be one of {self.classes}")
        missing = [c for c in self.classes if c not in self.colours]
        if missing:
            raise ValueError(f"transition.colours needs a colour for {missing}")
        for colour in [*self.colours.values(), self.conversion_colour]:
            to_rgba(colour)
        if len(self.classes) > 10:
            raise ValueError("transition codes from*10+to need at most 10 classes")
        return self

    def code(self, source: str, target: str) -> int:
        """Change-map code of a from -> to transition (``from * 10 + to``)."""
        return self.classes.index(source) * 10 + self.classes.index(target)


def transition_params(params: dict[str, Any]) -> TransitionParams:
    """Validate the ``transition`` parameters."""
    return parse_params(TransitionParams, params, "transition")
