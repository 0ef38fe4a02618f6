"""The transition pipeline: ``kedro run --pipeline=transition``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Pipeline

from cocoa_threat.pipelines import named_node
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
PARAMS = ["params:transition", "params:land_use"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the transition pipeline."""
    windowed = [*MAPS, *PARAMS, "params:compute"]
    tiles = ["tile_manifest", "model_input", "params:before", "params:after"]
    return Pipeline(
        [
            named_node(
                prepare_districts, ["districts_raw", "before.land_use_map", *PARAMS], "districts"
            ),
            named_node(
                compute_transitions,
                [*MAPS, "districts", *PARAMS, "params:compute"],
                ["transition_matrix", "transition_by_district", "map_class_areas"],
            ),
            named_node(make_change_map, windowed, "change_map"),
            named_node(
                extract_conversion_polygons,
                [*MAPS, "districts", *PARAMS, "params:compute"],
                "cocoa_to_mining",
            ),
            named_node(measure_tiles, [*MAPS, *tiles, *PARAMS], ["tile_areas", "map_accuracy"]),
            named_node(estimate_areas, ["tile_areas", "map_accuracy", *PARAMS], "area_estimates"),
            named_node(plot_change_map, ["change_map", "districts", *PARAMS], "change_quicklook"),
            named_node(plot_transitions, ["transition_by_district", *PARAMS], "transitions_chart"),
        ],
        tags="transition",
    )
