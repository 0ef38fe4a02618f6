"""The risk pipeline: ``kedro run --pipeline=risk``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.risk.nodes import (
    build_dem_mosaic,
    compute_risk_factors,
    condition_dem,
    make_risk_map,
    make_risk_score,
    plot_risk_map,
    risk_by_district,
    risk_sensitivity,
)

PARAMS = ["params:risk", "params:land_use"]


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the risk pipeline."""
    return Pipeline(
        [
            Node(
                build_dem_mosaic,
                inputs=["tile_manifest", "params:risk"],
                outputs="dem_mosaic",
                name="build_dem_mosaic",
            ),
            Node(
                condition_dem,
                inputs=["dem_mosaic", "params:risk"],
                outputs="dem_conditioned",
                name="condition_dem",
            ),
            Node(
                compute_risk_factors,
                inputs=[
                    "before.land_use_map",
                    "after.land_use_map",
                    "mercury_surface",
                    "dem_conditioned",
                    *PARAMS,
                    "params:compute",
                ],
                outputs="risk_factors",
                name="compute_risk_factors",
            ),
            Node(
                risk_by_district,
                inputs=[
                    "risk_factors",
                    "after.land_use_map",
                    "districts",
                    *PARAMS,
                    "params:compute",
                ],
                outputs="risk_by_district",
                name="risk_by_district",
            ),
            Node(
                risk_sensitivity,
                inputs=[
                    "risk_factors",
                    "before.land_use_map",
                    "after.land_use_map",
                    "mercury_surface",
                    "dem_conditioned",
                    *PARAMS,
                    "params:compute",
                ],
                outputs=["risk_sensitivity", "risk_sensitivity_chart"],
                name="risk_sensitivity",
            ),
            Node(
                make_risk_score,
                inputs=["risk_factors", "after.land_use_map", *PARAMS, "params:compute"],
                outputs="risk_score",
                name="make_risk_score",
            ),
            Node(
                make_risk_map,
                inputs=["risk_score", *PARAMS, "params:compute"],
                outputs="risk_map",
                name="make_risk_map",
            ),
            Node(
                plot_risk_map,
                inputs=["risk_map", "districts", *PARAMS],
                outputs="risk_quicklook",
                name="plot_risk_map",
            ),
        ],
        tags="risk",
    )
