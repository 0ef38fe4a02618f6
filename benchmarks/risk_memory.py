"""Peak memory and speed of the risk map on synthetic rasters of growing size.

Writes synthetic land-use maps (two years), a mercury surface and a DEM of
N x N pixels window by window, then runs the risk pipeline's map step
(the risk factors, score and classes of :mod:`cocoa_threat.pipelines.risk.nodes`, each
written as a COG) in a
fresh process per size and prints its peak RSS: bounded memory means about the
same peak for every size.

    python benchmarks/risk_memory.py --sizes 2048 8192
    python benchmarks/risk_memory.py --sizes 20000     # the issue's size: ~17 min on 2 cores
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

import numpy as np
import rasterio
import yaml
from affine import Affine
from rasterio.windows import Window
from scipy import ndimage

BLOCK = 1024


def _write(path: Path, size: int, dtype: str, nodata: float | None, fill) -> None:
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": dtype,
        "crs": "EPSG:32630",
        "transform": Affine(10, 0, 500000, 0, -10, 800000),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "BIGTIFF": "YES",
    }
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, BLOCK):
            for col in range(0, size, BLOCK):
                w = Window(col, row, min(BLOCK, size - col), min(BLOCK, size - row))
                dst.write(fill(w).astype(dtype)[None], window=w)


def make_inputs(folder: Path, size: int) -> list[Path]:
    """Synthetic before/after maps, mercury surface and DEM (never whole in memory)."""

    def noise(w: Window, seed: int, sigma: float) -> np.ndarray:
        rng = np.random.default_rng([seed, int(w.row_off), int(w.col_off)])
        return ndimage.gaussian_filter(rng.standard_normal((int(w.height), int(w.width))), sigma)

    def land(w: Window, extra: float) -> np.ndarray:
        n = noise(w, 1, 12)
        out = np.where(n > 0.02, 2, 0)
        out[n < -0.09 + extra] = 1
        return out

    paths = [folder / f"{n}.tif" for n in ("before", "after", "mercury", "dem")]
    _write(paths[0], size, "uint8", 255, lambda w: land(w, 0.0))
    _write(paths[1], size, "uint8", 255, lambda w: land(w, 0.01))
    _write(paths[2], size, "float32", None, lambda w: np.exp(3 + 40 * noise(w, 2, 20)))
    _write(paths[3], size, "float32", -9999.0, lambda w: 200 + 2000 * noise(w, 3, 30))
    return paths


def run_one(paths: list[Path]) -> dict[str, float]:
    """Risk map of the inputs, in this process; returns time and peak RSS."""
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.pipelines.risk.nodes import (
        compute_risk_factors,
        make_risk_map,
        make_risk_score,
    )

    conf = Path(__file__).resolve().parents[1] / "conf" / "base"
    params = yaml.safe_load((conf / "parameters_risk.yml").read_text())["risk"]
    land_use = yaml.safe_load((conf / "parameters.yml").read_text())["land_use"]
    params["dem_nodata"] = -9999.0
    params["mercury"]["background_ng_m3"] = 1.3
    sources = [RasterSource.open(p) for p in paths]
    t0 = time.perf_counter()
    out = paths[0].parent
    write_cog(out / "factors.tif", compute_risk_factors(*sources, params, land_use))
    factors = RasterSource.open(out / "factors.tif")
    write_cog(out / "score.tif", make_risk_score(factors, sources[1], params, land_use))
    score = RasterSource.open(out / "score.tif")
    write_cog(out / "risk.tif", make_risk_map(score, params, land_use))
    size = sources[0].grid.width
    return {
        "size": size,
        "seconds": time.perf_counter() - t0,
        "mpx_per_s": size * size / 1e6 / (time.perf_counter() - t0),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 8192])
    parser.add_argument("--one", nargs=4, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.stdout.write(json.dumps(run_one(args.one)) + "\n")
        return
    lines = [f"{'size px':>8} {'seconds':>9} {'Mpx/s':>7} {'peak RSS MB':>12}"]
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir="data/04_feature") as tmp:
            paths = make_inputs(Path(tmp), size)
            out = subprocess.run(
                [sys.executable, __file__, "--one", *map(str, paths)],
                capture_output=True,
                text=True,
                check=True,
            )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        lines.append(
            f"{size:>8} {r['seconds']:>9.1f} {r['mpx_per_s']:>7.2f} {r['peak_rss_mb']:>12.0f}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
