"""The ingestion pipeline: ``kedro run --pipeline=ingestion``."""

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.ingestion.nodes import (
    acquire_raw_tiles,
    assign_splits,
    build_model_input,
    compute_band_stats,
    validate_raw_tiles,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ingestion pipeline."""
    return Pipeline(
        [
            Node(
                acquire_raw_tiles,
                inputs="params:ingestion",
                outputs="raw_tile_index",
                name="acquire_raw_tiles",
            ),
            Node(
                validate_raw_tiles,
                inputs=["raw_tile_index", "params:ingestion"],
                outputs="raw_tile_inventory",
                name="validate_raw_tiles",
            ),
            Node(
                assign_splits,
                inputs=["raw_tile_inventory", "params:ingestion"],
                outputs="tile_splits",
                name="assign_splits",
            ),
            Node(
                build_model_input,
                inputs=["raw_tile_inventory", "tile_splits", "params:ingestion"],
                outputs=["model_input", "tile_manifest"],
                name="build_model_input",
            ),
            Node(
                compute_band_stats,
                inputs=["model_input", "tile_manifest", "params:ingestion"],
                outputs="band_stats",
                name="compute_band_stats",
            ),
        ],
        tags="ingestion",
    )
