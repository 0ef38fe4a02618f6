"""Training: one pipeline, one namespace per model (prithvi, resnet50, random_forest)."""

from cocoa_threat.pipelines.training.pipeline import comparison_pipeline, create_pipeline

__all__ = ["comparison_pipeline", "create_pipeline"]
