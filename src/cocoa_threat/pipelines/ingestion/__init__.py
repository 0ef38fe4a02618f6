"""Ingestion: raw SmallMinesDS tiles (demo, local or Hub) to model input."""

from cocoa_threat.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
