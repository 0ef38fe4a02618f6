"""Demo STAC: the demo region's raw tiles as a local static STAC catalog, so the imagery
and series pipelines run offline on the demo through the same code as real imagery."""

from cocoa_threat.pipelines.demo_stac.pipeline import create_pipeline

__all__ = ["create_pipeline"]
