"""Pixel-wise random-forest baseline on the same bands as the deep models.

Saved with skops (``forest.skops``), a format that rebuilds only the types it
is told to trust, so a planted file can't run code when it is loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.ensemble import RandomForestClassifier

from cocoa_threat.analysis.metrics import confusion_matrix, scores_from_confusion
from cocoa_threat.models.base import FitReport, SegmentationModel, scaled_from_proba
from cocoa_threat.models.data import SplitArrays, TrainingData
from cocoa_threat.params.training import RandomForestParams

WEIGHTS = "forest.skops"
# The only type skops does not trust by default: sklearn's tree node storage.
TRUSTED = ["sklearn.tree._tree.Tree"]

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


def forest_proba(
    forest: RandomForestClassifier, features: np.ndarray, chunk: int = 65536
) -> np.ndarray:
    """Mean class probabilities of the trees for (P, C) pixel features; float64 (P, K).

    The same numbers as ``forest.predict_proba``, but reproducible: scikit-learn sums the
    trees in whatever order its threads finish, so the last bits (and hence argmax ties)
    change from run to run under load. Here the trees are summed in their own order for
    each chunk of pixels, and the chunks run in parallel (``forest.n_jobs`` threads; tree
    prediction releases the GIL).

    Args:
        forest: A fitted forest.
        features: Pixel features, one row per pixel.
        chunk: Pixels per parallel task.

    Returns:
        Probabilities in the order of ``forest.classes_``.
    """
    x = np.ascontiguousarray(features, dtype=np.float32)  # the trees' own dtype
    out = np.zeros((x.shape[0], len(forest.classes_)), dtype=np.float64)

    def one(start: int) -> None:
        part = x[start : start + chunk]
        acc = np.zeros((part.shape[0], out.shape[1]), dtype=np.float64)
        for tree in forest.estimators_:
            acc += tree.predict_proba(part, check_input=False)
        out[start : start + chunk] = acc / len(forest.estimators_)

    n_jobs = effective_n_jobs(forest.n_jobs)
    Parallel(n_jobs=n_jobs, require="sharedmem")(
        delayed(one)(start) for start in range(0, x.shape[0], chunk)
    )
    return out


def predict_forest(forest: RandomForestClassifier, images: np.ndarray) -> np.ndarray:
    """Classify every pixel of (N, C, H, W) normalised images; uint8 (N, H, W)."""
    n, bands, rows, cols = images.shape
    features = np.moveaxis(images, 1, -1).reshape(-1, bands)
    labels = forest.classes_.astype(np.uint8)[forest_proba(forest, features).argmax(axis=1)]
    return labels.reshape(n, rows, cols)


class ForestSegmenter(SegmentationModel):
    """The random forest behind the :class:`SegmentationModel` interface.

    Its build config: ``kind`` (``random_forest``), ``bands``, ``means``,
    ``stds``, ``class_names``, ``ignore_index``, ``image_nodata``, ``split_hash``.
    """

    kind = "random_forest"
    weight_files = (WEIGHTS,)

    def __init__(
        self, name: str, build_config: dict[str, Any], forest: RandomForestClassifier
    ) -> None:
        """Wrap a fitted forest."""
        super().__init__(name, build_config)
        self.forest = forest
        self.batch_size = 16

    def configure(
        self, batch_size: int | str, device: str, compile: bool = False
    ) -> ForestSegmenter:
        """Windows per call (``auto``: 16); the forest runs on the CPU whatever ``device``."""
        self.batch_size = 16 if batch_size == "auto" else int(batch_size)
        return self

    def window_batch(self, side: int) -> int:
        """Windows per call."""
        return self.batch_size

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of every pixel (reproducible, see :func:`forest_proba`)."""
        n, c, h, w = x.shape
        flat = np.moveaxis(x, 1, -1).reshape(-1, c)
        out = np.zeros((flat.shape[0], len(self.class_names)), dtype=np.float32)
        out[:, self.forest.classes_.astype(int)] = forest_proba(self.forest, flat)
        return np.moveaxis(out.reshape(n, h, w, -1), -1, 1)

    def predict_scaled(
        self, raw: np.ndarray, scale: int, crop: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`SegmentationModel.predict_scaled`, but the context margin is dropped
        before predicting: a pixel-wise model does not look at its neighbours."""
        if crop:
            raw = raw[..., crop:-crop, crop:-crop]
        return scaled_from_proba(self.predict_proba(raw), scale)

    def predict_labels(self, x: np.ndarray) -> np.ndarray:
        """Most likely class of every pixel (the forest's own vote, chunked)."""
        return predict_forest(self.forest, x)

    @classmethod
    def train(
        cls, name: str, spec: RandomForestParams, data: TrainingData, seed: int, run_dir: Path
    ) -> tuple[ForestSegmenter, FitReport]:
        """Fit on a balanced pixel sample of the training split; score on validation."""
        forest = fit_random_forest(
            data.splits["train"], spec, data.n_classes, data.ignore_index, seed=seed
        )
        build_config = {"kind": cls.kind, **data.input_config(), "seed": seed}
        model = cls(name, build_config, forest)
        val = data.splits["val"]
        cm = confusion_matrix(
            val.labels, model.predict_labels(val.images), data.n_classes, data.ignore_index
        )
        val_miou = scores_from_confusion(cm, data.class_names)["miou"]
        history = pd.DataFrame([{"epoch": 0.0, "val/mIoU": val_miou}])
        return model, FitReport(seed=seed, val_miou=val_miou, history=history)

    def save_weights(self, folder: Path) -> list[str]:
        """The forest as skops (no pickle)."""
        import skops.io as sio

        sio.dump(self.forest, folder / WEIGHTS)
        return [WEIGHTS]

    @classmethod
    def load_weights(cls, name: str, build_config: dict[str, Any], folder: Path) -> ForestSegmenter:
        """Load ``forest.skops``, trusting only sklearn's tree storage beyond skops' defaults."""
        import skops.io as sio

        forest = sio.load(folder / WEIGHTS, trusted=TRUSTED)
        if not isinstance(forest, RandomForestClassifier):
            raise ValueError(f"{folder / WEIGHTS} holds a {type(forest).__name__}, not a forest")
        return cls(name, build_config, forest)
