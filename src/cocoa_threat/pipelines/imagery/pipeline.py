"""The imagery pipeline: ``kedro run --pipeline=imagery`` (it needs the network, or a
local static catalog in ``imagery.catalog_url``, so it is not part of the default run)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.imagery.nodes import (
    build_composites,
    search_imagery,
    summarise_imagery,
)


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Search, composite and summarise every year of ``imagery.years``."""
    return Pipeline(
        [
            Node(
                search_imagery,
                inputs=[
                    "params:imagery",
                    "params:ingestion",
                    "districts_raw",
                ],
                outputs=["imagery_items", "imagery_scenes"],
                name="search_imagery",
            ),
            Node(
                build_composites,
                inputs=["imagery_items", "imagery_scenes", "params:imagery"],
                outputs="imagery_composites",
                name="build_composites",
            ),
            Node(
                summarise_imagery,
                inputs=["imagery_composites", "imagery_scenes", "params:imagery"],
                outputs="imagery_summary",
                name="summarise_imagery",
            ),
        ],
        tags="imagery",
    )
