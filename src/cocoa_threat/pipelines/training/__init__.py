"""Training: one pipeline, one namespace per model (prithvi, resnet50, random_forest)."""

from cocoa_threat.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
