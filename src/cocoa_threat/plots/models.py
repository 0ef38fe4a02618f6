"""Figures of the models: test confusion matrices and training curves."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def plot_confusion_matrices(metrics: dict[str, Any]) -> Figure:
    """Row-normalised test confusion matrices per year and overall, with pixel counts."""
    names = metrics["class_names"]
    groups = list(metrics["test"])
    fig, axes = plt.subplots(1, len(groups), figsize=(4.2 * len(groups), 4), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        cm = np.asarray(metrics["test"][group]["confusion_matrix"], dtype=float)
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(
                    j,
                    i,
                    f"{share[i, j]:.2f}\n{int(cm[i, j]):,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black",
                )
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        miou = metrics["test"][group]["miou"]
        ax.set_title(f"{group}: mIoU {miou:.3f}" if miou is not None else group)
    fig.suptitle(f"{metrics['model']}: test-split confusion matrices (pixels)")
    fig.tight_layout()
    return fig


def plot_training_curves(history: pd.DataFrame, namespace: str) -> Figure:
    """Loss and mIoU per epoch (training and validation)."""
    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, ax in (("loss", ax_loss), ("mIoU", ax_iou)):
        for prefix, style in (("train", "-"), ("val", "--")):
            col = f"{prefix}/{key}"
            if col in history and history[col].notna().any():
                ax.plot(history["epoch"], history[col], style, marker="o", ms=3, label=prefix)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.suptitle(f"{namespace}: training curves")
    fig.tight_layout()
    return fig
