"""One interface for every segmentation model of the project: train, predict, save, load.

A :class:`SegmentationModel` knows how to rebuild itself from its *build config*
(architecture, bands, normalisation, classes, the split it was trained on) and
its weights. Saving writes the weights under exact file names and a manifest,
``model.json``, that lists them with their SHA-256; loading reads only those
files, checks their hashes first and uses loaders that can't run code
(``torch.load(weights_only=True)``, skops with a trusted-types list). The kind of
model is dispatched in one place: :mod:`cocoa_threat.models.factory`.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cocoa_threat.models.data import TrainingData, normalise

MANIFEST = "model.json"


@dataclass
class FitReport:
    """What training one model with one seed produced, besides the model."""

    seed: int
    val_miou: float | None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


def sha256(path: Path) -> str:
    """SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scaled_from_proba(
    proba: np.ndarray, scale: int, crop: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 classes and ``round(p * scale)`` of (N, classes, H, W) probabilities, cropped."""
    if crop:
        proba = proba[:, :, crop:-crop, crop:-crop]
    return proba.argmax(axis=1).astype(np.uint8), np.rint(proba * scale).astype(np.uint8)


class SegmentationModel(ABC):
    """A trained segmentation model: per-pixel class probabilities for raw image windows.

    Attributes:
        name: The model's namespace (``prithvi``, ``resnet50``, ...).
        build_config: How to rebuild it and normalise its input (see subclasses).
        version: The catalog version it was saved or loaded as (None before).
        training: Facts of its training (seed, validation mIoU, seeds tried).
    """

    kind: ClassVar[str]
    # The exact files ``load_weights`` reads; ``model.json`` must list these and no others.
    weight_files: ClassVar[tuple[str, ...]]

    def __init__(self, name: str, build_config: dict[str, Any]) -> None:
        """Wrap a trained model's build config (subclasses add the weights)."""
        self.name = name
        self.build_config = build_config
        self.version: str | None = None
        self.training: dict[str, Any] = {}

    # -- what the model is for ------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        """Class names, index = class code."""
        return list(self.build_config["class_names"])

    @property
    def bands(self) -> list[str]:
        """Input bands, in order."""
        return list(self.build_config["bands"])

    @property
    def split_hash(self) -> str | None:
        """Hash of the tile split it was trained on."""
        return self.build_config.get("split_hash")

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Standardise raw (N, C, H, W) values as in training; nodata -> 0."""
        cfg = self.build_config
        return normalise(raw, cfg["means"], cfg["stds"], cfg["image_nodata"])

    def predict_proba(self, raw: np.ndarray) -> np.ndarray:
        """float32 (N, classes, H, W) probabilities for raw (N, C, H, W) windows."""
        return self.proba(self.normalise(raw))

    @abstractmethod
    def proba(self, x: np.ndarray) -> np.ndarray:
        """float32 (N, classes, H, W) probabilities for normalised (N, C, H, W) images."""

    def predict_labels(self, x: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W) most likely class of normalised (N, C, H, W) images."""
        return self.proba(x).argmax(axis=1).astype(np.uint8)

    def predict_scaled(
        self, raw: np.ndarray, scale: int, crop: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """uint8 classes (N, h, w) and probabilities ``round(p * scale)`` (N, classes, h, w)
        of raw windows, with ``crop`` pixels dropped on every side.

        Models on a GPU override this to do the work there and copy back only uint8.
        """
        return scaled_from_proba(self.predict_proba(raw), scale, crop)

    def configure(
        self, batch_size: int | str, device: str, compile: bool = False
    ) -> SegmentationModel:
        """Set how predictions run (batch size or ``auto``, device, ``torch.compile``);
        a no-op where it doesn't apply."""
        return self

    def window_batch(self, side: int) -> int:
        """Windows of ``side`` pixels per prediction call (resolves ``auto``)."""
        return 16

    # -- training -------------------------------------------------------------------
    @classmethod
    @abstractmethod
    def train(
        cls, name: str, spec: Any, data: TrainingData, seed: int, run_dir: Path
    ) -> tuple[SegmentationModel, FitReport]:
        """Train on ``data.splits['train']``, select on ``data.splits['val']``."""

    # -- persistence ----------------------------------------------------------------
    @abstractmethod
    def save_weights(self, folder: Path) -> list[str]:
        """Write the weights into ``folder``; return the file names written."""

    @classmethod
    @abstractmethod
    def load_weights(
        cls, name: str, build_config: dict[str, Any], folder: Path
    ) -> SegmentationModel:
        """Rebuild the model from the files ``save_weights`` wrote (loaded safely)."""

    def save(self, folder: Path) -> None:
        """Write the weights and ``model.json`` (build config, file hashes, training facts)."""
        folder.mkdir(parents=True, exist_ok=True)
        files = self.save_weights(folder)
        manifest = {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "build_config": self.build_config,
            "files": {f: sha256(folder / f) for f in files},
            "training": self.training,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=float))


def read_manifest(folder: Path, files: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The manifest of a saved model, after checking every file it lists.

    Args:
        folder: The model's folder.
        files: The exact file names the model's loader reads (None: the manifest's
            kind decides, see :func:`cocoa_threat.models.factory.load_model`).

    Raises:
        ValueError: A missing manifest; a manifest that does not list exactly the
            files the loader reads; a listed file that is missing, outside the
            folder (``../``, a symbolic link leaving it), or whose content changed
            since it was saved. Nothing is loaded then.
    """
    manifest = manifest_json(folder)
    path = folder / MANIFEST
    listed = manifest.get("files") or {}
    if files is not None and set(listed) != set(files):
        raise ValueError(
            f"{path} lists files {sorted(listed)} but a {manifest.get('kind')} model is read "
            f"from exactly {sorted(files)}; every file a loader reads must be listed with its "
            f"SHA-256. Retrain the model (kedro run --pipeline=training)."
        )
    for name, expected in listed.items():
        file = inside(folder, folder / name)
        if not file.is_file():
            raise ValueError(f"{folder}: file {name!r} listed in {MANIFEST} is missing")
        if sha256(file) != expected:
            raise ValueError(
                f"{file} changed since it was saved (SHA-256 differs from {MANIFEST}); "
                f"it is not loaded. Retrain the model or restore the file."
            )
    return manifest


def manifest_json(folder: Path) -> dict[str, Any]:
    """``model.json`` as written (nothing checked but its place)."""
    path = folder / MANIFEST
    if not path.is_file():
        raise ValueError(f"{folder} has no {MANIFEST}: not a model saved by this project")
    return json.loads(inside(folder, path).read_text())


def inside(folder: Path, path: Path) -> Path:
    """``path``, if it lies in ``folder`` once links are followed; else a ValueError."""
    base, real = folder.resolve(), path.resolve()
    if real.parent != base:
        raise ValueError(
            f"{path.relative_to(folder) if path.is_relative_to(folder) else path} lies outside "
            f"the model folder {folder} (a '../' name or a symbolic link leaving it): model "
            f"files are read only from their own folder; nothing was loaded"
        )
    return path
