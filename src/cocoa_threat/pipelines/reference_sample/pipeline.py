"""The reference-sample kit: ``kedro run --pipeline=reference_sample``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.reference_sample.nodes import (
    adjusted_areas,
    demo_labels,
    draw_sample,
    make_chips,
    read_labelled,
)


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the reference-sample pipeline."""
    return Pipeline(
        [
            Node(
                draw_sample,
                inputs=[
                    "before.land_use_map",
                    "after.land_use_map",
                    "change_map",
                    "params:reference_sample",
                    "params:transition",
                    "params:land_use",
                ],
                outputs=["reference_sample", "reference_sample_csv", "reference_sample_design"],
                name="draw_sample",
            ),
            Node(
                make_chips,
                inputs=[
                    "reference_sample",
                    "before.input_mosaic",
                    "after.input_mosaic",
                    "params:reference_sample",
                ],
                outputs="reference_sample_chips",
                name="make_chips",
            ),
            Node(
                demo_labels,
                inputs=[
                    "reference_sample",
                    "tile_manifest",
                    "model_input",
                    "params:before",
                    "params:after",
                    "params:reference_sample",
                    "params:land_use",
                ],
                outputs="reference_demo_labels",
                name="demo_labels",
            ),
            Node(
                read_labelled,
                inputs=[
                    "reference_labels",
                    "reference_demo_labels",
                    "reference_sample",
                    "params:land_use",
                ],
                outputs="reference_sample_labelled",
                name="read_labelled",
            ),
            Node(
                adjusted_areas,
                inputs=[
                    "reference_sample_labelled",
                    "reference_sample_design",
                    "params:reference_sample",
                    "params:land_use",
                ],
                outputs="reference_sample_areas",
                name="adjusted_areas",
            ),
        ],
        tags="reference_sample",
    )
