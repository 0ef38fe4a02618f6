"""Download: SmallMinesDS from the Hugging Face Hub into the raw tiles' path."""

from cocoa_threat.pipelines.download.pipeline import create_pipeline

__all__ = ["create_pipeline"]
