"""Demo: the embedded synthetic region, written into the raw inputs' paths once."""

from cocoa_threat.pipelines.demo.pipeline import create_pipeline

__all__ = ["create_pipeline"]
