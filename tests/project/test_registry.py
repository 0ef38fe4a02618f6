"""The project's pipelines as Kedro registers them."""

from __future__ import annotations

from kedro.framework.project import configure_project

from cocoa_threat.pipeline_registry import register_pipelines


def test_pipelines_registered() -> None:
    configure_project("cocoa_threat")
    pipelines = register_pipelines()
    assert len(pipelines["__default__"].nodes) > 40
    expected = {
        "ingestion",
        "training",
        "inference",
        "transition",
        "economics",
        "mercury",
        "risk",
        "reference_sample",
    }
    assert expected | {"__default__", "scene_inference"} <= set(pipelines)
    default = {n.name for n in pipelines["__default__"].nodes}
    for name in expected:
        assert {n.name for n in pipelines[name].nodes} <= default, name
    assert (
        not {n.name for n in pipelines["scene_inference"].nodes if n.name.endswith("predict_scene")}
        & default
    )
    # Training on a fresh clone needs the model input: the demo and ingestion run first.
    training = {n.name for n in pipelines["training"].nodes}
    assert {"demo.demo_tiles", "ingestion.build_model_input"} <= training
    assert "training.resnet50.train_model" in training
    # Every pipeline's nodes are one group (namespace) in kedro viz; datasets keep names.
    groups = {n.namespace.split(".")[0] for n in pipelines["__default__"].nodes}
    assert groups == {"demo", *expected, "reporting"}
    # Inference reads every model of training.models from the catalog (no ordering-only
    # inputs): in a full run it waits for their training through these datasets.
    from cocoa_threat.conf import model_names

    select = next(n for n in pipelines["__default__"].nodes if n.name == "inference.select_model")
    assert {f"{m}.trained_model" for m in model_names()} <= set(select.inputs)
    assert "model_comparison" not in select.inputs
    producers = {o: n.name for n in pipelines["__default__"].nodes for o in n.outputs}
    assert producers["resnet50.trained_model"] == "training.resnet50.train_model"
