"""Pixel-wise random-forest baseline on the same bands as the deep models."""

from __future__ import annotations

import logging

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from cocoa_threat.models.config import RandomForestParams
from cocoa_threat.models.data import SplitArrays

logger = logging.getLogger(__name__)


def sample_pixels(
    split: SplitArrays, n_classes: int, ignore_index: int, per_class: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced random under-sampling of labelled pixels.

    Args:
        split: Normalised images and labels.
        n_classes: Number of classes.
        ignore_index: Label of unlabelled pixels (never sampled).
        per_class: Pixels drawn per class (fewer if a class has fewer).
        seed: Random seed.

    Returns:
        ``(features, labels)``: (n, bands) float32 and (n,) uint8.
    """
    rng = np.random.default_rng(seed)
    labels = split.labels.reshape(-1)
    bands = split.images.shape[1]
    features = np.moveaxis(split.images, 1, -1).reshape(-1, bands)
    chosen = []
    for cls in range(n_classes):
        idx = np.flatnonzero(labels == cls)
        if idx.size == 0:
            logger.warning("Class %d has no training pixels", cls)
            continue
        chosen.append(rng.choice(idx, size=min(per_class, idx.size), replace=False))
    pick = np.concatenate(chosen)
    return features[pick], labels[pick]


def fit_random_forest(
    split: SplitArrays,
    spec: RandomForestParams,
    n_classes: int,
    ignore_index: int,
    seed: int = 42,
) -> RandomForestClassifier:
    """Fit the forest on a balanced pixel sample of the training split."""
    x, y = sample_pixels(split, n_classes, ignore_index, spec.pixels_per_class, seed)
    forest = RandomForestClassifier(
        n_estimators=spec.n_estimators,
        max_depth=spec.max_depth,
        min_samples_leaf=spec.min_samples_leaf,
        n_jobs=spec.n_jobs,
        random_state=seed,
    )
    logger.info("Fitting a %d-tree random forest on %d pixels", spec.n_estimators, len(y))
    forest.fit(x, y)
    return forest


def predict_forest(
    forest: RandomForestClassifier, images: np.ndarray, chunk: int = 262144
) -> np.ndarray:
    """Classify every pixel of (N, C, H, W) normalised images; uint8 (N, H, W)."""
    n, bands, rows, cols = images.shape
    features = np.moveaxis(images, 1, -1).reshape(-1, bands)
    out = np.empty(features.shape[0], dtype=np.uint8)
    for start in range(0, features.shape[0], chunk):
        out[start : start + chunk] = forest.predict(features[start : start + chunk])
    return out.reshape(n, rows, cols)
