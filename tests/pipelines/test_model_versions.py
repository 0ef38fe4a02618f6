"""One model version per result: products of two trained models are never combined."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.pipelines.economics import create_pipeline as economics_pipeline
from cocoa_threat.pipelines.inference import create_pipeline as inference_pipeline
from cocoa_threat.pipelines.mercury import create_pipeline as mercury_pipeline
from cocoa_threat.pipelines.reporting import create_pipeline as reporting_pipeline
from cocoa_threat.pipelines.risk import create_pipeline as risk_pipeline
from cocoa_threat.pipelines.training import create_pipeline as training_pipeline
from cocoa_threat.pipelines.transition import create_pipeline as transition_pipeline
from cocoa_threat.provenance import one_version, stamped, table_version
from tests.conftest import ProjectConf


def test_versions_are_compared_and_named() -> None:
    assert one_version({"a": "v1", "b": "v1", "c": None}, "step") == "v1"
    with pytest.raises(ValueError, match=r"step: .*\(a from v1, b from v2\).*select_model"):
        one_version({"a": "v1", "b": "v2"}, "step")
    mixed = pd.concat(
        [stamped(pd.DataFrame({"x": [1]}), "v1"), stamped(pd.DataFrame({"x": [2]}), "v2")]
    )
    with pytest.raises(ValueError, match=r"areas mixes results of model versions \['v1', 'v2'\]"):
        table_version(mixed, "areas")
    assert table_version(pd.DataFrame({"x": [1]}), "no column") is None


def _retrain_forest(conf: ProjectConf) -> str:
    conf.params["random_forest"]["model"]["n_estimators"] = 5
    catalog = conf.catalog_with_params()
    SequentialRunner().run(
        training_pipeline().only_nodes_with_namespaces(["random_forest"]), catalog
    )
    return catalog.load("random_forest.trained_model").version


def test_every_result_names_its_model_and_mixed_inputs_are_refused(
    transitioned: ProjectConf,
) -> None:
    catalog = transitioned.catalog_with_params()
    first = catalog.load("chosen_model_info")["version"]
    for name in ("transition_matrix", "transition_by_district", "area_estimates"):
        assert table_version(catalog.load(name), name) == first
    assert catalog.load("after.land_use_map").tags["model_version"] == first

    # A new model maps only one year (e.g. a run killed half-way, or another model chosen):
    second = _retrain_forest(transitioned)
    assert second != first
    only_after = ("select_model", "after.build_input_mosaic", "after.predict_land_use")
    SequentialRunner().run(
        inference_pipeline().only_nodes(*only_after), transitioned.catalog_with_params()
    )
    with pytest.raises(ValueError, match=rf"different model versions: .*{first}.*{second}"):
        SequentialRunner().run(
            transition_pipeline().only_nodes("compute_transitions"),
            transitioned.catalog_with_params(),
        )
    SequentialRunner().run(mercury_pipeline(), transitioned.catalog_with_params())
    with pytest.raises(ValueError, match=rf"Risk factors: .*before.land_use_map from {first}"):
        SequentialRunner().run(risk_pipeline(), transitioned.catalog_with_params())

    # Both years re-mapped and the transitions redone, but the areas left from the first model:
    SequentialRunner().run(inference_pipeline(), transitioned.catalog_with_params())
    SequentialRunner().run(
        transition_pipeline().only_nodes("compute_transitions"), transitioned.catalog_with_params()
    )
    with pytest.raises(ValueError, match=rf"Economic loss by district: .*{second}.*{first}"):
        SequentialRunner().run(economics_pipeline(), transitioned.catalog_with_params())
    # Everything redone with the second model, then one table put back from the first:
    for pipeline in (
        transition_pipeline(),
        economics_pipeline(),
        mercury_pipeline(),
        risk_pipeline(),
    ):
        SequentialRunner().run(pipeline, transitioned.catalog_with_params())
    catalog = transitioned.catalog_with_params()
    assert table_version(catalog.load("risk_by_district"), "risk") == second
    summary = catalog.load("economic_summary")
    catalog.save("economic_summary", stamped(summary, first))
    with pytest.raises(ValueError, match=rf"The report: .*economic_summary from {first}"):
        SequentialRunner().run(reporting_pipeline(), catalog)
