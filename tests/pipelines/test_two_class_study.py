"""A two-class study (no cocoa layer): mining vs background from the released masks alone."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from kedro.runner import SequentialRunner

from cocoa_threat.errors import ParameterError
from cocoa_threat.pipelines import (
    economics,
    inference,
    mercury,
    risk,
    training,
    transition,
)
from tests.conftest import ProjectConf, from_raw
from tests.pipelines.shared import shrink_models


@pytest.fixture
def two_class(project_conf: ProjectConf) -> ProjectConf:
    p = project_conf.params
    p["ingestion"]["labels"]["cocoa"]["source"] = "none"
    p["land_use"].update({"classes": ["background", "mining"], "cocoa_class": None})
    p["land_use"]["colours"].pop("cocoa")
    p["transition"]["from_class"] = "background"  # the conversion of interest: new mining
    shrink_models(p)
    p["resnet50"]["model"]["class_weights"] = None
    return project_conf


def test_two_class_study_runs_from_ingestion_to_transition(two_class: ProjectConf) -> None:
    models = training.create_pipeline().only_nodes_with_namespaces(["resnet50", "random_forest"])
    for pipe in (from_raw(), models):
        SequentialRunner().run(pipe, two_class.catalog_with_params())
    catalog = two_class.catalog_with_params()
    from cocoa_threat.pipelines.training.nodes import compare_models

    comparison = compare_models(
        two_class.typed("training"),
        catalog.load("resnet50.metrics"),
        catalog.load("random_forest.metrics"),
    )
    catalog.save("model_comparison", comparison)
    assert set(catalog.load("resnet50.metrics")["test"]["all"]["per_class"]) == {
        "background",
        "mining",
    }
    for pipe in (inference.create_pipeline(), transition.create_pipeline()):
        SequentialRunner().run(pipe, two_class.catalog_with_params())
    with rasterio.open(two_class.root / "data/07_model_output/land_use_after.tif") as src:
        assert set(np.unique(src.read(1))) <= {0, 1, 255}
    areas = catalog.load("area_estimates")
    assert "background -> mining" in set(areas["quantity"])
    # The pipelines that value or expose cocoa stop at once, naming the key to fix.
    for pipe in (economics, mercury, risk):
        with pytest.raises(Exception) as info:
            SequentialRunner().run(pipe.create_pipeline(), two_class.catalog_with_params())
        cause = info.value
        while not isinstance(cause, ParameterError) and cause.__cause__ is not None:
            cause = cause.__cause__
        assert isinstance(cause, ParameterError), cause
        assert "ingestion.labels.cocoa" in str(cause), pipe
