"""Fixtures shared by the pipeline tests."""

from tests.pipelines.shared import (  # noqa: F401
    ingested,
    mapped,
    trained_forest,
    transitioned,
)
