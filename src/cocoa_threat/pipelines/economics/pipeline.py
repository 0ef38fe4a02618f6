"""The economics pipeline: ``kedro run --pipeline=economics``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.economics.nodes import (
    economic_summary,
    loss_by_district,
    loss_by_season,
    plot_losses,
)


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the economics pipeline."""
    return Pipeline(
        [
            Node(
                loss_by_season,
                inputs=["area_estimates", "params:economics", "params:land_use"],
                outputs="economic_loss_by_season",
                name="loss_by_season",
            ),
            Node(
                economic_summary,
                inputs=["area_estimates", "economic_loss_by_season", "params:economics"],
                outputs="economic_summary",
                name="economic_summary",
            ),
            Node(
                loss_by_district,
                inputs=["transition_by_district", "economic_summary", "params:economics"],
                outputs="economic_loss_by_district",
                name="loss_by_district",
            ),
            Node(
                plot_losses,
                inputs=["economic_loss_by_season", "params:economics"],
                outputs="economic_loss_chart",
                name="plot_losses",
            ),
        ],
        tags="economics",
    )
