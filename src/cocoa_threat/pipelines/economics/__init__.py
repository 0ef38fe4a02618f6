"""Economics: the money value of the cocoa lost to mining."""

from cocoa_threat.pipelines.economics.pipeline import create_pipeline

__all__ = ["create_pipeline"]
