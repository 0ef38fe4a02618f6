"""The series pipeline: ``kedro run --pipeline=series`` (after ``--pipeline=imagery`` made a
composite per year of ``series.years``; not part of the default run)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.series.nodes import (
    plot_series,
    predict_series,
    prepare_series_districts,
    series_areas,
    series_change_maps,
    series_transitions,
    series_web_map,
)

MAPS = "series_land_use_maps"
ANALYSIS = ["params:series", "params:transition", "params:land_use"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Map every year, then areas, transitions, change maps and a chart.

    The model (``chosen_model``) comes from the inference pipeline's selection,
    which the registry runs before it (:func:`~cocoa_threat.pipelines.inference.select_pipeline`).
    """
    return Pipeline(
        [
            Node(
                predict_series,
                inputs=[
                    "imagery_composites",
                    "chosen_model",
                    "chosen_model_info",
                    "params:series",
                    "params:inference",
                    "params:land_use",
                    "params:compute",
                ],
                outputs=MAPS,
                name="predict_series",
            ),
            Node(
                prepare_series_districts,
                inputs=["districts_raw", MAPS, "params:series", "params:transition"],
                outputs="series_districts",
                name="prepare_series_districts",
            ),
            Node(
                series_areas,
                inputs=[MAPS, "series_districts", *ANALYSIS, "params:compute"],
                outputs="series_by_district",
                name="series_areas",
            ),
            Node(
                series_transitions,
                inputs=[MAPS, "series_districts", *ANALYSIS, "params:compute"],
                outputs=["series_transition_matrix", "series_cocoa_lost"],
                name="series_transitions",
            ),
            Node(
                series_change_maps,
                inputs=[MAPS, *ANALYSIS, "params:compute"],
                outputs="series_change_maps",
                name="series_change_maps",
            ),
            Node(
                plot_series,
                inputs=["series_by_district", "series_cocoa_lost", *ANALYSIS],
                outputs="series_chart",
                name="plot_series",
            ),
            Node(
                series_web_map,
                inputs=[
                    MAPS,
                    "series_change_maps",
                    "imagery_composites",
                    "series_districts",
                    "series_cocoa_lost",
                    "params:series",
                    "params:land_use",
                    "params:reporting",
                ],
                outputs="series_web_map",
                name="series_web_map",
            ),
        ],
        tags="series",
    )
