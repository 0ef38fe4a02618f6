"""The reference-sample kit: ``kedro run --pipeline=reference_sample``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Pipeline

from cocoa_threat.pipelines import named_node
from cocoa_threat.pipelines.reference_sample.nodes import (
    adjusted_areas,
    demo_labels,
    draw_sample,
    make_chips,
    read_labelled,
)

SAMPLE = "params:reference_sample"
LAND_USE = "params:land_use"
MAPS = ["before.land_use_map", "after.land_use_map", "change_map"]
MOSAICS = ["before.input_mosaic", "after.input_mosaic"]
TILES = ["tile_manifest", "model_input", "params:before", "params:after"]
LABELS = ["reference_labels", "reference_demo_labels", "reference_sample"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the reference-sample pipeline."""
    drawn = ["reference_sample", "reference_sample_csv", "reference_sample_design"]
    return Pipeline(
        [
            named_node(draw_sample, [*MAPS, SAMPLE, "params:transition", LAND_USE], drawn),
            named_node(
                make_chips, ["reference_sample", *MOSAICS, SAMPLE], "reference_sample_chips"
            ),
            named_node(
                demo_labels, ["reference_sample", *TILES, SAMPLE, LAND_USE], "reference_demo_labels"
            ),
            named_node(read_labelled, [*LABELS, LAND_USE], "reference_sample_labelled"),
            named_node(
                adjusted_areas,
                ["reference_sample_labelled", "reference_sample_design", SAMPLE, LAND_USE],
                "reference_sample_areas",
            ),
        ],
        tags="reference_sample",
    )
