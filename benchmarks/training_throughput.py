"""Training throughput: our in-memory data path vs TerraTorch's generic datamodule.

Same model (the project's ResNet50 U-Net through TerraTorch's SMPModelFactory),
same batch size, same model input (``data/05_model_input``), same augmentation
(flips and 90° rotations), on the CPU by default. Each path runs in its own
subprocess so that its peak memory is its own. Prints patches/s for data loading
alone and for training steps (data + forward + backward + optimiser), and the
ratio ours / TerraTorch.

Run from the project root after ``kedro run --pipeline=ingestion``::

    python benchmarks/training_throughput.py --epochs 2 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

logger = logging.getLogger("benchmark")


def _catalog() -> Any:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(Path.cwd())
    session = KedroSession.create(project_path=Path.cwd())
    return session.load_context().catalog


def _loader(path: str, batch_size: int, device: str) -> tuple[Any, float, int]:
    """Return (train dataloader, setup seconds, bands)."""
    catalog = _catalog()
    manifest = catalog.load("tile_manifest")
    stats = catalog.load("band_stats")
    t0 = time.perf_counter()
    if path == "ours":
        from cocoa_threat.models.data import InMemorySegmentationDataModule, load_training_data

        data = load_training_data(
            catalog.load("model_input"),
            manifest,
            stats,
            ["background", "mining", "cocoa"],
            255,
            -9999.0,
            splits=("train",),
        )
        dm = InMemorySegmentationDataModule(data, batch_size=batch_size, augment=True)
        loader = dm.train_dataloader()
    else:
        import albumentations as A
        from albumentations.pytorch import ToTensorV2
        from terratorch.datamodules import GenericNonGeoSegmentationDataModule

        root = Path(manifest["image_path"].iloc[0]).parent.parent
        dm = GenericNonGeoSegmentationDataModule(
            batch_size=batch_size,
            num_workers=0,
            num_classes=3,
            train_data_root=root / "train",
            val_data_root=root / "val",
            test_data_root=root / "test",
            img_grep="*_img.tif",
            label_grep="*_lbl.tif",
            means=stats["means"],
            stds=stats["stds"],
            train_transform=[
                A.HorizontalFlip(),
                A.VerticalFlip(),
                A.RandomRotate90(),
                ToTensorV2(),
            ],
            no_label_replace=255,
            no_data_replace=0,
            drop_last=False,
        )
        dm.setup("fit")
        loader = dm.train_dataloader()
    return loader, time.perf_counter() - t0, len(stats["bands"])


def run_one(path: str, epochs: int, batch_size: int, device: str) -> dict[str, float]:
    """Measure one data path; runs inside its own process."""
    import torch

    from cocoa_threat.models.terratorch_build import build_model

    loader, setup_s, bands = _loader(path, batch_size, device)
    # Data alone: one pass over the training split.
    t0 = time.perf_counter()
    n = 0
    for batch in loader:
        n += batch["image"].shape[0]
    data_rate = n / (time.perf_counter() - t0)

    torch.manual_seed(0)
    model = build_model(
        "SMPModelFactory",
        {
            "model": "Unet",
            "backbone": "resnet50",
            "bands": list(range(bands)),
            "in_channels": bands,
            "num_classes": 3,
            "pretrained": None,
        },
    ).to(device)
    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=255)
    t0 = time.perf_counter()
    n = 0
    for _ in range(epochs):
        for batch in loader:
            x = batch["image"].to(device, non_blocking=True).float()
            y = batch["mask"].to(device, non_blocking=True).long()
            y = y.squeeze(1) if y.ndim == 4 else y
            optim.zero_grad()
            loss = loss_fn(model(x).output, y)
            loss.backward()
            optim.step()
            n += x.shape[0]
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    train_s = time.perf_counter() - t0
    return {
        "setup_s": setup_s,
        "data_patches_per_s": data_rate,
        "train_patches_per_s": n / train_s,
        "train_patches": n,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Run both paths in subprocesses and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--path", choices=["ours", "terratorch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.path:
        sys.stdout.write(json.dumps(run_one(args.path, args.epochs, args.batch_size, args.device)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = {}
    for path in ("ours", "terratorch"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--path",
                path,
                "--epochs",
                str(args.epochs),
                "--batch-size",
                str(args.batch_size),
                "--device",
                args.device,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[path] = json.loads(out.stdout.strip().splitlines()[-1])
    ours, tt = results["ours"], results["terratorch"]
    lines = [
        f"Training throughput, ResNet50 U-Net, batch {args.batch_size}, {args.epochs} epochs, "
        f"device {args.device}",
        f"{'':28}{'ours':>12}{'terratorch':>12}{'ratio':>8}",
    ]
    for key in ("setup_s", "data_patches_per_s", "train_patches_per_s", "peak_rss_mb"):
        lines.append(f"{key:28}{ours[key]:12.2f}{tt[key]:12.2f}{ours[key] / tt[key]:8.2f}")
    lines.append(
        f"ratio ours/terratorch, training patches/s: "
        f"{ours['train_patches_per_s'] / tt['train_patches_per_s']:.2f}"
    )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
