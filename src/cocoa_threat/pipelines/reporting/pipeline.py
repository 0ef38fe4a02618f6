"""The reporting pipeline: ``kedro run --pipeline=reporting`` (part of the default run)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.conf import model_names
from cocoa_threat.pipelines.reporting.nodes import (
    assemble_report,
    build_web_map,
    kwarg_name,
    plot_sample_patches,
)

REPORT_INPUTS = [
    "tile_manifest",
    "sample_patches_figure",
    "chosen_model_info",
    "model_comparison",
    "before.land_use_quicklook",
    "after.land_use_quicklook",
    "change_quicklook",
    "transition_matrix",
    "area_estimates",
    "transition_by_district",
    "transitions_chart",
    "economic_summary",
    "economic_loss_chart",
    "economic_loss_by_season",
    "economic_loss_by_district",
    "mercury_map",
    "mercury_exposure_by_district",
    "mercury_interpolation_cv",
    "mercury_distance_decay_figure",
    "mercury_validation_report",
    "risk_quicklook",
    "risk_by_district",
    "risk_sensitivity",
    "risk_sensitivity_chart",
    "params:land_use",
    "params:ingestion",
    "params:training",
    "params:transition",
    "params:economics",
    "params:mercury",
    "params:risk",
]


def report_inputs(models: tuple[str, ...]) -> list[str]:
    """Every dataset the report shows: the fixed ones and those of each model (if trained)."""
    per_model = [
        name
        for m in models
        for name in (f"{m}.metrics", f"{m}.confusion_matrix_figure", f"params:{m}.model")
    ]
    return [*REPORT_INPUTS, *per_model]


def create_pipeline(models: tuple[str, ...] | None = None, **kwargs: Any) -> Pipeline:
    """Create the reporting pipeline."""
    return Pipeline(
        [
            Node(
                plot_sample_patches,
                inputs=[
                    "model_input",
                    "tile_manifest",
                    "band_stats",
                    "params:reporting",
                    "params:land_use",
                ],
                outputs="sample_patches_figure",
                name="plot_sample_patches",
            ),
            Node(
                build_web_map,
                inputs=[
                    "before.land_use_map",
                    "after.land_use_map",
                    "change_map",
                    "risk_map",
                    "risk_score",
                    "mercury_surface",
                    "mercury_points",
                    "districts",
                    "economic_loss_by_district",
                    "params:reporting",
                    "params:land_use",
                    "params:risk",
                    "params:economics",
                    "params:before",
                    "params:after",
                ],
                outputs="web_map",
                name="build_web_map",
            ),
            Node(
                assemble_report,
                inputs={kwarg_name(n): n for n in report_inputs(models or model_names())},
                outputs=["report_html", "report_markdown"],
                name="assemble_report",
            ),
        ],
        tags="reporting",
    )
