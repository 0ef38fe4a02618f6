"""The transition pipeline: ``kedro run --pipeline=transition``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.transition.nodes import (
    compute_transitions,
    estimate_areas,
    extract_conversion_polygons,
    make_change_map,
    measure_tiles,
    plot_change_map,
    plot_transitions,
    prepare_districts,
)

MAPS = ["before.land_use_map", "after.land_use_map"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the transition pipeline."""
    return Pipeline(
        [
            Node(
                prepare_districts,
                inputs=[
                    "districts_raw",
                    "before.land_use_map",
                    "params:transition",
                    "params:land_use",
                ],
                outputs="districts",
                name="prepare_districts",
            ),
            Node(
                compute_transitions,
                inputs=[
                    *MAPS,
                    "districts",
                    "params:transition",
                    "params:land_use",
                    "params:compute",
                ],
                outputs=["transition_matrix", "transition_by_district", "map_class_areas"],
                name="compute_transitions",
            ),
            Node(
                make_change_map,
                inputs=[*MAPS, "params:transition", "params:land_use", "params:compute"],
                outputs="change_map",
                name="make_change_map",
            ),
            Node(
                extract_conversion_polygons,
                inputs=[
                    *MAPS,
                    "districts",
                    "params:transition",
                    "params:land_use",
                    "params:compute",
                ],
                outputs="cocoa_to_mining",
                name="extract_conversion_polygons",
            ),
            Node(
                measure_tiles,
                inputs=[
                    *MAPS,
                    "tile_manifest",
                    "model_input",
                    "params:before",
                    "params:after",
                    "params:transition",
                    "params:land_use",
                ],
                outputs=["tile_areas", "map_accuracy"],
                name="measure_tiles",
            ),
            Node(
                estimate_areas,
                inputs=["tile_areas", "map_accuracy", "params:transition", "params:land_use"],
                outputs="area_estimates",
                name="estimate_areas",
            ),
            Node(
                plot_change_map,
                inputs=["change_map", "districts", "params:transition", "params:land_use"],
                outputs="change_quicklook",
                name="plot_change_map",
            ),
            Node(
                plot_transitions,
                inputs=["transition_by_district", "params:transition", "params:land_use"],
                outputs="transitions_chart",
                name="plot_transitions",
            ),
        ],
        tags="transition",
    )
