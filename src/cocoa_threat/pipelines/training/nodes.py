"""Nodes of the training pipeline, shared by every model namespace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cocoa_threat.geo.raster import Raster
from cocoa_threat.models.config import (
    DeepModelParams,
    RandomForestParams,
    TrainingParams,
    parse_model_params,
)
from cocoa_threat.models.data import SplitArrays, TrainingData, load_training_data
from cocoa_threat.models.metrics import confusion_matrix, scores_from_confusion
from cocoa_threat.params import land_use_params, parse_params
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)


def _training_params(params: dict[str, Any]) -> TrainingParams:
    return parse_params(TrainingParams, params, "training")


def prepare_training_data(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, Any],
    training: dict[str, Any],
    land_use: dict[str, Any],
) -> TrainingData:
    """Read the model input once and normalise it with the training-split statistics.

    Args:
        model_input: Partition loaders of the ingestion's model input.
        tile_manifest: The ingestion manifest (samples and their splits).
        band_stats: Training-split band means and standard deviations.
        training: The shared ``training`` parameters.
        land_use: The ``land_use`` parameters (classes; nodata = ignore index).

    Returns:
        Normalised train, val and test arrays, and the split's hash.
    """
    t, lu = _training_params(training), land_use_params(land_use)
    data = load_training_data(
        model_input,
        tile_manifest,
        band_stats,
        class_names=lu.classes,
        ignore_index=lu.nodata,
        image_nodata=t.image_nodata,
    )
    data.split_hash = split_fingerprint(tile_manifest)
    return data


def _evaluate_split(
    predict: Callable[[np.ndarray], np.ndarray], split: SplitArrays, data: TrainingData
) -> dict[str, Any]:
    """Scores per year and for all years together on one split."""
    prediction = predict(split.images)
    out = {}
    for year in sorted(set(split.years.tolist())):
        keep = split.years == year
        cm = confusion_matrix(
            split.labels[keep], prediction[keep], data.n_classes, data.ignore_index
        )
        out[str(year)] = scores_from_confusion(cm, data.class_names)
    cm = confusion_matrix(split.labels, prediction, data.n_classes, data.ignore_index)
    out["all"] = scores_from_confusion(cm, data.class_names)
    return out


def _forest_predictor(forest: Any) -> Callable[[np.ndarray], np.ndarray]:
    from cocoa_threat.models.random_forest import predict_forest

    return lambda images: predict_forest(forest, images)


def _torch_predictor(
    state_dict: dict[str, Any], build_config: dict[str, Any], batch_size: int
) -> Callable[[np.ndarray], np.ndarray]:
    from cocoa_threat.models.factory import model_from_build_config
    from cocoa_threat.models.predict import predict_labels

    model = model_from_build_config(build_config, state_dict)
    return lambda images: predict_labels(model, images, batch_size=batch_size)


def train_model(
    training_data: TrainingData,
    model: dict[str, Any],
    training: dict[str, Any],
    namespace: str,
) -> tuple[Any, dict[str, Any], pd.DataFrame]:
    """Train one model on the training split, selecting on the validation split.

    Args:
        training_data: Output of :func:`prepare_training_data`.
        model: The model's parameter block (``<namespace>.model``).
        training: The shared ``training`` parameters.
        namespace: The model's namespace (``prithvi``, ``resnet50``, ``random_forest``).

    Returns:
        ``weights`` (a state_dict, or the fitted forest), the ``build_config`` to
        rebuild it, and the per-epoch ``history`` (with ``val/mIoU``).
    """
    spec = parse_model_params(model, f"{namespace}.model")
    t = _training_params(training)
    if isinstance(spec, RandomForestParams):
        from cocoa_threat.models.random_forest import fit_random_forest

        forest = fit_random_forest(
            training_data.splits["train"],
            spec,
            training_data.n_classes,
            training_data.ignore_index,
        )
        val = _evaluate_split(_forest_predictor(forest), training_data.splits["val"], training_data)
        history = pd.DataFrame([{"epoch": 0.0, "val/mIoU": val["all"]["miou"]}])
        build_config = {
            "kind": "random_forest",
            "bands": training_data.bands,
            "means": training_data.means,
            "stds": training_data.stds,
            "class_names": training_data.class_names,
            "ignore_index": training_data.ignore_index,
            "image_nodata": training_data.image_nodata,
            "split_hash": training_data.split_hash,
        }
        logger.info("%s: validation mIoU %.3f", namespace, val["all"]["miou"])
        return forest, build_config, history
    assert isinstance(spec, DeepModelParams)
    from cocoa_threat.models.training import fit_segmentation_model

    result = fit_segmentation_model(training_data, spec, namespace, Path(t.run_dir) / namespace)
    return result.state_dict, result.build_config, result.history


def evaluate_model(
    weights: Any,
    build_config: dict[str, Any],
    training_data: TrainingData,
    history: pd.DataFrame,
    model: dict[str, Any],
    training: dict[str, Any],
    namespace: str,
) -> dict[str, Any]:
    """Score the trained model once on the **test** split, per year and overall.

    Args:
        weights: The trained weights (state_dict) or forest.
        build_config: How to rebuild the model.
        training_data: Normalised arrays (only ``test`` is used).
        history: Training history (for the best validation mIoU).
        model: The model's parameter block.
        training: The shared ``training`` parameters.
        namespace: The model's namespace.

    Returns:
        ``metrics``: model, description, validation mIoU and test scores
        (IoU, F1, precision, recall per class, mIoU, macro F1, overall accuracy,
        confusion matrix in pixel counts) for each year and for all years.
    """
    spec = parse_model_params(model, f"{namespace}.model")
    t = _training_params(training)
    if build_config.get("kind") == "random_forest":
        predictor = _forest_predictor(weights)
    else:
        predictor = _torch_predictor(weights, build_config, t.eval_batch_size)
    test = training_data.splits["test"]
    scores = _evaluate_split(predictor, test, training_data)
    val_miou = (
        float(history["val/mIoU"].max())
        if "val/mIoU" in history and history["val/mIoU"].notna().any()
        else None
    )
    logger.info(
        "%s: TEST mIoU %.3f (%s), validation mIoU %s",
        namespace,
        scores["all"]["miou"],
        ", ".join(f"{c} {v['iou']:.3f}" for c, v in scores["all"]["per_class"].items()),
        "n/a" if val_miou is None else f"{val_miou:.3f}",
    )
    init = None
    if isinstance(spec, DeepModelParams):
        init = {
            "backbone": spec.model_args.get("backbone"),
            "weights_source": spec.weights.source,
            "frozen_backbone": spec.freeze_backbone,
        }
    return {
        "model": namespace,
        "description": spec.description,
        "initialisation": init,
        "validation": {"miou": val_miou, "epochs": len(history)},
        "test": scores,
        "n_test_patches": len(test),
        "class_names": training_data.class_names,
    }


def plot_confusion_matrices(metrics: dict[str, Any]) -> Figure:
    """Row-normalised test confusion matrices per year and overall, with pixel counts."""
    names = metrics["class_names"]
    groups = list(metrics["test"])
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        cm = np.asarray(metrics["test"][group]["confusion_matrix"], dtype=float)
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(
                    j,
                    i,
                    f"{share[i, j]:.2f}\n{int(cm[i, j]):,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        miou = metrics["test"][group]["miou"]
        ax.set_title(f"{group}: mIoU {miou:.3f}" if miou is not None else group)
    fig.suptitle(f"{metrics['model']}: test-split confusion matrices (pixels)")
    fig.tight_layout()
    return fig


def plot_training_curves(history: pd.DataFrame, namespace: str) -> Figure:
    """Loss and mIoU per epoch (training and validation)."""
    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, ax in (("loss", ax_loss), ("mIoU", ax_iou)):
        for prefix, style in (("train", "-"), ("val", "--")):
            col = f"{prefix}/{key}"
            if col in history and history[col].notna().any():
                ax.plot(history["epoch"], history[col], style, marker="o", ms=3, label=prefix)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.suptitle(f"{namespace}: training curves")
    fig.tight_layout()
    return fig


def compare_models(*metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per model and year (and all years), plus a majority-class baseline.

    The baseline predicts the most frequent reference class of the whole test
    split everywhere; a model that learns anything beats it by far.

    Args:
        *metrics: The ``<model>.metrics`` of each model.

    Returns:
        ``model_comparison``: model, year, miou, iou_<class>..., f1_macro,
        overall_accuracy, n_pixels.
    """
    rows = []
    for m in metrics:
        for year, s in m["test"].items():
            rows.append(_comparison_row(m["model"], year, s))
    first = metrics[0]
    overall = np.asarray(first["test"]["all"]["confusion_matrix"]).sum(axis=1)
    majority = int(np.argmax(overall))
    for year, s in first["test"].items():
        support = np.asarray(s["confusion_matrix"]).sum(axis=1)
        baseline = np.zeros((len(support), len(support)), dtype=np.int64)
        baseline[:, majority] = support
        rows.append(
            _comparison_row(
                "majority_class", year, scores_from_confusion(baseline, first["class_names"])
            )
        )
    table = pd.DataFrame(rows)
    logger.info("Model comparison (test split):\n%s", table.round(3).to_string(index=False))
    return table


def _comparison_row(model: str, year: str, s: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": model,
        "year": year,
        "miou": s["miou"],
        **{f"iou_{c}": v["iou"] for c, v in s["per_class"].items()},
        "f1_macro": s["f1_macro"],
        "overall_accuracy": s["overall_accuracy"],
        "n_pixels": s["n_pixels"],
    }


def model_comparison_markdown(model_comparison: pd.DataFrame) -> str:
    """The comparison as a Markdown table (for the README and the report)."""
    from cocoa_threat.reporting.tables import markdown_table

    return markdown_table(model_comparison)
