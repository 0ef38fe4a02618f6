"""Inference: which model maps, and how (``inference`` in parameters_inference.yml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cocoa_threat.params.base import Block, StrictModel


class CogSpec(StrictModel):
    """Cloud-Optimised GeoTIFF layout."""

    blocksize: int = Field(256, ge=16)
    overview_levels: list[int] = Field(default_factory=lambda: [2, 4, 8, 16])


class SceneSpec(StrictModel):
    """Inference on any multi-band GeoTIFF scene (``kedro run --pipeline=scene_inference``)."""

    band_indexes: list[int] | None = None


class InferenceParams(Block):
    """All of ``inference``."""

    conf_key = "inference"

    model: str = Field("best", description="A model of training.models, or best.")
    device: str = "auto"
    batch_size: int | Literal["auto"] = Field(
        16, description="Windows per forward pass; auto: the largest that fits the GPU."
    )
    compile: bool = Field(False, description="torch.compile the model (CUDA only).")
    window_size: int = Field(128, ge=16)
    context_margin: int = Field(32, ge=0)
    image_nodata: float = -9999.0
    cog: CogSpec = Field(default_factory=CogSpec)
    scene: SceneSpec = Field(default_factory=SceneSpec)
    quicklook_max_size: int = Field(1200, ge=100)

    @model_validator(mode="after")
    def _check(self) -> InferenceParams:
        if isinstance(self.batch_size, int) and self.batch_size < 1:
            raise ValueError("inference.batch_size must be >= 1 or auto")
        span = self.window_size + 2 * self.context_margin
        if span % 32:
            raise ValueError(
                f"inference.window_size + 2 * context_margin = {span} must be a multiple of "
                f"32 (the models' total stride); e.g. 128 and 32"
            )
        return self
