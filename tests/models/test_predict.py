"""The device prediction path gives what the plain float32 path gives, on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cocoa_threat.models.base import scaled_from_proba
from cocoa_threat.models.data import normalise
from cocoa_threat.models.predict import DevicePredictor, predict_logits

NODATA = -9999.0


class TinySegmenter(nn.Module):
    """A 3-class conv net returning (N, 3, H, W) logits."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@pytest.fixture
def raw() -> np.ndarray:
    rng = np.random.default_rng(0)
    raw = (1000 + 300 * rng.standard_normal((7, 4, 24, 24))).astype(np.float32)
    raw[0, :, :5, :5] = NODATA
    raw[3, 2, 10, 10] = np.nan
    return raw


def test_scaled_equals_the_host_reference(raw: np.ndarray) -> None:
    means, stds = [1000.0, 900.0, 1100.0, 1000.0], [300.0, 250.0, 310.0, 290.0]
    module = TinySegmenter()
    predictor = DevicePredictor(module, means, stds, NODATA, device="cpu", batch_size=3)
    classes, probs = predictor.scaled(raw, scale=254, crop=4)

    reference = predict_logits(module, normalise(raw, means, stds, NODATA), batch_size=7)
    ref_classes, ref_probs = scaled_from_proba(reference, 254, crop=4)
    assert classes.dtype == probs.dtype == np.uint8
    assert classes.shape == (7, 16, 16) and probs.shape == (7, 3, 16, 16)
    np.testing.assert_array_equal(classes, ref_classes)
    assert np.abs(probs.astype(int) - ref_probs.astype(int)).max() <= 1
    assert np.abs(probs.astype(int).sum(axis=1) - 254).max() <= 2  # sums to ~scale


def test_batches_and_auto_do_not_change_results(raw: np.ndarray) -> None:
    module = TinySegmenter()
    one = DevicePredictor(module, [0.0] * 4, [1000.0] * 4, NODATA, device="cpu", batch_size=1)
    auto = DevicePredictor(module, [0.0] * 4, [1000.0] * 4, NODATA, device="cpu", batch_size="auto")
    for a, b in zip(one.scaled(raw, 254), auto.scaled(raw, 254), strict=True):
        np.testing.assert_array_equal(a, b)
    assert auto.resolved_batch_size() == 16  # auto is 16 on the CPU
    compiled = DevicePredictor(module, [0.0] * 4, [1.0] * 4, NODATA, device="cpu", compile=True)
    assert compiled.forward is compiled.module  # torch.compile is for CUDA only
