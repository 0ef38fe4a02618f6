"""The training pipeline: ``kedro run --pipeline=training``.

One template reused through namespaces, one per model. Run a single model with
``kedro run --pipeline=training --namespaces=resnet50``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline, pipeline

from cocoa_threat.pipelines.training.nodes import (
    compare_models,
    evaluate_model,
    model_comparison_markdown,
    plot_confusion_matrices,
    plot_training_curves,
    prepare_training_data,
    train_model,
)

MODELS = ("prithvi", "resnet50", "random_forest")
SHARED_INPUTS = {"model_input", "tile_manifest", "band_stats"}


def _bind(func: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``partial`` that keeps the function's name and docstring (for kedro viz)."""
    return update_wrapper(partial(func, **kwargs), func)


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
                _bind(train_model, namespace=namespace),
                inputs=["training_data", "params:model", "params:training"],
                outputs=["weights", "build_config", "history", "seed_runs"],
                name="train_model",
            ),
            Node(
                _bind(evaluate_model, namespace=namespace),
                inputs=[
                    "weights",
                    "build_config",
                    "training_data",
                    "history",
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
                _bind(plot_training_curves, namespace=namespace),
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


def create_pipeline(**kwargs: Any) -> Pipeline:
    """Create the training pipeline (all models, then their comparison)."""
    per_model = sum((model_pipeline(m) for m in MODELS), Pipeline([]))
    compare = Pipeline(
        [
            Node(
                compare_models,
                inputs=["params:training", *[f"{m}.metrics" for m in MODELS]],
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
    return (per_model + compare).tag("training")
