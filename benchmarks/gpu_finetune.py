"""GPU fine-tune and forward throughput of the project's models (run on a CUDA machine).

Trains ``prithvi_eo_v2_300`` (random init: the weights can't be downloaded here)
with a frozen and an unfrozen backbone, and the ResNet50 U-Net, for a few epochs
on random 6 x 128 x 128 patches through the project's own training code
(:func:`cocoa_threat.models.training.fit_segmentation_model`, the study's GPU
settings from ``conf/smallminesds``), and reports training patches/s, peak GPU
memory and forward-only km²/s (10 m pixels) per model, at the study's batch size 4
and at larger batches (``--batch-sizes``), in the study's mixed precision (with
the patch-embedding fast path of :mod:`cocoa_threat.models.fast_paths`). Prints a
table and, with ``--out``, writes JSON.

    python benchmarks/gpu_finetune.py --train-patches 1024 --epochs 3 --batch-sizes 4 16 64
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from lightning.pytorch.callbacks import Callback

from cocoa_threat.models.data import SplitArrays, TrainingData
from cocoa_threat.models.predict import predict_logits
from cocoa_threat.models.terratorch_build import build_model
from cocoa_threat.models.training import fit_segmentation_model
from cocoa_threat.params.training import DeepModelParams, parse_model_params

BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
KM2_PER_PATCH = 128 * 128 * 100 / 1e6


class EpochTimer(Callback):
    """Wall time of every training epoch (CUDA-synchronised)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t0 = 0.0

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        torch.cuda.synchronize()
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self._t0)


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def study_block(name: str) -> dict[str, Any]:
    """The model block of conf/base merged with conf/smallminesds (the study's GPU settings)."""
    conf = Path(__file__).resolve().parents[1] / "conf"
    base = yaml.safe_load((conf / "base" / "parameters_training.yml").read_text())
    env = yaml.safe_load((conf / "smallminesds" / "parameters_training.yml").read_text())
    return _deep_merge(base[name], env.get(name, {}))["model"]


def random_data(n_train: int, n_val: int, seed: int = 0) -> TrainingData:
    """Random normalised patches with learnable labels."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> SplitArrays:
        images = rng.standard_normal((n, 6, 128, 128), dtype=np.float32)
        labels = np.digitize(images[:, 3], [-0.6, 0.6]).astype(np.uint8)
        return SplitArrays(images, labels, [f"p{i}" for i in range(n)], np.full(n, 2016))

    return TrainingData(
        splits={"train": split(n_train), "val": split(n_val)},
        bands=BANDS,
        means=[0.0] * 6,
        stds=[1.0] * 6,
        class_names=["background", "mining", "cocoa"],
        ignore_index=255,
        image_nodata=-9999.0,
    )


def run_case(
    label: str, block: dict[str, Any], data: TrainingData, epochs: int, batch_size: int
) -> dict[str, Any]:
    """Fine-tune one configuration and measure it."""
    block = copy.deepcopy(block)
    block["weights"] = {"source": "none"}
    block["data"]["batch_size"] = batch_size
    block["data"]["num_workers"] = 0
    block["trainer"].update(
        {
            "max_epochs": epochs,
            "precision": None,  # auto: bf16-mixed where supported
            "early_stopping_patience": None,
            "resume": False,
            "enable_progress_bar": False,
        }
    )
    spec = parse_model_params(block, f"{label}.model")
    assert isinstance(spec, DeepModelParams)
    timer = EpochTimer()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        result = fit_segmentation_model(data, spec, label, Path(tmp), extra_callbacks=[timer])
    peak_train = torch.cuda.max_memory_allocated() / 2**30
    n_train = len(data.splits["train"])
    steady = timer.times[1:] or timer.times
    # Forward-only throughput of the trained architecture (inference path).
    model = build_model(result.build_config["model_factory"], result.build_config["model_args"])
    model.load_state_dict(result.state_dict)
    images = data.splits["train"].images[:512]
    predict_logits(model, images[:64], batch_size=64, device="cuda")  # warm-up
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    predict_logits(model, images, batch_size=64, device="cuda")
    torch.cuda.synchronize()
    fwd_s = time.perf_counter() - t0
    return {
        "case": label,
        "backbone": spec.model_args.get("backbone"),
        "frozen_backbone": spec.freeze_backbone,
        "batch_size": batch_size,
        "epochs": epochs,
        "train_patches_per_s": n_train / float(np.median(steady)),
        "epoch_seconds": timer.times,
        "peak_gpu_mem_train_gib": peak_train,
        "forward_patches_per_s": len(images) / fwd_s,
        "forward_km2_per_s": len(images) * KM2_PER_PATCH / fwd_s,
        "peak_gpu_mem_forward_gib": torch.cuda.max_memory_allocated() / 2**30,
        "best_val_miou": result.best_val_miou,
        "parameters_m": sum(v.numel() for v in result.state_dict.values()) / 1e6,
        "device": torch.cuda.get_device_name(),
    }


def main() -> None:
    """Run the cases and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-patches", type=int, default=1024)
    parser.add_argument("--val-patches", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[4, 16, 64], help="4 is the study's"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("No CUDA device: run this on a GPU machine")
    data = random_data(args.train_patches, args.val_patches)
    prithvi = study_block("prithvi")
    unfrozen = {**copy.deepcopy(prithvi), "freeze_backbone": False}
    cases = [
        ("prithvi_300_frozen", prithvi),
        ("prithvi_300_unfrozen", unfrozen),
        ("resnet50_scratch", study_block("resnet50")),
    ]
    rows = []
    for label, block in cases:
        for batch in args.batch_sizes:
            try:
                rows.append(run_case(label, block, data, args.epochs, batch))
            except torch.cuda.OutOfMemoryError:
                sys.stderr.write(f"{label}: batch {batch} does not fit\n")
                torch.cuda.empty_cache()
    header = (
        f"{'case':24}{'batch':>6}{'train p/s':>11}{'train GiB':>11}{'fwd km2/s':>11}{'fwd GiB':>9}"
    )
    lines = [f"device: {rows[0]['device']}, bf16/16-mixed auto", header]
    for r in rows:
        lines.append(
            f"{r['case']:24}{r['batch_size']:6d}{r['train_patches_per_s']:11.1f}"
            f"{r['peak_gpu_mem_train_gib']:11.2f}{r['forward_km2_per_s']:11.1f}"
            f"{r['peak_gpu_mem_forward_gib']:9.2f}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
