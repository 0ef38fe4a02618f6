"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from cocoa_threat.pipelines.inference import create_scene_pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(pipelines.values())
    # `kedro run --pipeline=training` works on a fresh clone: ingestion comes first
    # (it reuses the demo region and rewrites the model input in seconds).
    pipelines["training"] = pipelines["ingestion"] + pipelines["training"]
    # Not part of the default run: it needs a scene of the user's (inference.scene).
    pipelines["scene_inference"] = create_scene_pipeline()
    return pipelines
