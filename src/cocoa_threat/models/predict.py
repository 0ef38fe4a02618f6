"""Prediction on the model's device: only uint8 results come back to the host.

:class:`DevicePredictor` holds a module on its device (CUDA when present) and
turns raw windows into classes and uint8 probabilities there: the windows go
up from pinned host memory with non-blocking copies, normalisation, softmax,
the crop to the window's centre, argmax and the uint8 scaling run on the
device, and only the uint8 arrays are copied back. On CUDA it uses mixed
precision (bf16 where supported), ``channels_last`` and, if asked,
``torch.compile``; on the CPU it is plain float32 and gives the same classes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

logger = logging.getLogger(__name__)

# Candidate batch sizes tried by ``batch_size: auto`` on CUDA (windows per forward pass).
AUTO_BATCHES = (256, 128, 64, 32, 16, 8)


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a device: bf16 (or fp16) on CUDA, None (float32) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class DevicePredictor:
    """A segmentation module on its device, fed raw windows.

    Args:
        module: A TerraTorch model (returns ``ModelOutput``) or any module
            returning (N, classes, H, W) logits.
        means: Per-band training means (normalisation).
        stds: Per-band training standard deviations.
        nodata: Raw nodata value (normalised to 0, as in training).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1`` ...
        batch_size: Windows per forward pass, or ``auto`` (the largest that fits,
            on CUDA; 16 on the CPU).
        compile: ``torch.compile`` the module (CUDA only; ignored on the CPU).
    """

    def __init__(
        self,
        module: nn.Module,
        means: Sequence[float],
        stds: Sequence[float],
        nodata: float,
        device: str = "auto",
        batch_size: int | str = 16,
        compile: bool = False,
    ) -> None:
        """Move the module to its device (nothing runs yet)."""
        self.device = resolve_device(device)
        self.dtype = amp_dtype(self.device)
        cuda = self.device.type == "cuda"
        self.memory_format = torch.channels_last if cuda else torch.contiguous_format
        self.module = module.eval().to(self.device, memory_format=self.memory_format)
        self.forward = self.module
        self.compile_seconds: float | None = None
        if compile and cuda:
            self.forward = torch.compile(self.module)
        elif compile:
            logger.info("inference.compile is ignored on the CPU")
        self._compiled_pending = compile and cuda
        self.mean = torch.tensor(means, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.std = torch.tensor(stds, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.nodata = float(nodata)
        self.batch_size = batch_size

    # -- one batch ----------------------------------------------------------------------
    def _upload(self, raw: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(raw, dtype=np.float32))
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        return x

    def _probabilities(self, x: torch.Tensor, normalised: bool) -> torch.Tensor:
        if not normalised:
            invalid = ~torch.isfinite(x) | (x == self.nodata)
            x = ((x - self.mean) / self.std).masked_fill(invalid, 0.0)
        x = x.contiguous(memory_format=self.memory_format)
        t0 = time.perf_counter()
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None):
            result = self.forward(x)
        if self._compiled_pending:
            torch.cuda.synchronize(self.device)
            self.compile_seconds = time.perf_counter() - t0
            self._compiled_pending = False
            logger.info("torch.compile: first batch (compiling) took %.1f s", self.compile_seconds)
        logits = getattr(result, "output", result)
        return torch.softmax(logits.float(), dim=1)

    def _batches(self, n: int) -> range:
        return range(0, n, self.resolved_batch_size())

    # -- what callers use --------------------------------------------------------------
    def resolved_batch_size(self, side: int = 192, channels: int | None = None) -> int:
        """The batch size in use (``auto`` is resolved once, by :meth:`auto_batch_size`)."""
        if self.batch_size == "auto":
            self.batch_size = self.auto_batch_size(side, channels)
        return int(self.batch_size)

    def auto_batch_size(self, side: int = 192, channels: int | None = None) -> int:
        """The largest batch of ``side`` x ``side`` windows that runs in 70% of free memory.

        Tries :data:`AUTO_BATCHES` from the largest on CUDA; 16 on the CPU.
        """
        if self.device.type != "cuda":
            return 16
        channels = channels or int(self.mean.shape[1])
        free, _ = torch.cuda.mem_get_info(self.device)
        for size in AUTO_BATCHES:
            try:
                torch.cuda.reset_peak_memory_stats(self.device)
                before = torch.cuda.memory_allocated(self.device)
                with torch.inference_mode():
                    self._probabilities(
                        torch.zeros(size, channels, side, side, device=self.device), True
                    )
                peak = torch.cuda.max_memory_allocated(self.device) - before
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                continue
            if peak <= 0.7 * free:
                logger.info(
                    "inference.batch_size auto: %d windows (peak %.1f GiB)", size, peak / 2**30
                )
                return size
        return AUTO_BATCHES[-1]

    def proba(
        self, images: np.ndarray, normalised: bool = True, progress: bool = False
    ) -> np.ndarray:
        """float32 (N, classes, H, W) probabilities (for evaluation; prediction uses :meth:`scaled`)."""
        out = []
        with torch.inference_mode():
            for start in tqdm(self._batches(len(images)), desc="predict", disable=not progress):
                x = self._upload(images[start : start + self.resolved_batch_size()])
                out.append(self._probabilities(x, normalised).cpu().numpy())
        if not out:
            raise ValueError("No images to predict")
        return np.concatenate(out)

    def scaled(self, raw: np.ndarray, scale: int, crop: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Classes and uint8 probabilities of raw windows, computed on the device.

        Args:
            raw: (N, C, H, W) raw values (nodata as in training).
            scale: uint8 probability = ``round(p * scale)`` (at most 254: 255 is nodata).
            crop: Pixels dropped on every side (the context margin) before copying back.

        Returns:
            uint8 classes (N, H - 2 crop, W - 2 crop) and uint8 probabilities
            (N, classes, H - 2 crop, W - 2 crop).
        """
        classes, probs = [], []
        with torch.inference_mode():
            for start in self._batches(len(raw)):
                x = self._upload(raw[start : start + self.resolved_batch_size()])
                p = self._probabilities(x, normalised=False)
                if crop:
                    p = p[:, :, crop:-crop, crop:-crop]
                classes.append(p.argmax(dim=1).to(torch.uint8).cpu().numpy())
                probs.append(torch.round(p * scale).to(torch.uint8).cpu().numpy())
        if not classes:
            raise ValueError("No windows to predict")
        return np.concatenate(classes), np.concatenate(probs)


def predict_logits(
    model: nn.Module,
    images: np.ndarray,
    batch_size: int = 16,
    device: str = "auto",
    progress: bool = False,
) -> np.ndarray:
    """float32 (N, classes, H, W) softmax probabilities of normalised images (N, C, H, W)."""
    channels = images.shape[1]
    predictor = DevicePredictor(
        model, [0.0] * channels, [1.0] * channels, np.nan, device, batch_size
    )
    return predictor.proba(images, normalised=True, progress=progress)
