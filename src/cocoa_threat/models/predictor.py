"""A trained model ready to predict: torch segmentation models and the random forest alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cocoa_threat.models.data import normalise


@dataclass
class Predictor:
    """Class probabilities for raw image windows, whatever the model.

    Attributes:
        name: Model name (namespace).
        build_config: The model's build config (bands, normalisation, classes).
        model: A torch module or a fitted scikit-learn forest.
        batch_size: Windows per forward pass (torch models).
        device: ``auto``, ``cpu`` or ``cuda[:n]``.
    """

    name: str
    build_config: dict[str, Any]
    model: Any
    batch_size: int = 16
    device: str = "auto"

    @property
    def class_names(self) -> list[str]:
        """Class names, index = class code."""
        return list(self.build_config["class_names"])

    @property
    def bands(self) -> list[str]:
        """Input bands, in order."""
        return list(self.build_config["bands"])

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """Standardise raw (N, C, H, W) values as in training; nodata -> 0."""
        cfg = self.build_config
        return normalise(raw, cfg["means"], cfg["stds"], cfg["image_nodata"])

    def predict_proba(self, raw: np.ndarray) -> np.ndarray:
        """float32 (N, classes, H, W) probabilities for raw (N, C, H, W) windows."""
        x = self.normalise(raw)
        if self.build_config.get("kind") == "random_forest":
            n, c, h, w = x.shape
            flat = np.moveaxis(x, 1, -1).reshape(-1, c)
            proba = np.zeros((flat.shape[0], len(self.class_names)), dtype=np.float32)
            proba[:, self.model.classes_.astype(int)] = self.model.predict_proba(flat)
            return np.moveaxis(proba.reshape(n, h, w, -1), -1, 1)
        from cocoa_threat.models.predict import predict_logits

        return predict_logits(self.model, x, batch_size=self.batch_size, device=self.device)


def load_predictor(
    name: str, build_config: dict[str, Any], weights: Any, batch_size: int, device: str
) -> Predictor:
    """Rebuild a trained model from its build config and weights (state_dict or forest)."""
    if build_config.get("kind") == "random_forest":
        return Predictor(name, build_config, weights, batch_size, device)
    from cocoa_threat.models.factory import model_from_build_config

    model = model_from_build_config(build_config, weights)
    return Predictor(name, build_config, model.eval(), batch_size, device)
