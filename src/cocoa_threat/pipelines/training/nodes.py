"""Nodes of the training pipeline, shared by every model namespace."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cocoa_threat.geo.raster import Raster
from cocoa_threat.models import factory
from cocoa_threat.models.base import SegmentationModel
from cocoa_threat.models.data import TrainingData, load_training_data
from cocoa_threat.models.evaluation import (
    ALL,
    check_same_test_split,
    comparison_rows,
    evaluate_on_test,
    majority_metrics,
    paired_differences,
    power_warning,
    verdicts,
)
from cocoa_threat.params import LandUse
from cocoa_threat.params.training import DeepModelParams, ModelSpec, TrainingParams
from cocoa_threat.smallminesds.splits import split_fingerprint

logger = logging.getLogger(__name__)


def prepare_training_data(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    band_stats: dict[str, Any],
    training: TrainingParams,
    land_use: LandUse,
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
    data = load_training_data(
        model_input,
        tile_manifest,
        band_stats,
        class_names=land_use.classes,
        ignore_index=land_use.nodata,
        image_nodata=training.image_nodata,
    )
    data.split_hash = split_fingerprint(tile_manifest)
    return data


def train_model(
    training_data: TrainingData,
    lightning_runs: Path,
    model: ModelSpec,
    training: TrainingParams,
    namespace: str,
) -> tuple[SegmentationModel, pd.DataFrame, list[tuple[int, float | None, SegmentationModel]]]:
    """Train one model once per seed (``training.seeds``); keep the best on validation.

    Args:
        training_data: Output of :func:`prepare_training_data`.
        lightning_runs: The folder of Lightning's checkpoints and logs (catalog
            ``lightning_runs``); each seed trains in ``<namespace>/seed_<seed>/``.
        model: The model's parameter block (``<namespace>.model``).
        training: The shared ``training`` parameters.
        namespace: The model's namespace (one of ``training.models``).

    Returns:
        ``trained_model`` (the seed with the best validation mIoU), its
        per-epoch ``history`` and ``seed_runs`` (seed, validation mIoU and model
        of every seed, for the spread of the test scores).
    """
    spec = model.root
    runs = []
    for seed in training.seeds:
        run_dir = lightning_runs / namespace / f"seed_{seed}"
        trained, report = factory.train_model(namespace, spec, training_data, seed, run_dir)
        runs.append((trained, report))
        logger.info("%s, seed %d: validation mIoU %s", namespace, seed, report.val_miou)
    best, report = max(runs, key=lambda r: -np.inf if r[1].val_miou is None else r[1].val_miou)
    best.training = {
        "seed": report.seed,
        "val_miou": report.val_miou,
        "epochs": len(report.history),
        "seeds": [{"seed": r.seed, "val_miou": r.val_miou} for _, r in runs],
        "description": spec.description,
    }
    logger.info("%s: keeping seed %d of %d", namespace, report.seed, len(runs))
    seed_runs = [(r.seed, r.val_miou, m) for m, r in runs]
    return best, report.history.assign(seed=report.seed), seed_runs


def evaluate_model(
    trained_model: SegmentationModel,
    training_data: TrainingData,
    seed_runs: list[tuple[int, float | None, SegmentationModel]],
    model: ModelSpec,
    training: TrainingParams,
    namespace: str,
) -> dict[str, Any]:
    """Score the trained model once on the **test** split, with intervals over whole blocks.

    The kept model (as saved: its version is recorded) gets per-year scores,
    jackknife-t intervals over whole test blocks and per-tile confusion
    matrices; every seed's model gets its test mIoU and macro F1 (the spread
    over seeds). Nothing here feeds back into training or model choice.

    Args:
        trained_model: The saved model (from the catalog).
        training_data: Normalised arrays (only ``test`` is used).
        seed_runs: Every seed's model (from :func:`train_model`).
        model: The model's parameter block.
        training: The shared ``training`` parameters.
        namespace: The model's namespace.

    Returns:
        ``metrics``: model, version, split hash, description, validation mIoU,
        test scores with intervals per year and overall, seeds, per-tile
        confusion matrices.
    """
    spec = model.root
    trained_model.configure(training.eval_batch_size, "auto")
    result = evaluate_on_test(
        trained_model, training_data, seed_runs, training.test_intervals.model_dump()
    )
    _log_test_scores(namespace, result, training.test_intervals.confidence)
    return _metrics_record(namespace, trained_model, spec, training_data, result)


def _log_test_scores(namespace: str, result: dict[str, Any], confidence: float) -> None:
    overall = result["test"][ALL]
    logger.info(
        "%s: TEST mIoU %.3f (%.0f%% CI %s, %d blocks; seeds %s)",
        namespace,
        overall["miou"],
        100 * confidence,
        "-".join(f"{v:.3f}" for v in overall["ci"]["miou"]),
        overall["ci"]["n_blocks"],
        ", ".join(f"{s['seed']}: {s['test_miou']:.3f}" for s in result["seeds"]),
    )


def _metrics_record(
    namespace: str,
    trained_model: SegmentationModel,
    spec: Any,
    training_data: TrainingData,
    result: dict[str, Any],
) -> dict[str, Any]:
    """The ``metrics`` of :func:`evaluate_model`: the model, its version and its test scores."""
    init = None
    if isinstance(spec, DeepModelParams):
        init = {
            "backbone": spec.model_args.get("backbone"),
            "weights_source": spec.weights.source,
            "frozen_backbone": spec.freeze_backbone,
        }
    return {
        "model": namespace,
        "model_version": trained_model.version,
        "split_hash": trained_model.split_hash,
        "description": spec.description,
        "initialisation": init,
        "validation": {"miou": trained_model.training.get("val_miou")},
        **result,
        "n_test_patches": len(training_data.splits["test"]),
        "class_names": training_data.class_names,
    }


def compare_models(training: TrainingParams, *metrics: dict[str, Any] | None) -> pd.DataFrame:
    """One row per model and year (and all years), with intervals, plus a majority baseline.

    Every score carries a ``training.test_intervals.confidence`` interval from a
    jackknife over whole test blocks; the spread over ``training.seeds`` is
    beside it. ``rank`` and ``comparison`` come from the paired mIoU
    difference of every two models on the same blocks: a model is above
    another only where that interval excludes zero. The baseline predicts the
    most frequent reference class of the whole test split everywhere.

    Args:
        training: The shared ``training`` parameters (``test_intervals``).
        *metrics: The ``<model>.metrics`` of every model (None where not trained).

    Returns:
        ``model_comparison`` (with each model's version).
    """
    metrics = tuple(m for m in metrics if m is not None)
    if not metrics:
        raise ValueError("No model metrics to compare; train at least one model")
    check_same_test_split(list(metrics))
    baseline = majority_metrics(metrics[0], training.test_intervals.model_dump())
    conf = training.test_intervals.confidence
    table = comparison_rows([*metrics, baseline], conf)
    verdict = verdicts(paired_differences([*metrics, baseline], conf))
    overall = table["year"] == ALL
    table["rank"] = table["model"].map(verdict["rank"]).where(overall)
    table["comparison"] = table["model"].map(verdict["comparison"]).where(overall, "")
    table["warning"] = power_warning(
        int(table["n_test_blocks"].max()), training.test_intervals.warn_below_blocks
    )
    versions = {m["model"]: m.get("model_version") for m in metrics}
    table["model_version"] = table["model"].map(versions)
    shown = table[table["year"] == ALL][
        ["model", "rank", "miou", "miou_ci_low", "miou_ci_high", "comparison"]
    ]
    logger.info(
        "Model comparison (test split, all years):\n%s", shown.round(3).to_string(index=False)
    )
    return table


def model_comparison_markdown(model_comparison: pd.DataFrame) -> str:
    """The comparison as Markdown (for the README and the report): intervals, not ranks."""
    from cocoa_threat.rendering.tables import comparison_markdown

    return comparison_markdown(model_comparison)
