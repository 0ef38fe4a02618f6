"""Inference: seamless yearly land-use maps from the trained model."""

from cocoa_threat.pipelines.inference.pipeline import (
    create_pipeline,
    create_scene_pipeline,
    select_pipeline,
)

__all__ = ["create_pipeline", "create_scene_pipeline", "select_pipeline"]
