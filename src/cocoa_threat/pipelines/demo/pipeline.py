"""The demo pipeline: ``kedro run --pipeline=demo`` (part of the default run while
``ingestion.source`` is synthetic)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.demo import nodes

PARAMS = ["demo_plan", "params:demo"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the demo pipeline: plan, landscape, then each raw input of the region."""
    return Pipeline(
        [
            Node(
                nodes.plan_demo,
                inputs=[
                    "params:demo",
                    "raw_tiles_stamp",
                    "cocoa_layer_raw_stamp",
                    "districts_raw_stamp",
                    "mercury_survey_raw_stamp",
                ],
                outputs="demo_plan",
                name="plan_demo",
            ),
            Node(nodes.demo_landscape, PARAMS, "demo_landscape", name="demo_landscape"),
            Node(nodes.demo_tiles, ["demo_landscape", *PARAMS], "raw_tiles", name="demo_tiles"),
            Node(
                nodes.demo_cocoa_layer,
                ["demo_landscape", *PARAMS],
                "cocoa_layer_raw",
                name="demo_cocoa_layer",
            ),
            Node(nodes.demo_districts, PARAMS, "districts_raw", name="demo_districts"),
            Node(
                nodes.demo_mercury_survey,
                ["demo_landscape", *PARAMS],
                "mercury_survey_raw",
                name="demo_mercury_survey",
            ),
        ],
        tags="demo",
    )
