"""Mercury: gaseous elemental mercury in air over the cocoa landscape."""

from cocoa_threat.pipelines.mercury.pipeline import create_pipeline

__all__ = ["create_pipeline"]
