"""Inference speed of the project's models on a GPU: forward, prediction path, whole scene.

For ``prithvi_eo_v2_300`` + UperNet and the ResNet50 U-Net as ``conf/smallminesds``
builds them (random weights: the pretrained ones can't be downloaded here), with
the project's own code:

* ``forward``: the module alone on device-resident normalised windows, in the
  same precision (bf16 autocast where supported);
* ``predict``: :class:`cocoa_threat.models.predict.DevicePredictor` from raw host
  arrays to uint8 classes and probabilities on the host;
* ``scene``: the windowed scene path (:func:`cocoa_threat.models.scene.produce_class_map`)
  from a synthetic GeoTIFF on disk to the class and probability COGs.

km²/s count output pixels (10 m; for ``scene`` the raster's area, for the others
the window centres), TFLOP/s use the FLOPs of one forward pass from
``torch.utils.flop_counter``. Prints a table and writes
``benchmarks/results/gpu_inference_<device>.json`` (a list of records: model,
case, km2_per_s, tflops, peak_gpu_gib, device, batch_size, precision, compile, ...).

    python benchmarks/gpu_inference.py                       # on a CUDA machine
    python benchmarks/gpu_inference.py --compile             # also torch.compile
    python benchmarks/gpu_inference.py --smoke               # tiny models on the CPU (a check)
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_finetune import BANDS, study_block  # noqa: E402

from cocoa_threat.models.predict import DevicePredictor, amp_dtype  # noqa: E402
from cocoa_threat.models.terratorch_build import architecture_args, build_model  # noqa: E402
from cocoa_threat.params.training import parse_model_params  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
KM2_PER_PX = 100 / 1e6


def build(name: str, smoke: bool) -> torch.nn.Module:
    """The study's architecture (random weights); a tiny Prithvi with ``smoke``."""
    block = study_block(name)
    block["weights"] = {"source": "none"}
    if smoke and name == "prithvi":
        block["model_args"].update(backbone="prithvi_eo_tiny", decoder_channels=16)
        block["model_args"]["necks"][0]["indices"] = [0, 1, 2, 3]
    if smoke and name == "resnet50":
        block["model_args"]["backbone"] = "resnet18"
    spec = parse_model_params(block, f"{name}.model")
    return build_model(spec.model_factory, architecture_args(spec, 3, BANDS))


def forward_flops(module: torch.nn.Module, side: int, device: torch.device) -> float:
    """FLOPs of one forward pass of one ``side`` x ``side`` window (fp32, for counting)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, len(BANDS), side, side, device=device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(x)
    total = counter.get_total_flops()
    if device.type == "cpu":  # CPU attention kernels are not counted: add 4 * L^2 * d per layer
        for m in module.modules():
            if hasattr(m, "qkv") and hasattr(m, "num_heads"):
                tokens = (side // 16) ** 2 + 1
                total += 4 * tokens**2 * m.qkv.in_features
    return float(total)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Any, device: torch.device, repeats: int) -> float:
    fn()  # warm-up (and compilation)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / repeats


def _peak(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def _reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def bench_arrays(
    name: str, module: torch.nn.Module, args: argparse.Namespace, flops: float
) -> list[dict[str, Any]]:
    """``forward`` and ``predict`` on in-memory windows."""
    side, crop = args.window + 2 * args.margin, args.margin
    rng = np.random.default_rng(0)
    raw = (1000 + 300 * rng.standard_normal((args.batch, len(BANDS), side, side))).astype(
        np.float32
    )
    predictor = DevicePredictor(
        module, [1000.0] * 6, [300.0] * 6, -9999.0, args.device, args.batch, args.compile
    )
    device = predictor.device
    x = torch.from_numpy(raw).to(device).sub_(1000).div_(300)
    x = x.contiguous(memory_format=predictor.memory_format)

    def forward() -> None:
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=predictor.dtype, enabled=predictor.dtype is not None),
        ):
            predictor.forward(x)

    records = []
    for case, fn in (("forward", forward), ("predict", lambda: predictor.scaled(raw, 254, crop))):
        _reset(device)
        seconds = _timed(fn, device, args.repeats)
        records.append(
            {
                "case": case,
                "seconds_per_batch": seconds,
                "km2_per_s": args.batch * args.window**2 * KM2_PER_PX / seconds,
                "tflops": args.batch * flops / seconds / 1e12,
                "peak_gpu_gib": _peak(device),
                "compile_seconds": predictor.compile_seconds,
            }
        )
    return records


def bench_scene(
    name: str, module: torch.nn.Module, args: argparse.Namespace, flops: float, folder: Path
) -> dict[str, Any]:
    """The whole windowed scene path, GeoTIFF on disk to the two COGs."""
    from affine import Affine
    from rasterio.crs import CRS

    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.geo.raster import Raster, write_raster
    from cocoa_threat.models.base import SegmentationModel
    from cocoa_threat.models.scene import SceneSettings, produce_class_map
    from cocoa_threat.models.terratorch_model import TerraTorchSegmenter

    scene = folder / "scene.tif"
    if not scene.exists():
        n = args.scene_size
        data = np.full((len(BANDS), n, n), 1000, np.float32)
        data += np.random.default_rng(1).standard_normal((1, n, n), dtype=np.float32) * 300
        raster = Raster(data, Affine(10, 0, 600000, 0, -10, 800000), CRS.from_epsg(32630), -9999.0)
        write_raster(scene, Raster(**{**raster.__dict__, "band_names": BANDS}), tiled=True)
    build_config = {
        "kind": "terratorch",
        "bands": BANDS,
        "means": [1000.0] * 6,
        "stds": [300.0] * 6,
        "class_names": ["background", "mining", "cocoa"],
        "image_nodata": -9999.0,
    }
    model: SegmentationModel = TerraTorchSegmenter(name, build_config, module)
    model.configure(args.batch, args.device, args.compile)
    source = RasterSource.open(scene)
    settings = SceneSettings(
        band_indexes=tuple(range(1, 7)),
        image_nodata=-9999.0,
        window_size=args.window,
        context_margin=args.margin,
        batch_windows=model.window_batch(args.window + 2 * args.margin),
        progress=False,
    )
    device = model.predictor.device  # type: ignore[attr-defined]
    _reset(device)
    t0 = time.perf_counter()
    classes, probabilities = produce_class_map(source, model, settings)
    write_cog(folder / "classes.tif", classes, overview_levels=[])
    write_cog(folder / "probabilities.tif", probabilities, overview_levels=[])
    seconds = time.perf_counter() - t0
    windows = math.ceil(args.scene_size / args.window) ** 2
    return {
        "case": "scene",
        "seconds": seconds,
        "scene_px": args.scene_size,
        "km2_per_s": args.scene_size**2 * KM2_PER_PX / seconds,
        "tflops": windows * flops / seconds / 1e12,
        "peak_gpu_gib": _peak(device),
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["prithvi", "resnet50"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--margin", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--scene-size", type=int, default=8192)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny models and sizes on the CPU")
    parser.add_argument(
        "--out", type=Path, help="JSON path (default: results/gpu_inference_<device>.json)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.batch, args.repeats, args.scene_size, args.device = 4, 1, 256, "cpu"
    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    if device.type != "cuda" and not args.smoke:
        sys.exit("No CUDA device: run this on a GPU machine (or --smoke for a CPU check)")
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    dtype = amp_dtype(device)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            module = build(name, args.smoke)
            flops = forward_flops(module.to(device).eval(), args.window + 2 * args.margin, device)
            rows = bench_arrays(name, module, args, flops)
            rows.append(bench_scene(name, module, args, flops, Path(tmp)))
            label = "prithvi_eo_v2_300" if name == "prithvi" and not args.smoke else name
            for row in rows:
                records.append(
                    {
                        "model": label,
                        **row,
                        "gflop_per_window": flops / 1e9,
                        "device": device_name,
                        "batch_size": args.batch,
                        "window": args.window,
                        "margin": args.margin,
                        "precision": str(dtype).removeprefix("torch.") if dtype else "float32",
                        "compile": bool(args.compile and device.type == "cuda"),
                        "torch": torch.__version__,
                    }
                )
            del module
            if device.type == "cuda":
                torch.cuda.empty_cache()
    lines = [f"{'model':<20}{'case':<9}{'km2/s':>10}{'TFLOP/s':>9}{'peak GiB':>9}"]
    for r in records:
        peak = "-" if r["peak_gpu_gib"] is None else f"{r['peak_gpu_gib']:.1f}"
        lines.append(
            f"{r['model']:<20}{r['case']:<9}{r['km2_per_s']:>10.1f}{r['tflops']:>9.2f}{peak:>9}"
        )
    sys.stdout.write(f"{device_name}\n" + "\n".join(lines) + "\n")
    slug = re.sub(r"[^a-z0-9]+", "_", device_name.lower()).strip("_")
    out = args.out or RESULTS / f"gpu_inference_{slug}{'_smoke' if args.smoke else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(records, indent=2) + "\n")
    sys.stdout.write(f"wrote {out}\n")


if __name__ == "__main__":
    main()
