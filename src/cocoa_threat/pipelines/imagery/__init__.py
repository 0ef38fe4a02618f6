"""Imagery: a Sentinel-2 composite per year from a STAC catalog (not in the default run)."""

from cocoa_threat.pipelines.imagery.pipeline import create_pipeline

__all__ = ["create_pipeline"]
