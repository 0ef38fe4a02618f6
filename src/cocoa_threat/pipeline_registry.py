"""Project pipelines."""

from __future__ import annotations

from kedro.pipeline import Pipeline, pipeline

from cocoa_threat.conf import model_names, raw_source
from cocoa_threat.pipelines import (
    demo,
    demo_stac,
    download,
    economics,
    imagery,
    inference,
    ingestion,
    mercury,
    reference_sample,
    reporting,
    risk,
    series,
    training,
    transition,
)

# The pipeline that writes the raw inputs, by ingestion.source (local: the user's files).
ACQUISITION = {"synthetic": "demo", "huggingface": "download", "local": None}


def _grouped(name: str, p: Pipeline) -> Pipeline:
    """``p`` with its nodes in the namespace ``name`` (one group in kedro viz); datasets keep
    their names."""
    return pipeline(p, namespace=name, prefix_datasets_with_namespace=False)


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Every pipeline's nodes are in its own namespace (``training.resnet50.train_model``,
    ``risk.compute_risk_factors``), so kedro viz shows one group per pipeline and
    ``--namespaces=training.resnet50`` runs one model. The default run starts with
    the acquisition pipeline of ``ingestion.source``; so do ``ingestion`` and
    ``training`` (they then work on a fresh clone: the demo is written once and
    reused). The shape comes from the running session's conf
    (:mod:`cocoa_threat.conf`).

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    models = model_names()
    study = {
        "ingestion": ingestion.create_pipeline(),
        "training": training.create_pipeline(models),
        "inference": inference.create_pipeline(models),
        "transition": transition.create_pipeline(),
        "economics": economics.create_pipeline(),
        "mercury": mercury.create_pipeline(),
        "risk": risk.create_pipeline(),
        # A sample of one year's map to label (QGIS), and its error-adjusted areas.
        "reference_sample": reference_sample.create_pipeline(),
        "reporting": reporting.create_pipeline(models),
    }
    pipelines = {name: _grouped(name, p) for name, p in study.items()}
    pipelines["demo"] = _grouped("demo", demo.create_pipeline())
    pipelines["download"] = _grouped("download", download.create_pipeline())
    acquired = ACQUISITION[raw_source()]
    first = pipelines[acquired] if acquired else Pipeline([])
    pipelines["__default__"] = first + sum(pipelines[n] for n in study)
    pipelines["ingestion"] = first + pipelines["ingestion"]
    pipelines["training"] = pipelines["ingestion"] + pipelines["training"]
    # The comparison of every model whose metrics exist: after training one model
    # (`--namespaces=training.resnet50`), `kedro run --pipeline=comparison` updates it.
    pipelines["comparison"] = _grouped("training", training.comparison_pipeline(models))
    # Not part of the default run: it needs a scene of the user's (inference.scene).
    pipelines["scene_inference"] = _grouped("inference", inference.create_scene_pipeline(models))
    # Not part of the default run (which stays offline): composites from a STAC catalog.
    pipelines["imagery"] = _grouped("imagery", imagery.create_pipeline())
    # Not part of the default run: maps of series.years from the imagery pipeline's composites.
    # The demo's tiles as a local STAC catalog (conf/series_demo: imagery, then series, offline).
    pipelines["demo_stac"] = _grouped("demo_stac", demo_stac.create_pipeline())
    pipelines["series"] = _grouped("inference", inference.select_pipeline(models)) + _grouped(
        "series", series.create_pipeline()
    )
    return pipelines
