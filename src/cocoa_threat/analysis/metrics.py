"""Segmentation metrics from confusion matrices (rows = reference, columns = prediction)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


def confusion_matrix(
    reference: np.ndarray, prediction: np.ndarray, n_classes: int, ignore_index: int
) -> np.ndarray:
    """Pixel-count confusion matrix, leaving out no-label pixels.

    Args:
        reference: Reference labels, any shape.
        prediction: Predicted labels, same shape.
        n_classes: Number of classes.
        ignore_index: Label value of pixels without a reference label.

    Returns:
        int64 array (n_classes, n_classes); entry [i, j] counts pixels of
        reference class i predicted as class j.
    """
    ref = np.asarray(reference).ravel()
    pred = np.asarray(prediction).ravel()
    keep = ref != ignore_index
    ref, pred = ref[keep].astype(np.int64), pred[keep].astype(np.int64)
    if ref.size and (ref.max() >= n_classes or pred.min() < 0 or pred.max() >= n_classes):
        raise ValueError(f"labels outside 0..{n_classes - 1} (ignore index {ignore_index})")
    return np.bincount(ref * n_classes + pred, minlength=n_classes**2).reshape(n_classes, n_classes)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def scores_from_confusion(cm: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """IoU, F1, precision, recall per class, their means, and overall accuracy.

    Classes absent from both reference and prediction get NaN per-class scores
    and are left out of the means.

    Args:
        cm: Confusion matrix (reference rows, prediction columns).
        class_names: One name per class.

    Returns:
        A JSON-friendly dict: ``miou``, ``f1_macro``, ``overall_accuracy``,
        ``n_pixels``, ``per_class`` {name: {iou, f1, precision, recall,
        support}} and ``confusion_matrix`` (nested lists).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    ref_total = cm.sum(axis=1)
    pred_total = cm.sum(axis=0)
    iou = _safe_div(tp, ref_total + pred_total - tp)
    precision = _safe_div(tp, pred_total)
    recall = _safe_div(tp, ref_total)
    f1 = _safe_div(2 * tp, ref_total + pred_total)
    total = cm.sum()

    def _mean(values: np.ndarray) -> float | None:
        return float(np.nanmean(values)) if np.isfinite(values).any() else None

    def _num(value: float) -> float | None:
        return None if not np.isfinite(value) else float(value)

    return {
        "miou": _mean(iou),
        "f1_macro": _mean(f1),
        "precision_macro": _mean(precision),
        "recall_macro": _mean(recall),
        "overall_accuracy": float(tp.sum() / total) if total else None,
        "n_pixels": int(total),
        "per_class": {
            name: {
                "iou": _num(iou[i]),
                "f1": _num(f1[i]),
                "precision": _num(precision[i]),
                "recall": _num(recall[i]),
                "support": int(ref_total[i]),
            }
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": cm.astype(np.int64).tolist(),
    }


def _batch_scores(cms: np.ndarray) -> dict[str, np.ndarray]:
    """IoU and F1 per class, mIoU and macro F1 of a stack of confusion matrices (B, k, k)."""
    tp = np.diagonal(cms, axis1=1, axis2=2).astype(float)
    ref, pred = cms.sum(axis=2), cms.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(ref + pred - tp > 0, tp / (ref + pred - tp), np.nan)
        f1 = np.where(ref + pred > 0, 2 * tp / (ref + pred), np.nan)
    present = np.isfinite(iou).any(axis=1)
    miou = np.where(present, np.nanmean(np.where(np.isfinite(iou), iou, np.nan), axis=1), np.nan)
    f1m = np.where(present, np.nanmean(f1, axis=1), np.nan)
    return {"iou": iou, "f1": f1, "miou": miou, "f1_macro": f1m}


def block_bootstrap(
    tile_cms: np.ndarray,
    blocks: np.ndarray,
    class_names: list[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    min_blocks: int = 5,
) -> dict[str, Any]:
    """Percentile intervals of mIoU, macro F1 and per-class IoU / F1 by resampling blocks.

    The test tiles come in spatial blocks, and pixels (and tiles) within a block
    are not independent draws: the block is resampled, with replacement, with
    all its tiles.

    Args:
        tile_cms: (n_tiles, k, k) confusion matrices (reference rows) of the test tiles.
        blocks: (n_tiles,) the block of each tile.
        class_names: One name per class.
        n_resamples: Bootstrap resamples.
        confidence: Level of the intervals.
        seed: Random seed (the same seed resamples the same blocks, so models
            scored on the same tiles get paired resamples).
        min_blocks: Fewest blocks for an interval: with fewer, a percentile
            bootstrap has too few distinct resamples to mean anything.

    Returns:
        ``{"miou": [low, high], "f1_macro": [...], "iou": {class: [...]},
        "f1": {class: [...]}, "n_blocks": n}``; NaN bounds (and a warning) with
        fewer than ``min_blocks`` blocks.
    """
    cms = np.asarray(tile_cms, dtype=np.int64)
    labels, inverse = np.unique(np.asarray(blocks).astype(str), return_inverse=True)
    k, n_blocks = cms.shape[1], len(labels)
    per_block = np.zeros((n_blocks, k, k), dtype=np.int64)
    np.add.at(per_block, inverse, cms)
    nan_pair = [float("nan"), float("nan")]
    if n_blocks < max(min_blocks, 2):
        logger.warning(
            "Only %d test block(s): no bootstrap interval (needs %d; lower "
            "ingestion.split.block_size or training.bootstrap.min_blocks)",
            n_blocks,
            max(min_blocks, 2),
        )
        return {
            "miou": nan_pair,
            "f1_macro": nan_pair,
            "iou": {c: nan_pair for c in class_names},
            "f1": {c: nan_pair for c in class_names},
            "n_blocks": n_blocks,
        }
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_blocks, np.full(n_blocks, 1 / n_blocks), size=n_resamples)
    resampled = np.einsum("bn,nij->bij", counts, per_block)
    scores = _batch_scores(resampled)
    q = [50 * (1 - confidence), 50 * (1 + confidence)]

    def interval(values: np.ndarray) -> list[float]:
        finite = values[np.isfinite(values)]
        return [float(v) for v in np.percentile(finite, q)] if finite.size else nan_pair

    return {
        "miou": interval(scores["miou"]),
        "f1_macro": interval(scores["f1_macro"]),
        "iou": {c: interval(scores["iou"][:, i]) for i, c in enumerate(class_names)},
        "f1": {c: interval(scores["f1"][:, i]) for i, c in enumerate(class_names)},
        "n_blocks": n_blocks,
    }
