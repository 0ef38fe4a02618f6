"""The inference pipeline: ``kedro run --pipeline=inference``.

One template reused per image date through the namespaces ``before`` and
``after`` (years in conf: ``before.year``, ``after.year``).
"""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline, pipeline

from cocoa_threat.conf import model_names
from cocoa_threat.pipelines.inference.nodes import (
    build_input_mosaic,
    plot_land_use,
    predict_land_use,
    select_model,
)

PERIODS = ("before", "after")


def _select(models: tuple[str, ...]) -> Pipeline:
    """Choose among every model of ``training.models`` (those trained)."""
    candidates = {
        f"{m}__{what}": f"{m}.{ds}"
        for m in models
        for what, ds in (("model", "trained_model"), ("metrics", "metrics"))
    }
    return Pipeline(
        [
            Node(
                select_model,
                inputs={
                    "tile_manifest": "tile_manifest",
                    "inference": "params:inference",
                    "land_use": "params:land_use",
                    **candidates,
                },
                outputs=["chosen_model", "chosen_model_info"],
                name="select_model",
            )
        ]
    )


def year_pipeline(namespace: str) -> Pipeline:
    """Mosaic, predict and plot one image date."""
    template = Pipeline(
        [
            Node(
                build_input_mosaic,
                inputs=["tile_manifest", "band_stats", "params:period", "params:inference"],
                outputs="input_mosaic",
                name="build_input_mosaic",
            ),
            Node(
                predict_land_use,
                inputs=[
                    "input_mosaic",
                    "chosen_model",
                    "chosen_model_info",
                    "params:inference",
                    "params:land_use",
                    "params:period",
                    "params:compute",
                ],
                outputs=["land_use_map", "land_use_probabilities"],
                name="predict_land_use",
            ),
            Node(
                plot_land_use,
                inputs=[
                    "land_use_map",
                    "districts_raw",
                    "params:inference",
                    "params:land_use",
                    "params:period",
                ],
                outputs="land_use_quicklook",
                name="plot_land_use",
            ),
        ]
    )
    return pipeline(
        template,
        namespace=namespace,
        inputs={
            "tile_manifest",
            "band_stats",
            "chosen_model",
            "chosen_model_info",
            "districts_raw",
        },
        parameters={
            "params:inference": "params:inference",
            "params:land_use": "params:land_use",
            "params:compute": "params:compute",
            "params:period": f"params:{namespace}",
        },
    )


def select_pipeline(models: tuple[str, ...] | None = None) -> Pipeline:
    """The model choice alone (``chosen_model``), for pipelines that map other rasters."""
    return _select(models or model_names())


def create_pipeline(models: tuple[str, ...] | None = None, **kwargs: Any) -> Pipeline:
    """Create the inference pipeline (both image dates)."""
    years = sum((year_pipeline(ns) for ns in PERIODS), Pipeline([]))
    return (_select(models or model_names()) + years).tag("inference")


def create_scene_pipeline(models: tuple[str, ...] | None = None, **kwargs: Any) -> Pipeline:
    """Inference on any multi-band GeoTIFF scene (``inference.scene``) with the chosen model.

    ``kedro run --pipeline=scene_inference``: not in the default run.
    """
    from cocoa_threat.pipelines.inference.nodes import predict_scene

    return _select(models or model_names()) + Pipeline(
        [
            Node(
                predict_scene,
                inputs=[
                    "scene",
                    "chosen_model",
                    "params:inference",
                    "params:land_use",
                    "params:compute",
                ],
                outputs=["scene_land_use_map", "scene_land_use_probabilities"],
                name="predict_scene",
            )
        ],
        tags="scene_inference",
    )
