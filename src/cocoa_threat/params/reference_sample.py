"""The reference-sample kit (``reference_sample`` in parameters_reference_sample.yml)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from cocoa_threat.params.base import Block, StrictModel


class ChipParams(StrictModel):
    """``reference_sample.chips``: the small image chips of both years for each point."""

    enabled: bool = True
    bands: list[str] = Field(
        default_factory=lambda: ["RED", "GREEN", "BLUE"], min_length=3, max_length=3
    )
    size_px: int = Field(32, ge=8, le=256, description="Chip side (map pixels).")
    zoom: int = Field(4, ge=1, le=16, description="Each map pixel drawn as zoom x zoom.")
    stretch_percentiles: tuple[float, float] = (2.0, 98.0)


class ReferenceSampleParams(Block):
    """All of ``reference_sample``."""

    conf_key = "reference_sample"

    period: Literal["before", "after"] = Field(
        "after", description="The year (image date) whose map is sampled and labelled."
    )
    change_stratum: bool = Field(
        True, description="The mapped conversion (transition.from -> to) as a stratum."
    )
    target: str = Field(
        "overall",
        description="'overall': target SE of the overall accuracy (Olofsson eq. 13); a class "
        "name: target SE of that class's area share.",
    )
    target_se: float = Field(0.01, gt=0, lt=1, description="The target standard error.")
    expected_share_elsewhere: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Target class: its guessed share in strata mapped as another class.",
    )
    expected_users_accuracy: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Guessed user's accuracy per stratum (class or 'from -> to').",
    )
    default_users_accuracy: float = Field(0.8, ge=0, le=1)
    min_per_stratum: int = Field(50, ge=2)
    max_points: int = Field(2000, ge=2, description="Cap on the sample size.")
    seed: int = 20140501
    block_size: int = Field(1024, ge=64, description="Window size of the map reads (px).")
    confidence: float = Field(0.95, gt=0, lt=1)
    min_points: int = Field(2, ge=2, description="Fewest labelled points for an interval.")
    demo_labels_from: Literal["none", "labels"] = Field(
        "none",
        description="'labels': label the sample from the ingested tile labels (the demo).",
    )
    chips: ChipParams = Field(default_factory=ChipParams)
