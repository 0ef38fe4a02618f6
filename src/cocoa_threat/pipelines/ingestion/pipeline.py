"""The ingestion pipeline: ``kedro run --pipeline=ingestion``."""

from kedro.pipeline import Node, Pipeline

from cocoa_threat.pipelines.ingestion.nodes import (
    assign_splits,
    build_model_input,
    compute_band_stats,
    index_raw_tiles,
    validate_raw_tiles,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ingestion pipeline."""
    return Pipeline(
        [
            Node(
                index_raw_tiles,
                inputs=["raw_tiles", "params:ingestion"],
                outputs="raw_tile_index",
                name="index_raw_tiles",
            ),
            Node(
                validate_raw_tiles,
                inputs=[
                    "raw_tiles",
                    "raw_tile_index",
                    "cocoa_layer_raw",
                    "params:ingestion",
                    "params:land_use",
                ],
                outputs=["raw_tile_inventory", "cocoa_on_tiles"],
                name="validate_raw_tiles",
            ),
            Node(
                assign_splits,
                inputs=["raw_tile_inventory", "published_splits_raw", "params:ingestion"],
                outputs="tile_splits",
                name="assign_splits",
            ),
            Node(
                build_model_input,
                inputs=[
                    "raw_tiles",
                    "raw_tile_inventory",
                    "tile_splits",
                    "cocoa_on_tiles",
                    "params:ingestion",
                    "params:land_use",
                ],
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
