"""The risk pipeline: ``kedro run --pipeline=risk``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.risk.nodes import (
    build_dem_mosaic,
    make_risk_map,
    plot_risk_map,
    risk_tables,
)

RASTERS = ["before.land_use_map", "after.land_use_map", "mercury_surface", "dem_mosaic"]


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
                risk_tables,
                inputs=[*RASTERS, "districts", "params:risk", "params:land_use"],
                outputs=["risk_by_district", "risk_sensitivity"],
                name="risk_tables",
            ),
            Node(
                make_risk_map,
                inputs=[*RASTERS, "params:risk", "params:land_use"],
                outputs="risk_map",
                name="make_risk_map",
            ),
            Node(
                plot_risk_map,
                inputs=["risk_map", "districts", "params:risk", "params:land_use"],
                outputs="risk_quicklook",
                name="plot_risk_map",
            ),
        ],
        tags="risk",
    )
