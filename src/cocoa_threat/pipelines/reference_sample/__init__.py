"""The reference-sample kit: a sample to label, and honest areas for a year without labels."""

from cocoa_threat.pipelines.reference_sample.pipeline import create_pipeline

__all__ = ["create_pipeline"]
