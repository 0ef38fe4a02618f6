"""Transition: compares the two maps (transition matrix, change raster, cocoa -> mining
polygons per district) and adjusts the mapped areas with the stratified test sample (a
difference estimator, with intervals over whole blocks of tiles), beside the label census."""

from cocoa_threat.pipelines.transition.pipeline import create_pipeline

__all__ = ["create_pipeline"]
