"""The risk pipeline: ``kedro run --pipeline=risk``."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Pipeline

from cocoa_threat.pipelines import named_node
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
COMPUTE = "params:compute"


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the risk pipeline."""
    maps = ["before.land_use_map", "after.land_use_map"]
    surfaces = ["mercury_surface", "dem_conditioned"]
    return Pipeline(
        [
            named_node(build_dem_mosaic, ["tile_manifest", "params:risk"], "dem_mosaic"),
            named_node(condition_dem, ["dem_mosaic", "params:risk"], "dem_conditioned"),
            named_node(compute_risk_factors, [*maps, *surfaces, *PARAMS, COMPUTE], "risk_factors"),
            named_node(
                risk_by_district,
                ["risk_factors", "after.land_use_map", "districts", *PARAMS, COMPUTE],
                "risk_by_district",
            ),
            named_node(
                risk_sensitivity,
                ["risk_factors", *maps, *surfaces, *PARAMS, COMPUTE],
                ["risk_sensitivity", "risk_sensitivity_chart"],
            ),
            named_node(
                make_risk_score,
                ["risk_factors", "after.land_use_map", *PARAMS, COMPUTE],
                "risk_score",
            ),
            named_node(make_risk_map, ["risk_score", *PARAMS, COMPUTE], "risk_map"),
            named_node(plot_risk_map, ["risk_map", "districts", *PARAMS], "risk_quicklook"),
        ],
        tags="risk",
    )
