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
from cocoa_threat.models.evaluation import (
    ALL,
    comparison_rows,
    majority_metrics,
    per_tile_records,
    predict_split,
    score_split,
    tile_confusions,
    verdicts,
)
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


def _predictor(
    weights: Any, build_config: dict[str, Any], batch_size: int
) -> Callable[[np.ndarray], np.ndarray]:
    if build_config.get("kind") == "random_forest":
        return _forest_predictor(weights)
    return _torch_predictor(weights, build_config, batch_size)


def _split_miou(
    predict: Callable[[np.ndarray], np.ndarray], split: SplitArrays, data: TrainingData
) -> float | None:
    prediction = predict_split(predict, split)
    cm = confusion_matrix(split.labels, prediction, data.n_classes, data.ignore_index)
    return scores_from_confusion(cm, data.class_names)["miou"]


def _fit_one(
    data: TrainingData, spec: Any, t: TrainingParams, namespace: str, seed: int
) -> dict[str, Any]:
    """Train one model with one seed; its weights, build config, history and val mIoU."""
    if isinstance(spec, RandomForestParams):
        from cocoa_threat.models.random_forest import fit_random_forest

        forest = fit_random_forest(
            data.splits["train"], spec, data.n_classes, data.ignore_index, seed=seed
        )
        val = _split_miou(_forest_predictor(forest), data.splits["val"], data)
        build_config = {
            "kind": "random_forest",
            "bands": data.bands,
            "means": data.means,
            "stds": data.stds,
            "class_names": data.class_names,
            "ignore_index": data.ignore_index,
            "image_nodata": data.image_nodata,
            "split_hash": data.split_hash,
        }
        history = pd.DataFrame([{"epoch": 0.0, "val/mIoU": val}])
        return {
            "weights": forest,
            "build_config": build_config,
            "history": history,
            "val_miou": val,
        }
    assert isinstance(spec, DeepModelParams)
    from cocoa_threat.models.training import fit_segmentation_model

    run_dir = Path(t.run_dir) / namespace / f"seed_{seed}"
    result = fit_segmentation_model(data, spec, namespace, run_dir, seed=seed)
    return {
        "weights": result.state_dict,
        "build_config": result.build_config,
        "history": result.history,
        "val_miou": result.best_val_miou,
    }


def train_model(
    training_data: TrainingData,
    model: dict[str, Any],
    training: dict[str, Any],
    namespace: str,
) -> tuple[Any, dict[str, Any], pd.DataFrame, list[dict[str, Any]]]:
    """Train one model once per seed (``training.seeds``); keep the best on validation.

    Args:
        training_data: Output of :func:`prepare_training_data`.
        model: The model's parameter block (``<namespace>.model``).
        training: The shared ``training`` parameters.
        namespace: The model's namespace (``prithvi``, ``resnet50``, ``random_forest``).

    Returns:
        ``weights`` (a state_dict, or the fitted forest) and ``build_config`` of
        the seed with the best validation mIoU, its per-epoch ``history`` (with
        ``val/mIoU``), and ``seed_runs``: every seed's weights and validation
        mIoU (for the spread of the test scores).
    """
    spec = parse_model_params(model, f"{namespace}.model")
    t = _training_params(training)
    runs = []
    for seed in t.seeds:
        run = _fit_one(training_data, spec, t, namespace, seed)
        run["build_config"]["seed"] = seed
        runs.append({"seed": seed, **run})
        logger.info("%s, seed %d: validation mIoU %s", namespace, seed, run["val_miou"])
    scored = [r for r in runs if r["val_miou"] is not None]
    best = max(scored, key=lambda r: r["val_miou"]) if scored else runs[0]
    logger.info(
        "%s: keeping seed %d (best validation mIoU of %d seed(s))",
        namespace,
        best["seed"],
        len(runs),
    )
    seed_runs = [
        {"seed": r["seed"], "val_miou": r["val_miou"], "weights": r["weights"]} for r in runs
    ]
    return (
        best["weights"],
        best["build_config"],
        best["history"].assign(seed=best["seed"]),
        seed_runs,
    )


def evaluate_model(
    weights: Any,
    build_config: dict[str, Any],
    training_data: TrainingData,
    history: pd.DataFrame,
    seed_runs: list[dict[str, Any]],
    model: dict[str, Any],
    training: dict[str, Any],
    namespace: str,
) -> dict[str, Any]:
    """Score the trained model once on the **test** split, with block-bootstrap intervals.

    The kept model (best seed on validation) gets per-year scores, 95%
    intervals from resampling whole test blocks, and its per-tile confusion
    matrices; every seed's model gets its test mIoU and macro F1 (the spread
    over seeds). Nothing here feeds back into training or model choice.

    Args:
        weights: The kept weights (state_dict) or forest.
        build_config: How to rebuild the model.
        training_data: Normalised arrays (only ``test`` is used).
        history: Training history of the kept seed (for the best validation mIoU).
        seed_runs: Every seed's weights (from :func:`train_model`).
        model: The model's parameter block.
        training: The shared ``training`` parameters.
        namespace: The model's namespace.

    Returns:
        ``metrics``: model, description, validation mIoU, test scores with
        intervals per year and overall, per-tile confusion matrices and seeds.
    """
    spec = parse_model_params(model, f"{namespace}.model")
    t = _training_params(training)
    test = training_data.splits["test"]
    n, ignore = training_data.n_classes, training_data.ignore_index
    predict = _predictor(weights, build_config, t.eval_batch_size)
    cms = tile_confusions(predict_split(predict, test), test, n, ignore)
    scores = score_split(cms, test, training_data.class_names, **t.bootstrap.model_dump())
    seeds = []
    for run in seed_runs:
        if run["seed"] == build_config.get("seed"):
            seed_scores = scores[ALL]
        else:
            seed_cm = tile_confusions(
                predict_split(_predictor(run["weights"], build_config, t.eval_batch_size), test),
                test,
                n,
                ignore,
            ).sum(axis=0)
            seed_scores = scores_from_confusion(seed_cm, training_data.class_names)
        seeds.append(
            {
                "seed": run["seed"],
                "val_miou": run["val_miou"],
                "test_miou": seed_scores["miou"],
                "test_f1_macro": seed_scores["f1_macro"],
                "kept": run["seed"] == build_config.get("seed"),
            }
        )
    val_miou = (
        float(history["val/mIoU"].max())
        if "val/mIoU" in history and history["val/mIoU"].notna().any()
        else None
    )
    ci = scores[ALL]["ci"]["miou"]
    logger.info(
        "%s: TEST mIoU %.3f (95%% CI %.3f-%.3f, %d blocks; seeds %s), validation mIoU %s",
        namespace,
        scores[ALL]["miou"],
        ci[0],
        ci[1],
        scores[ALL]["ci"]["n_blocks"],
        ", ".join(f"{s['seed']}: {s['test_miou']:.3f}" for s in seeds),
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
        "seeds": seeds,
        "n_test_patches": len(test),
        "class_names": training_data.class_names,
        "test_tiles": per_tile_records(cms, test),
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


def compare_models(training: dict[str, Any], *metrics: dict[str, Any]) -> pd.DataFrame:
    """One row per model and year (and all years), with intervals, plus a majority baseline.

    Every score carries a 95% interval from resampling whole test blocks; the
    spread over ``training.seeds`` is beside it. The ``comparison`` column
    says which models the test tiles can't tell apart (overlapping mIoU
    intervals) instead of ranking them. The baseline predicts the most frequent
    reference class of the whole test split everywhere.

    Args:
        training: The shared ``training`` parameters (bootstrap settings).
        *metrics: The ``<model>.metrics`` of each trained model.

    Returns:
        ``model_comparison``.
    """
    t = _training_params(training)
    if not metrics:
        raise ValueError("No model metrics to compare; train at least one model")
    baseline = majority_metrics(metrics[0], t.bootstrap.model_dump())
    table = comparison_rows([*metrics, baseline])
    verdict = verdicts(table)
    table["comparison"] = [
        verdict[m] if y == ALL else "" for m, y in zip(table["model"], table["year"], strict=True)
    ]
    shown = table[table["year"] == ALL][
        ["model", "miou", "miou_ci_low", "miou_ci_high", "comparison"]
    ]
    logger.info(
        "Model comparison (test split, all years):\n%s", shown.round(3).to_string(index=False)
    )
    return table


def model_comparison_markdown(model_comparison: pd.DataFrame) -> str:
    """The comparison as Markdown (for the README and the report): intervals, not ranks."""
    from cocoa_threat.reporting.tables import comparison_markdown

    return comparison_markdown(model_comparison)
