"""On the demo region itself, every trained model beats the majority-class baseline."""

from __future__ import annotations

import pytest
from kedro.runner import SequentialRunner

from cocoa_threat.pipelines.demo import create_pipeline as demo_pipeline
from cocoa_threat.pipelines.ingestion import create_pipeline as ingestion_pipeline
from cocoa_threat.pipelines.training import create_pipeline as training_pipeline
from tests.conftest import load_project_conf


@pytest.mark.slow
def test_trained_models_beat_the_majority_baseline_on_the_demo(tmp_path) -> None:
    """The default demo region (8 x 8 tiles), short training: about a minute on 2 cores."""
    conf = load_project_conf(tmp_path)
    p = conf.params
    p["training"]["seeds"] = [42]
    for name in ("prithvi", "resnet50"):
        p[name]["model"]["trainer"].update({"max_epochs": 2, "enable_progress_bar": False})
    p["random_forest"]["model"]["n_estimators"] = 50
    for pipe in (demo_pipeline(), ingestion_pipeline(), training_pipeline()):
        SequentialRunner().run(pipe, conf.catalog_with_params())
    table = conf.catalog_with_params().load("model_comparison")
    overall = table[table["year"].astype(str) == "all"].set_index("model")
    baseline = overall.loc["majority_class"]
    assert overall["n_test_blocks"].min() >= 5  # enough blocks for intervals
    for name in ("prithvi", "resnet50", "random_forest"):
        model = overall.loc[name]
        # Above the baseline, and beyond its interval.
        assert model["miou_ci_low"] > baseline["miou_ci_high"], (name, model["miou"])
