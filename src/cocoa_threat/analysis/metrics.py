"""Segmentation metrics from confusion matrices (rows = reference, columns = prediction).

The test tiles are a stratified random sample of whole spatial blocks
(:mod:`cocoa_threat.smallminesds.splits`), so scores are estimated from the
design-weighted sum of the blocks' confusion matrices (each test block stands
for ``N_h / n_h`` non-training blocks of its stratum) and their intervals come
from a stratified delete-one-block jackknife with Student t:

    theta_(j)  = the score with block j (stratum h) left out, the other blocks of h
                 weighted by n_h / (n_h - 1)
    V          = sum_h (1 - n_h/N_h) (n_h - 1)/n_h sum_{j in h} (theta_(j) - mean_h theta_(.))^2
    CI         = theta +/- t(df) sqrt(V), df by Satterthwaite over strata (n - 1 with one)

A jackknife rather than a percentile bootstrap: with ~10 blocks the percentile
bootstrap's intervals are too short (0.91 coverage of a nominal 0.95 in the
issue-21 simulation, against 0.958 for the jackknife with t(n - 1)); a
studentised bootstrap would need a variance inside every resample and is
unstable with so few blocks; the jackknife is deterministic (no seed) and
pairs models exactly (the same block left out of every model), which is what
the paired differences of :func:`paired_jackknife` need.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from cocoa_threat.analysis.area import satterthwaite_df

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


@dataclass(frozen=True)
class BlockDesign:
    """The test blocks of a stratified sample: which tile is in which block, stratum, weight.

    Attributes:
        labels: (B,) block names.
        inverse: (n_tiles,) index of each tile's block in ``labels``.
        strata: (B,) stratum of each block.
        weights: (B,) design weight ``N_h / n_h`` of each block.
        fpc: (B,) ``1 - n_h / N_h`` of each block's stratum (1 when ``N_h`` is unknown).
    """

    labels: np.ndarray
    inverse: np.ndarray
    strata: np.ndarray
    weights: np.ndarray
    fpc: np.ndarray

    @property
    def n_blocks(self) -> int:
        """Number of test blocks."""
        return len(self.labels)

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return len(set(self.strata.tolist()))


def block_design(
    blocks: np.ndarray, strata: np.ndarray | None = None, weights: np.ndarray | None = None
) -> BlockDesign:
    """The design of the test tiles: blocks, strata and weights (per tile, as in the manifest).

    Without strata the blocks are one stratum; without weights every block
    weighs 1 and no finite-population correction is made (an infinite
    population: the wider interval).

    Raises:
        ValueError: When a block has tiles of several strata or weights.
    """
    labels, first, inverse = np.unique(
        np.asarray(blocks).astype(str), return_index=True, return_inverse=True
    )
    tile_strata = np.asarray(strata).astype(str) if strata is not None else None
    tile_w = np.asarray(weights, float) if weights is not None else None
    for name, values in (("strata", tile_strata), ("weights", tile_w)):
        if values is not None and (values != values[first][inverse]).any():
            raise ValueError(f"Test tiles of one block have different {name}; re-run ingestion")
    block_strata = tile_strata[first] if tile_strata is not None else np.full(len(labels), "all")
    if tile_w is None:
        w, fpc = np.ones(len(labels)), np.ones(len(labels))
    else:
        w = tile_w[first]
        if not (np.isfinite(w) & (w >= 1)).all():
            raise ValueError(f"Test blocks need design weights >= 1, got {sorted(set(w))}")
        fpc = 1 - 1 / w
    return BlockDesign(labels, inverse.ravel(), block_strata, w, fpc)


def replicate_confusions(tile_cms: np.ndarray, design: BlockDesign) -> np.ndarray:
    """The design-weighted confusion matrix, then one per left-out block (B + 1, k, k).

    Args:
        tile_cms: (n_tiles, k, k) confusion matrices of the test tiles.
        design: Their blocks (:func:`block_design`).
    """
    k = tile_cms.shape[1]
    per_block = np.zeros((design.n_blocks, k, k))
    np.add.at(per_block, design.inverse, np.asarray(tile_cms, float))
    weighted = per_block * design.weights[:, None, None]
    full = weighted.sum(axis=0)
    reps = np.empty_like(weighted)
    for stratum in np.unique(design.strata):
        members = np.flatnonzero(design.strata == stratum)
        n = len(members)
        part = weighted[members].sum(axis=0)
        scale = n / (n - 1) if n > 1 else np.nan
        reps[members] = full - part + scale * (part - weighted[members])
    return np.concatenate([full[None], reps])


def jackknife_interval(
    values: np.ndarray, design: BlockDesign, confidence: float
) -> tuple[float, float, float]:
    """Jackknife-t interval of a statistic from its full-sample value and block replicates.

    Args:
        values: (B + 1,) the statistic on the full sample, then with each block left out.
        design: The blocks.
        confidence: Level of the interval.

    Returns:
        (low, high, df); NaN where a replicate is undefined, a stratum has one
        block (its variance can't be told) or nothing varies.
    """
    full, reps = float(values[0]), np.asarray(values[1:], float)
    terms, dfs = [], []
    for stratum in np.unique(design.strata):
        members = design.strata == stratum
        n, fpc = int(members.sum()), float(design.fpc[members][0])
        if fpc == 0:
            continue  # every block of the stratum is in the sample: no sampling error
        r = reps[members]
        if n < 2 or not np.isfinite(r).all() or not np.isfinite(full):
            return np.nan, np.nan, np.nan
        terms.append(fpc * (n - 1) / n * ((r - r.mean()) ** 2).sum())
        dfs.append(n - 1.0)
    var = float(sum(terms))
    if var == 0:
        return full, full, np.nan
    dof = satterthwaite_df(np.array(terms), np.array(dfs))
    half = float(student_t.ppf(0.5 + confidence / 2, dof)) * np.sqrt(var)
    return full - half, full + half, dof


def _score_interval(values: np.ndarray, design: BlockDesign, confidence: float) -> list[float]:
    """A score's interval, cut to [0, 1] (where every score lives)."""
    low, high, _ = jackknife_interval(values, design, confidence)
    if np.isnan(low):
        return [float("nan"), float("nan")]
    return [float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1))]


def block_jackknife(
    tile_cms: np.ndarray,
    design: BlockDesign,
    class_names: list[str],
    confidence: float,
    min_blocks: int,
) -> dict[str, Any]:
    """Jackknife-t intervals of mIoU, macro F1 and per-class IoU / F1 over whole test blocks.

    Args:
        tile_cms: (n_tiles, k, k) confusion matrices (reference rows) of the test tiles.
        design: Their blocks, strata and design weights (:func:`block_design`).
        class_names: One name per class.
        confidence: Level of the intervals.
        min_blocks: Fewest blocks for an interval.

    Returns:
        ``{"miou": [low, high], "f1_macro": [...], "iou": {class: [...]},
        "f1": {class: [...]}, "n_blocks": n, "n_strata": h, "df": df of the
        mIoU, "method": "jackknife-t"}``; NaN bounds (and a warning) with
        fewer than ``min_blocks`` blocks.
    """
    nan_pair = [float("nan"), float("nan")]
    out: dict[str, Any] = {"n_blocks": design.n_blocks, "n_strata": design.n_strata}
    out |= {"method": "jackknife-t", "df": float("nan")}
    if design.n_blocks < max(min_blocks, 2):
        logger.warning(
            "Only %d test block(s): no interval (needs %d; lower ingestion.split.block_size "
            "or training.test_intervals.min_blocks)",
            design.n_blocks,
            max(min_blocks, 2),
        )
        return out | {
            "miou": nan_pair,
            "f1_macro": nan_pair,
            "iou": {c: nan_pair for c in class_names},
            "f1": {c: nan_pair for c in class_names},
        }
    scores = _batch_scores(replicate_confusions(tile_cms, design))
    out["df"] = jackknife_interval(scores["miou"], design, confidence)[2]
    return out | {
        "miou": _score_interval(scores["miou"], design, confidence),
        "f1_macro": _score_interval(scores["f1_macro"], design, confidence),
        "iou": {
            c: _score_interval(scores["iou"][:, i], design, confidence)
            for i, c in enumerate(class_names)
        },
        "f1": {
            c: _score_interval(scores["f1"][:, i], design, confidence)
            for i, c in enumerate(class_names)
        },
    }


def design_scores(tile_cms: np.ndarray, design: BlockDesign, class_names: list[str]) -> dict:
    """Scores of the design-weighted confusion matrix (estimates for the non-training tiles).

    ``confusion_matrix``, ``n_pixels`` and each class's ``support`` stay the
    sample's own pixel counts.
    """
    raw = np.asarray(tile_cms).sum(axis=0)
    scores = scores_from_confusion(replicate_confusions(tile_cms, design)[0], class_names)
    scores["confusion_matrix"] = raw.astype(np.int64).tolist()
    scores["n_pixels"] = int(raw.sum())
    for i, name in enumerate(class_names):
        scores["per_class"][name]["support"] = int(raw[i].sum())
    return scores


def paired_jackknife(
    cms_a: np.ndarray, cms_b: np.ndarray, design: BlockDesign, confidence: float
) -> dict[str, float]:
    """mIoU of model A minus model B on the same test tiles, with a paired jackknife-t interval.

    The same block is left out of both models in every replicate, so what the
    blocks share (hard tiles, easy tiles) cancels out of the difference.

    Returns:
        ``diff``, ``low``, ``high`` and ``df`` (NaN bounds where the design
        can't support an interval).
    """
    a = _batch_scores(replicate_confusions(cms_a, design))["miou"]
    b = _batch_scores(replicate_confusions(cms_b, design))["miou"]
    low, high, dof = jackknife_interval(a - b, design, confidence)
    return {"diff": float(a[0] - b[0]), "low": float(low), "high": float(high), "df": float(dof)}
