"""Fixtures shared by the pipeline tests."""

from tests.pipelines.shared import (  # noqa: F401
    forest_stage,
    ingested,
    ingested_stage,
    mapped,
    mapped_stage,
    trained_forest,
    transitioned,
    transitioned_stage,
)
