"""The mercury pipeline: ``kedro run --pipeline=mercury``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.mercury.nodes import (
    cocoa_exposure,
    distance_decay,
    interpolate_surface,
    plot_mercury_surface,
    validate_survey,
)


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the mercury pipeline."""
    return Pipeline(
        [
            Node(
                validate_survey,
                inputs=["mercury_survey_raw", "after.land_use_map", "params:mercury"],
                outputs=["mercury_points", "mercury_validation_report"],
                name="validate_survey",
            ),
            Node(
                interpolate_surface,
                inputs=[
                    "mercury_points",
                    "after.land_use_map",
                    "params:mercury",
                    "params:compute",
                ],
                outputs=["mercury_surface", "mercury_interpolation_cv"],
                name="interpolate_surface",
            ),
            Node(
                cocoa_exposure,
                inputs=[
                    "after.land_use_map",
                    "mercury_surface",
                    "mercury_interpolation_cv",
                    "districts",
                    "params:mercury",
                    "params:land_use",
                    "params:compute",
                ],
                outputs="mercury_exposure_by_district",
                name="cocoa_exposure",
            ),
            Node(
                distance_decay,
                inputs=[
                    "mercury_points",
                    "after.land_use_map",
                    "params:mercury",
                    "params:land_use",
                ],
                outputs=["mercury_distance_decay", "mercury_distance_decay_figure"],
                name="distance_decay",
            ),
            Node(
                plot_mercury_surface,
                inputs=["mercury_surface", "mercury_points", "districts", "params:mercury"],
                outputs="mercury_map",
                name="plot_mercury_surface",
            ),
        ],
        tags="mercury",
    )
