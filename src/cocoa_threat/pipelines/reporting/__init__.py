"""Reporting: one self-contained HTML report (and Markdown) of the whole study from the
catalog's tables and figures, and the interactive map that opens offline."""

from cocoa_threat.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
