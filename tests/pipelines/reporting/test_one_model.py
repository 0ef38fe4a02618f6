"""Train one model with --namespaces, and the comparison and the report follow the models that exist."""

from __future__ import annotations

import re
from pathlib import Path

from kedro.runner import SequentialRunner

from cocoa_threat.pipeline_registry import register_pipelines
from cocoa_threat.pipelines.economics import create_pipeline as economics_pipeline
from cocoa_threat.pipelines.mercury import create_pipeline as mercury_pipeline
from cocoa_threat.pipelines.reporting import create_pipeline as reporting_pipeline
from cocoa_threat.pipelines.risk import create_pipeline as risk_pipeline
from cocoa_threat.pipelines.training import create_pipeline as training_pipeline
from cocoa_threat.rendering.offline import external_resources
from tests.conftest import ProjectConf


def test_the_comparison_follows_the_models_that_exist(ingested: ProjectConf) -> None:
    forest = training_pipeline().only_nodes_with_namespaces(["random_forest"])
    catalog = ingested.catalog_with_params()
    assert not catalog.exists("model_comparison")
    SequentialRunner().run(forest, catalog)
    assert not catalog.exists("model_comparison")  # the namespace alone does not compare
    SequentialRunner().run(register_pipelines()["comparison"], catalog)
    table = catalog.load("model_comparison")
    assert set(table["model"]) == {"random_forest", "majority_class"}
    version = catalog.load("random_forest.trained_model").version
    assert set(table.loc[table["model"] == "random_forest", "model_version"]) == {version}
    assert "random_forest" in catalog.load("model_comparison_markdown")


def test_the_report_shows_the_models_that_exist(transitioned: ProjectConf) -> None:
    for pipeline in (economics_pipeline(), mercury_pipeline(), risk_pipeline()):
        SequentialRunner().run(pipeline, transitioned.catalog_with_params())
    catalog = transitioned.catalog_with_params()
    SequentialRunner().run(reporting_pipeline(), catalog)

    report = catalog.load("report_markdown")
    assert "random_forest" in report
    assert "prithvi" not in report.split("## Models")[1].split("## Land use")[0]
    figures = Path(transitioned.root, "data/08_reporting/figures")
    assert (figures / "random_forest_confusion_matrix.png").is_file()
    assert not (figures / "prithvi_confusion_matrix.png").exists()
    html = Path(transitioned.root, "data/08_reporting/report.html").read_text()
    assert 'href="map.html"' in html  # the interactive map, next to the report
    web_map = catalog.load("web_map")
    assert "Cocoa risk class" in web_map and "Districts" in web_map
    # The pictures of both years under the classes, one at a time.
    assert '"name":"Imagery 2016","kind":"raster"' in web_map and '"name":"Imagery 2022"' in web_map
    assert external_resources(web_map) == []
    # Only the forest's confusion matrices (plus the other figures) are embedded.
    assert len(re.findall(r"data:image/png;base64", html)) == 11
