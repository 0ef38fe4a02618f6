"""TerraTorch models (Prithvi-EO-2.0 + UperNet, ResNet50 U-Net) behind one interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cocoa_threat.models.base import FitReport, SegmentationModel
from cocoa_threat.models.data import TrainingData
from cocoa_threat.models.predict import DevicePredictor
from cocoa_threat.models.terratorch_build import model_from_build_config
from cocoa_threat.params.training import DeepModelParams

WEIGHTS = "weights.pt"


class TerraTorchSegmenter(SegmentationModel):
    """A TerraTorch segmentation model and how to feed it.

    Its build config: ``kind`` (``terratorch``), ``model_factory``,
    ``model_args`` (the architecture, no pretrained weights), ``bands``,
    ``means``, ``stds``, ``class_names``, ``ignore_index``, ``image_nodata``,
    ``split_hash``, ``seed``. The weights are a plain ``state_dict``.
    """

    kind = "terratorch"
    weight_files = (WEIGHTS,)

    def __init__(self, name: str, build_config: dict[str, Any], module: nn.Module) -> None:
        """Wrap a built (and trained) module."""
        super().__init__(name, build_config)
        self.module = module.eval()
        self._predictor: DevicePredictor | None = None
        self._settings: dict[str, Any] = {"batch_size": 16, "device": "auto", "compile": False}

    def configure(
        self, batch_size: int | str, device: str, compile: bool = False
    ) -> TerraTorchSegmenter:
        """Windows per forward pass (or ``auto``), the device (``auto``: CUDA when
        present) and ``torch.compile`` (CUDA only); the module moves there when first used."""
        self._settings = {"batch_size": batch_size, "device": device, "compile": compile}
        self._predictor = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (e.g. to Dask workers) without its device state: rebuilt where it runs."""
        return {**self.__dict__, "_predictor": None}

    @property
    def predictor(self) -> DevicePredictor:
        """The module on its device (moved there on first use)."""
        if self._predictor is None:
            cfg = self.build_config
            self._predictor = DevicePredictor(
                self.module, cfg["means"], cfg["stds"], cfg["image_nodata"], **self._settings
            )
        return self._predictor

    def window_batch(self, side: int) -> int:
        """Windows per forward pass (``auto``: the largest that fits the GPU)."""
        return self.predictor.resolved_batch_size(side, len(self.bands))

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Softmax probabilities of normalised images (CUDA and mixed precision when present)."""
        return self.predictor.proba(x, normalised=True)

    def predict_scaled(
        self, raw: np.ndarray, scale: int, crop: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Classes and uint8 probabilities computed on the device; only uint8 comes back."""
        return self.predictor.scaled(raw, scale, crop)

    @classmethod
    def train(
        cls, name: str, spec: DeepModelParams, data: TrainingData, seed: int, run_dir: Path
    ) -> tuple[TerraTorchSegmenter, FitReport]:
        """Train with Lightning (see :func:`cocoa_threat.models.training.fit_segmentation_model`)."""
        from cocoa_threat.models.training import fit_segmentation_model

        result = fit_segmentation_model(data, spec, name, run_dir, seed=seed)
        build_config = {**result.build_config, "seed": seed}
        model = cls(name, build_config, model_from_build_config(build_config, result.state_dict))
        return model, FitReport(seed=seed, val_miou=result.best_val_miou, history=result.history)

    def save_weights(self, folder: Path) -> list[str]:
        """The ``state_dict`` (tensors only)."""
        state = {k: v.detach().cpu() for k, v in self.module.state_dict().items()}
        torch.save(state, folder / WEIGHTS)
        return [WEIGHTS]

    @classmethod
    def load_weights(
        cls, name: str, build_config: dict[str, Any], folder: Path
    ) -> TerraTorchSegmenter:
        """Rebuild the architecture and load ``weights.pt`` with ``weights_only=True``."""
        state = torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True)
        return cls(name, build_config, model_from_build_config(build_config, state))
