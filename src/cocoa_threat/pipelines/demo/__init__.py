"""Demo: writes the embedded synthetic region (tiles, cocoa-probability layer, districts,
mercury survey) into the raw inputs' paths, only where an input is missing or stale (by its
stamp), so an input that is up to date, or that you edited, is never rewritten."""

from cocoa_threat.pipelines.demo.pipeline import create_pipeline

__all__ = ["create_pipeline"]
