"""Batched prediction with a trained segmentation model (CUDA and mixed precision when present)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def predict_logits(
    model: nn.Module,
    images: np.ndarray,
    batch_size: int = 16,
    device: str = "auto",
    progress: bool = False,
) -> np.ndarray:
    """Class scores for a stack of normalised images.

    Args:
        model: A TerraTorch model (returns ``ModelOutput``) or any module
            returning (N, classes, H, W) logits.
        images: (N, C, H, W) float32, normalised.
        batch_size: Patches per forward pass.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1`` ...
        progress: Show a progress bar.

    Returns:
        float32 (N, classes, H, W) softmax probabilities.
    """
    dev = resolve_device(device)
    model = model.eval().to(dev)
    use_amp = dev.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    out = []
    starts = range(0, len(images), batch_size)
    with torch.inference_mode():
        for start in tqdm(starts, desc="predict", disable=not progress, leave=False):
            x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size])).to(dev)
            with torch.autocast(device_type=dev.type, dtype=amp_dtype, enabled=use_amp):
                result = model(x)
            logits = getattr(result, "output", result)
            out.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    if not out:
        raise ValueError("No images to predict")
    return np.concatenate(out)


def predict_labels(
    model: nn.Module, images: np.ndarray, batch_size: int = 16, device: str = "auto"
) -> np.ndarray:
    """Most likely class per pixel, uint8 (N, H, W)."""
    return predict_logits(model, images, batch_size, device).argmax(axis=1).astype(np.uint8)
