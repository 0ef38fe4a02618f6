"""Segmentation metrics from confusion matrices (rows = reference, columns = prediction)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
