"""Risk: the factors, their weights and the classes (``risk`` in parameters_risk.yml)."""

from __future__ import annotations

import math

from matplotlib.colors import to_rgba
from pydantic import Field, model_validator

from cocoa_threat.params.base import Block, StrictModel

# The factors of the risk score, in the order of the bands of risk_factors.tif.
FACTORS = ("proximity", "pressure", "mercury", "downstream")


class ProximitySpec(StrictModel):
    """Distance decay from current mining."""

    half_distance_m: float = Field(250.0, gt=0)
    max_distance_m: float = Field(2000.0, gt=0)


class PressureSpec(StrictModel):
    """Mining expansion nearby."""

    radius_m: float = Field(500.0, gt=0)
    saturation: float = Field(0.2, gt=0, le=1)


class MercurySpec(StrictModel):
    """Scaling of the mercury surface."""

    background_ng_m3: float = Field(1.3, gt=0)
    reference_ng_m3: float = Field(200.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> MercurySpec:
        if self.reference_ng_m3 <= self.background_ng_m3:
            raise ValueError("risk.mercury.reference_ng_m3 must exceed background_ng_m3")
        return self


class DownstreamSpec(StrictModel):
    """Cocoa below mining: flow distance from the nearest pit upstream (D8 on the DEM)."""

    half_distance_m: float = Field(500.0, gt=0)
    max_distance_m: float = Field(2000.0, gt=0)
    condition_dem: bool = True
    flat_increment_m: float = Field(1e-9, gt=0, le=1e-6)


class RiskParams(Block):
    """All of ``risk``."""

    conf_key = "risk"

    dem_nodata: float = -9999.0
    weights: dict[str, float]
    proximity: ProximitySpec = Field(default_factory=ProximitySpec)
    pressure: PressureSpec = Field(default_factory=PressureSpec)
    mercury: MercurySpec = Field(default_factory=MercurySpec)
    downstream: DownstreamSpec = Field(default_factory=DownstreamSpec)
    class_breaks: list[float]
    class_labels: list[str]
    class_colours: list[str]
    sensitivity_change: float = Field(0.2, gt=0, lt=1)
    sensitivity_distances: bool = True
    block_size: int = Field(1024, ge=64)
    outside_label: str = "outside districts"
    quicklook_max_size: int = Field(1200, ge=100)

    @model_validator(mode="after")
    def _check(self) -> RiskParams:
        if set(self.weights) != set(FACTORS):
            raise ValueError(
                f"risk.weights needs exactly {list(FACTORS)}, got {sorted(self.weights)}"
            )
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("risk.weights must be >= 0")
        total = sum(self.weights.values())
        if not (math.isfinite(total) and abs(total - 1.0) <= 1e-6):
            raise ValueError(
                f"risk.weights must sum to 1, they sum to {total:.4f}: "
                + ", ".join(f"{k} {v}" for k, v in self.weights.items())
            )
        if (
            not all(0 < b < 1 for b in self.class_breaks)
            or sorted(self.class_breaks) != self.class_breaks
        ):
            raise ValueError("risk.class_breaks must be increasing and between 0 and 1")
        n = len(self.class_breaks) + 1
        if len(self.class_labels) != n or len(self.class_colours) != n:
            raise ValueError(f"risk.class_labels and risk.class_colours need {n} entries each")
        for colour in self.class_colours:
            to_rgba(colour)
        return self
