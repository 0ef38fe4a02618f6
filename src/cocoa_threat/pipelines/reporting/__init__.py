"""Reporting: one self-contained HTML report (and Markdown) of the whole study."""

from cocoa_threat.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
