"""The series pipeline: ``kedro run --pipeline=series`` (after ``--pipeline=imagery`` made a
composite per year of ``series.years``; not part of the default run)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Pipeline

from cocoa_threat.pipelines import named_node
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
COMPUTE = "params:compute"
PREDICT = [
    "imagery_composites",
    "chosen_model",
    "chosen_model_info",
    "params:series",
    "params:inference",
    "params:land_use",
    COMPUTE,
]
WEB_MAP = [
    MAPS,
    "series_change_maps",
    "imagery_composites",
    "series_districts",
    "series_cocoa_lost",
    "params:series",
    "params:land_use",
    "params:reporting",
]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Map every year, then areas, transitions, change maps and a chart.

    The model (``chosen_model``) comes from the inference pipeline's selection,
    which the registry runs before it (:func:`~cocoa_threat.pipelines.inference.select_pipeline`).
    """
    maps_districts = [MAPS, "series_districts"]
    return Pipeline(
        [
            named_node(predict_series, PREDICT, MAPS),
            named_node(
                prepare_series_districts,
                ["districts_raw", MAPS, "params:series", "params:transition"],
                "series_districts",
            ),
            named_node(series_areas, [*maps_districts, *ANALYSIS, COMPUTE], "series_by_district"),
            named_node(
                series_transitions,
                [*maps_districts, *ANALYSIS, COMPUTE],
                ["series_transition_matrix", "series_cocoa_lost"],
            ),
            named_node(series_change_maps, [MAPS, *ANALYSIS, COMPUTE], "series_change_maps"),
            named_node(
                plot_series, ["series_by_district", "series_cocoa_lost", *ANALYSIS], "series_chart"
            ),
            named_node(series_web_map, WEB_MAP, "series_web_map"),
        ],
        tags="series",
    )
