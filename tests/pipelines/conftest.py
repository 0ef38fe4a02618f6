"""Fixtures shared by the pipeline tests."""

from tests.pipelines.shared import ingested, trained_forest  # noqa: F401
