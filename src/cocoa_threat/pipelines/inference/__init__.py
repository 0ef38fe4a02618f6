"""Inference: picks a trained model (``inference.model``; ``best``: the highest validation
mIoU), mosaics each year's tiles by georeference and predicts seamless land-use maps and
class probabilities (context around every window, optionally on a Dask cluster)."""

from cocoa_threat.pipelines.inference.pipeline import (
    create_pipeline,
    create_scene_pipeline,
    select_pipeline,
)

__all__ = ["create_pipeline", "create_scene_pipeline", "select_pipeline"]
