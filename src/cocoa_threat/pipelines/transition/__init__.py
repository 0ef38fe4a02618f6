"""Transition: where mining replaced cocoa between the two image dates, with honest areas."""

from cocoa_threat.pipelines.transition.pipeline import create_pipeline

__all__ = ["create_pipeline"]
