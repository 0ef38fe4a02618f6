"""Imagery: not in the default run: a Sentinel-2 L2A composite per year of ``imagery.years``
from a STAC catalog (Earth Search, or a local static catalog), clouds and shadows masked, the
median of clear days, in the model's bands for ``scene_inference`` (see docs/imagery.md)."""

from cocoa_threat.pipelines.imagery.pipeline import create_pipeline

__all__ = ["create_pipeline"]
