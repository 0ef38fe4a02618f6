"""Shared fixtures of the pipeline tests: an ingested tiny region, CPU-sized models."""

from __future__ import annotations

import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.pipelines.ingestion import create_pipeline as ingestion_pipeline
from tests.conftest import ProjectConf


def shrink_models(params: dict) -> None:
    """Make every model of the project's conf train in seconds on a CPU."""
    for name in ("prithvi", "resnet50"):
        model = params[name]["model"]
        model["data"]["batch_size"] = 8
        model["trainer"].update(
            {"max_epochs": 1, "enable_progress_bar": False, "log_every_n_steps": 1}
        )
    params["prithvi"]["model"]["model_args"]["decoder_channels"] = 16
    params["random_forest"]["model"].update({"n_estimators": 10, "pixels_per_class": 500})
    params["training"]["seeds"] = [42]
    params["training"]["bootstrap"].update({"n_resamples": 200, "min_blocks": 2})


@pytest.fixture
def ingested(project_conf: ProjectConf) -> ProjectConf:
    """The tiny demo region run through ingestion, models shrunk."""
    shrink_models(project_conf.params)
    SequentialRunner().run(ingestion_pipeline(), project_conf.catalog_with_params())
    return project_conf


@pytest.fixture
def trained_forest(ingested: ProjectConf) -> ProjectConf:
    """The tiny region ingested and the random forest trained (the fastest model)."""
    from cocoa_threat.pipelines.training import create_pipeline as training_pipeline
    from cocoa_threat.pipelines.training.nodes import compare_models

    forest = training_pipeline().only_nodes_with_namespaces(["random_forest"])
    catalog = ingested.catalog_with_params()
    SequentialRunner().run(forest, catalog)
    comparison = compare_models(ingested.params["training"], catalog.load("random_forest.metrics"))
    catalog.save("model_comparison", comparison)
    return ingested


@pytest.fixture
def mapped(trained_forest: ProjectConf) -> ProjectConf:
    """... and both years mapped by the inference pipeline."""
    from cocoa_threat.pipelines.inference import create_pipeline as inference_pipeline

    SequentialRunner().run(inference_pipeline(), trained_forest.catalog_with_params())
    return trained_forest


@pytest.fixture
def transitioned(mapped: ProjectConf) -> ProjectConf:
    """... and the transition pipeline run (districts, area estimates)."""
    from cocoa_threat.pipelines.transition import create_pipeline as transition_pipeline

    SequentialRunner().run(transition_pipeline(), mapped.catalog_with_params())
    return mapped
