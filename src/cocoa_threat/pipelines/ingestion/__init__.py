"""Ingestion: validates every raw file, builds the labels (mining from the masks, cocoa from
a cocoa-probability layer reprojected onto each tile, mining wins), splits the tiles into
train / val / test (the same split in both years, a stratified random sample of spatial blocks
with known inclusion probabilities) and computes band statistics on the training split."""

from cocoa_threat.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
