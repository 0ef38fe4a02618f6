"""Validated parameters of the transition pipeline (``transition`` in conf)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from matplotlib.colors import to_rgba
from pydantic import Field, field_validator

from cocoa_threat.analysis.transitions import ChangeScheme
from cocoa_threat.errors import ParameterError
from cocoa_threat.params import LandUse, StrictModel, land_use_params, parse_params


class TransitionParams(StrictModel):
    """All of ``transition`` (the classes themselves are ``land_use``)."""

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


@dataclass(frozen=True)
class TransitionSpec:
    """``transition`` together with the land-use scheme it refers to."""

    params: TransitionParams
    land_use: LandUse

    def __getattr__(self, name: str) -> Any:
        return getattr(self.params, name)

    @property
    def classes(self) -> list[str]:
        """The land-use classes."""
        return self.land_use.classes

    def scheme(self) -> ChangeScheme:
        """The classes and the conversion, as the analysis library takes them."""
        return ChangeScheme(
            classes=self.land_use.classes,
            colours=self.land_use.colours,
            nodata=self.land_use.nodata,
            from_class=self.params.from_class,
            to_class=self.params.to_class,
            conversion_colour=self.params.conversion_colour,
        )


def transition_params(params: dict[str, Any], land_use: dict[str, Any] | LandUse) -> TransitionSpec:
    """Validate ``transition`` against ``land_use``."""
    p = parse_params(TransitionParams, params, "transition")
    lu = land_use_params(land_use)
    if problems := p.check_land_use(lu):
        raise ParameterError(
            "Invalid parameters under 'transition' (fix them in conf/):\n  - "
            + "\n  - ".join(problems)
        )
    return TransitionSpec(p, lu)
