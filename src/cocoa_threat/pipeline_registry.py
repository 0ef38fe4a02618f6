"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from cocoa_threat.conf import model_names
from cocoa_threat.pipelines import (
    economics,
    imagery,
    inference,
    ingestion,
    mercury,
    reporting,
    risk,
    training,
    transition,
)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    The pipelines are listed here rather than found by ``find_pipelines``: Kedro
    loads only the requested pipeline's folder when ``--pipeline`` is given, and
    some entries below combine several pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = {
        "ingestion": ingestion.create_pipeline(),
        "training": training.create_pipeline(),
        "inference": inference.create_pipeline(),
        "transition": transition.create_pipeline(),
        "economics": economics.create_pipeline(),
        "mercury": mercury.create_pipeline(),
        "risk": risk.create_pipeline(),
        "reporting": reporting.create_pipeline(),
    }
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    # `kedro run --pipeline=training` works on a fresh clone: ingestion comes first
    # (it reuses the demo region and rewrites the model input in seconds).
    pipelines["training"] = pipelines["ingestion"] + pipelines["training"]
    # The comparison of every model whose metrics exist: after training one model
    # (`--namespaces=resnet50`), `kedro run --pipeline=comparison` brings it up to date.
    pipelines["comparison"] = training.comparison_pipeline(model_names())
    # Not part of the default run: it needs a scene of the user's (inference.scene).
    pipelines["scene_inference"] = inference.create_scene_pipeline()
    # Not part of the default run (which stays offline): composites from a STAC catalog.
    pipelines["imagery"] = imagery.create_pipeline()
    return pipelines
