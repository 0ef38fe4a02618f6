"""The training pipeline: ``kedro run --pipeline=training``.

One template reused through namespaces, one per model of ``training.models``
(conf). Run a single model with ``kedro run --pipeline=training --namespaces=training.resnet50``,
then ``kedro run --pipeline=comparison`` to compare it with the models that exist
(the comparison reads every model's metrics; a model not trained yet is left out).
"""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline, pipeline

from cocoa_threat.conf import model_names
from cocoa_threat.pipelines import bind
from cocoa_threat.pipelines.training.nodes import (
    compare_models,
    evaluate_model,
    model_comparison_markdown,
    prepare_training_data,
    train_model,
)
from cocoa_threat.plots.models import plot_confusion_matrices, plot_training_curves

SHARED_INPUTS = {"model_input", "tile_manifest", "band_stats", "lightning_runs"}


def model_pipeline(namespace: str) -> Pipeline:
    """Prepare data, train, evaluate on test and plot, for one model namespace."""
    template = Pipeline(
        [
            Node(
                prepare_training_data,
                inputs=[
                    "model_input",
                    "tile_manifest",
                    "band_stats",
                    "params:training",
                    "params:land_use",
                ],
                outputs="training_data",
                name="prepare_training_data",
            ),
            Node(
                bind(train_model, namespace=namespace),
                inputs=["training_data", "lightning_runs", "params:model", "params:training"],
                outputs=["trained_model", "history", "seed_runs"],
                name="train_model",
            ),
            Node(
                bind(evaluate_model, namespace=namespace),
                inputs=[
                    "trained_model",
                    "training_data",
                    "seed_runs",
                    "params:model",
                    "params:training",
                ],
                outputs="metrics",
                name="evaluate_on_test_split",
            ),
            Node(
                plot_confusion_matrices,
                inputs="metrics",
                outputs="confusion_matrix_figure",
                name="plot_confusion_matrices",
            ),
            Node(
                bind(plot_training_curves, namespace=namespace),
                inputs="history",
                outputs="training_curves_figure",
                name="plot_training_curves",
            ),
        ]
    )
    return pipeline(
        template,
        namespace=namespace,
        inputs=SHARED_INPUTS,
        parameters={"params:training", "params:land_use"},
    )


def comparison_pipeline(models: tuple[str, ...]) -> Pipeline:
    """Every model's test metrics (those that exist) in one table, with intervals."""
    return Pipeline(
        [
            Node(
                compare_models,
                inputs=["params:training", *[f"{m}.metrics" for m in models]],
                outputs="model_comparison",
                name="compare_models",
            ),
            Node(
                model_comparison_markdown,
                inputs="model_comparison",
                outputs="model_comparison_markdown",
                name="model_comparison_markdown",
            ),
        ]
    )


def create_pipeline(models: tuple[str, ...] | None = None, **kwargs: Any) -> Pipeline:
    """Create the training pipeline: every model of ``training.models``, then their comparison."""
    models = models or model_names()
    per_model = sum((model_pipeline(m) for m in models), Pipeline([]))
    compare = comparison_pipeline(models)
    return (per_model + compare).tag("training")
