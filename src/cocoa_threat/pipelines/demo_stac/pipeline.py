"""The demo_stac pipeline: ``kedro run --pipeline=demo_stac`` (the demo's tiles as a local
STAC catalog, for ``--pipeline=imagery`` then ``--pipeline=series`` offline)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.demo_stac.nodes import demo_stac_catalog


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Write the demo region's raw tiles as a static STAC catalog."""
    return Pipeline(
        [
            Node(
                demo_stac_catalog,
                inputs=["raw_tiles", "params:imagery", "params:ingestion"],
                outputs="demo_stac",
                name="demo_stac_catalog",
            )
        ],
        tags="demo_stac",
    )
