"""Download: fetches SmallMinesDS (the years asked, at a pinned revision) from the Hugging
Face Hub into the raw tiles' path (``ingestion.source: huggingface``), not again while the
tiles on disk came from the same repository, revision and years."""

from cocoa_threat.pipelines.download.pipeline import create_pipeline

__all__ = ["create_pipeline"]
