"""Inference throughput and memory: the whole path against the model's forward pass alone.

Part 1 (``ratio``): on one year of the demo region, km²/s of the whole inference
path (read the VRT mosaic by window, normalise, predict with context, mosaic,
write a COG with overviews) against the forward pass alone (a) on the same
128 x 128 tiles held in memory and (b) on the same context windows the path
uses (pure overhead of I/O and bookkeeping).

Part 2 (``memory``): peak memory (RSS) of the whole path on a small and a large
synthetic scene (e.g. 1024² and 8192² px, 6 bands), each in its own process;
bounded memory means about the same peak for both.

Run from the project root after ``kedro run`` (needs trained models)::

    python benchmarks/inference_throughput.py ratio --model resnet50
    python benchmarks/inference_throughput.py memory --model prithvi --sizes 1024 8192
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

KM2_PER_PX = 100 / 1e6  # 10 m pixels


def _context() -> Any:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(Path.cwd())
    return KedroSession.create(project_path=Path.cwd()).load_context()


def _predictor(context: Any, model: str) -> Any:
    from cocoa_threat.pipelines.inference.nodes import select_model

    params = {**context.params["inference"], "model": model, "device": "cpu"}
    candidates = {
        f"{name}__{what}": context.catalog.load(f"{name}.{entry}")
        for name in context.params["training"]["models"]
        for what, entry in (("model", "trained_model"), ("metrics", "metrics"))
    }
    predictor, _ = select_model(
        context.catalog.load("tile_manifest"), params, context.params["land_use"], **candidates
    )
    return predictor, params


def ratio(model: str, window: int | None, margin: int | None) -> dict[str, float]:
    """Whole path vs forward pass on one year of the demo region."""
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource, iter_windows
    from cocoa_threat.models.predict import predict_logits
    from cocoa_threat.models.scene import produce_class_map
    from cocoa_threat.params import LandUse
    from cocoa_threat.params.inference import InferenceParams
    from cocoa_threat.params.study import PeriodParams
    from cocoa_threat.pipelines.inference.nodes import build_input_mosaic, scene_settings

    context = _context()
    predictor, params = _predictor(context, model)
    if window:
        params["window_size"] = window
    if margin is not None:
        params["context_margin"] = margin
    p = InferenceParams.model_validate(params)
    manifest = context.catalog.load("tile_manifest")
    period = PeriodParams.model_validate(context.params["before"])
    lu = LandUse.model_validate(context.params["land_use"])
    with tempfile.TemporaryDirectory() as tmp:
        vrt = Path(tmp) / "mosaic.vrt"
        spec = build_input_mosaic(manifest, context.catalog.load("band_stats"), period, p)
        vrt.write_text(spec.to_xml(vrt))
        source = RasterSource.open(vrt)
        settings = scene_settings(p, lu, source, predictor, None)
        settings = type(settings)(**{**settings.__dict__, "progress": False})
        t0 = time.perf_counter()
        classes, probabilities = produce_class_map(source, predictor, settings)
        write_cog(Path(tmp) / "map.tif", classes)  # one pass writes both, as the pipeline does
        write_cog(Path(tmp) / "map_probabilities.tif", probabilities)
        path_s = time.perf_counter() - t0
    area = source.grid.width * source.grid.height * KM2_PER_PX

    parts = context.catalog.load("model_input")
    rows = manifest[manifest["year"] == period.year]
    tiles = np.stack([parts[f"{r.split}/{r.sample}_img"]().data for r in rows.itertuples()])
    x = predictor.normalise(tiles)
    t0 = time.perf_counter()
    predict_logits(predictor.module, x, batch_size=p.batch_size, device="cpu")
    tiles_s = time.perf_counter() - t0
    tiles_area = area  # the same ground (tile padding beyond the region not counted)

    n_windows = len(list(iter_windows(source.grid.width, source.grid.height, p.window_size)))
    side = p.window_size + 2 * p.context_margin
    windows = np.random.default_rng(0).standard_normal(
        (n_windows, x.shape[1], side, side), dtype=np.float32
    )
    t0 = time.perf_counter()
    predict_logits(predictor.module, windows, batch_size=p.batch_size, device="cpu")
    windows_s = time.perf_counter() - t0
    out = {
        "model": predictor.name,
        "window_size": p.window_size,
        "context_margin": p.context_margin,
        "path_km2_per_s": area / path_s,
        "forward_tiles_km2_per_s": tiles_area / tiles_s,
        "forward_windows_km2_per_s": area / windows_s,
    }
    out["ratio_path_vs_forward_tiles"] = out["path_km2_per_s"] / out["forward_tiles_km2_per_s"]
    out["ratio_path_vs_forward_windows"] = out["path_km2_per_s"] / out["forward_windows_km2_per_s"]
    return out


def _write_scene(path: Path, size: int, bands: int) -> None:
    """A synthetic scene written window by window (never whole in memory)."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    rng = np.random.default_rng(0)
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": bands,
        "dtype": "float32",
        "crs": "EPSG:32630",
        "transform": Affine(10, 0, 600000, 0, -10, 720000),
        "nodata": -9999.0,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "BIGTIFF": "YES",
    }
    means = np.array([1474, 1703, 1697, 3832, 3156, 2226], dtype=np.float32)[:bands, None, None]
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, 256):
            h = min(256, size - row)
            block = means + 300 * rng.standard_normal((bands, h, size), dtype=np.float32)
            dst.write(block, window=Window(0, row, size, h))


def memory_one(model: str, scene: Path) -> dict[str, float]:
    """Peak RSS of the whole path on a scene (run in its own process)."""
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.models.scene import produce_class_map
    from cocoa_threat.params import LandUse
    from cocoa_threat.params.inference import InferenceParams
    from cocoa_threat.pipelines.inference.nodes import scene_settings

    context = _context()
    predictor, params = _predictor(context, model)
    p = InferenceParams.model_validate(params)
    lu = LandUse.model_validate(context.params["land_use"])
    with tempfile.TemporaryDirectory(dir=scene.parent) as tmp:
        source = RasterSource.open(scene)
        size = source.grid.width
        settings = scene_settings(p, lu, source, predictor, None)
        settings = type(settings)(**{**settings.__dict__, "progress": False})
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        classes, probabilities = produce_class_map(source, predictor, settings)
        write_cog(Path(tmp) / "map.tif", classes)
        write_cog(Path(tmp) / "map_probabilities.tif", probabilities)
        seconds = time.perf_counter() - t0
    return {
        "size": size,
        "km2": size * size * KM2_PER_PX,
        "seconds": seconds,
        "km2_per_s": size * size * KM2_PER_PX / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": base,
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("ratio")
    r.add_argument("--model", default="resnet50")
    r.add_argument("--window", type=int)
    r.add_argument("--margin", type=int)
    m = sub.add_parser("memory")
    m.add_argument("--model", default="prithvi")
    m.add_argument("--sizes", type=int, nargs="+", default=[1024, 8192])
    one = sub.add_parser("memory-one")
    one.add_argument("--model")
    one.add_argument("--scene", type=Path)
    args = parser.parse_args()
    if args.what == "ratio":
        res = ratio(args.model, args.window, args.margin)
        lines = [
            f"{k:32} {v:.3f}" if isinstance(v, float) else f"{k:32} {v}" for k, v in res.items()
        ]
        sys.stdout.write("\n".join(lines) + "\n")
    elif args.what == "memory-one":
        sys.stdout.write(json.dumps(memory_one(args.model, args.scene)) + "\n")
    else:
        lines = [f"{'size px':>8} {'km2':>8} {'seconds':>8} {'km2/s':>8} {'peak RSS MB':>12}"]
        for size in args.sizes:
            with tempfile.TemporaryDirectory(dir="data/04_feature") as tmp:
                scene = Path(tmp) / "scene.tif"
                _write_scene(scene, size, 6)  # here, so the measured process only predicts
                cmd = [sys.executable, __file__, "memory-one", "--model", args.model]
                out = subprocess.run(
                    [*cmd, "--scene", str(scene)], capture_output=True, text=True, check=True
                )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            lines.append(
                f"{size:>8} {res['km2']:>8.0f} {res['seconds']:>8.1f} {res['km2_per_s']:>8.2f} "
                f"{res['peak_rss_mb']:>12.0f}"
            )
        sys.stdout.write(f"model {args.model}\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
