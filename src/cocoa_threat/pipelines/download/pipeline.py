"""The download pipeline: ``kedro run --pipeline=download`` (part of the default run while
``ingestion.source`` is huggingface)."""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.download import nodes


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the download pipeline."""
    return Pipeline(
        [
            Node(
                nodes.plan_tiles_download,
                ["params:ingestion", "raw_tiles_stamp"],
                "download_plan",
                name="plan_tiles_download",
            ),
            Node(
                nodes.download_tiles,
                ["download_plan", "params:ingestion"],
                "raw_tiles",
                name="download_tiles",
            ),
        ],
        tags="download",
    )
