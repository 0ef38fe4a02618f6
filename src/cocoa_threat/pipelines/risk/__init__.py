"""Risk: which cocoa is next, a 0-1 score for every cocoa pixel."""

from cocoa_threat.pipelines.risk.pipeline import create_pipeline

__all__ = ["create_pipeline"]
