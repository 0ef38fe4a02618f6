"""The reporting pipeline: ``kedro run --pipeline=reporting`` (part of the default run).

The report is built section by section (one node each), then rendered; the
interactive map from its groups of layers.
"""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.conf import model_names
from cocoa_threat.pipelines import bind
from cocoa_threat.pipelines.reporting import nodes

SECTIONS = ["data", "models", "change", "economics", "mercury", "risk", "parameters"]


def _model_entries(models: tuple[str, ...]) -> list[Node]:
    return [
        Node(
            bind(nodes.model_entry, name=m),
            inputs=[f"{m}.metrics", f"{m}.confusion_matrix_figure", f"params:{m}.model"],
            outputs=f"{m}.report_entry",
            name=f"{m}.report_entry",
        )
        for m in models
    ]


def _section_nodes(models: tuple[str, ...]) -> list[Node]:
    return [
        Node(
            nodes.data_section,
            inputs=[
                "tile_manifest",
                "sample_patches_figure",
                "params:ingestion",
                "params:land_use",
            ],
            outputs="report_section_data",
            name="data_section",
        ),
        Node(
            nodes.model_section,
            inputs=[
                "model_comparison",
                "chosen_model_info",
                "params:training",
                *[f"{m}.report_entry" for m in models],
            ],
            outputs="report_section_models",
            name="model_section",
        ),
        Node(
            nodes.change_section,
            inputs=[
                "before.land_use_quicklook",
                "after.land_use_quicklook",
                "change_quicklook",
                "transitions_chart",
                "transition_matrix",
                "area_estimates",
                "transition_by_district",
                "params:transition",
                "reference_sample_areas",
            ],
            outputs="report_section_change",
            name="change_section",
        ),
        Node(
            nodes.economics_section,
            inputs=[
                "economic_summary",
                "economic_loss_by_season",
                "economic_loss_by_district",
                "economic_loss_chart",
                "params:economics",
            ],
            outputs="report_section_economics",
            name="economics_section",
        ),
        Node(
            nodes.mercury_section,
            inputs=[
                "mercury_map",
                "mercury_exposure_by_district",
                "mercury_interpolation_cv",
                "mercury_distance_decay_figure",
                "mercury_validation_report",
            ],
            outputs="report_section_mercury",
            name="mercury_section",
        ),
        Node(
            nodes.risk_section,
            inputs=[
                "risk_quicklook",
                "risk_by_district",
                "risk_sensitivity",
                "risk_sensitivity_chart",
                "params:risk",
            ],
            outputs="report_section_risk",
            name="risk_section",
        ),
        Node(
            nodes.parameters_section,
            inputs=[
                "chosen_model_info",
                "params:ingestion",
                "params:transition",
                "params:economics",
                "params:mercury",
                "params:risk",
            ],
            outputs="report_section_parameters",
            name="parameters_section",
        ),
        Node(
            nodes.assemble_report,
            inputs=[f"report_section_{s}" for s in SECTIONS],
            outputs=["report_html", "report_markdown"],
            name="assemble_report",
        ),
    ]


def _map_nodes() -> list[Node]:
    return [
        Node(
            nodes.land_use_layers,
            inputs=[
                "before.land_use_map",
                "after.land_use_map",
                "change_map",
                "before.input_mosaic",
                "after.input_mosaic",
                "params:before",
                "params:after",
                "params:land_use",
                "params:reporting",
            ],
            outputs="map_land_use_layers",
            name="land_use_layers",
        ),
        Node(
            nodes.risk_layer,
            inputs=["risk_map", "params:risk", "params:reporting"],
            outputs="map_risk_layer",
            name="risk_layer",
        ),
        Node(
            nodes.mercury_layers,
            inputs=["mercury_surface", "mercury_points", "params:reporting"],
            outputs="map_mercury_layers",
            name="mercury_layers",
        ),
        Node(
            nodes.district_layer,
            inputs=[
                "districts",
                "economic_loss_by_district",
                "risk_score",
                "params:risk",
                "params:economics",
            ],
            outputs="map_district_layer",
            name="district_layer",
        ),
        Node(
            nodes.build_web_map,
            inputs=[
                "map_land_use_layers",
                "map_risk_layer",
                "map_mercury_layers",
                "map_district_layer",
                "params:before",
                "params:after",
            ],
            outputs="web_map",
            name="build_web_map",
        ),
    ]


def create_pipeline(models: tuple[str, ...] | None = None, **kwargs: Any) -> Pipeline:
    """Create the reporting pipeline."""
    models = models or model_names()
    sample = Node(
        nodes.plot_sample_patches,
        inputs=[
            "model_input",
            "tile_manifest",
            "band_stats",
            "params:reporting",
            "params:land_use",
        ],
        outputs="sample_patches_figure",
        name="plot_sample_patches",
    )
    return Pipeline(
        [sample, *_model_entries(models), *_section_nodes(models), *_map_nodes()],
        tags="reporting",
    )
