"""Peak memory and time of the global DEM conditioning (the risk pipeline's condition_dem).

Writes a synthetic DEM of N x N pixels (smooth relief plus 1.5 m of rough ground:
a pit every few dozen cells, like the demo's) window by window as a GeoTIFF,
then, in a fresh process per size, runs the ``condition_dem`` node (read whole,
fill, drain the flats, count the undrained cells) and writes its output as a COG,
and prints the peak RSS above the process's baseline. Conditioning is global, so
memory grows with the DEM: the bytes per pixel extrapolate to larger sizes.
``--library pysheds`` times pysheds' fill and flat resolution instead (not a
project dependency: install it by hand to compare).

    python benchmarks/dem_conditioning.py --sizes 2048 4096
    python benchmarks/dem_conditioning.py --sizes 4096 --library pysheds
"""

from __future__ import annotations

import argparse
import json
import os
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
RESULTS = Path(__file__).with_name("results") / "dem_conditioning.json"


def make_dem(path: Path, size: int) -> None:
    """Relief (a smooth random field, +/- 70 m) and 1.5 m of rough ground, window by window."""
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:32630",
        "transform": Affine(10, 0, 500000, 0, -10, 800000),
        "nodata": -9999.0,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "BIGTIFF": "YES",
    }
    rng = np.random.default_rng(0)
    coarse = ndimage.gaussian_filter(rng.standard_normal((size // 64 + 2, size // 64 + 2)), 1.0)
    coarse /= coarse.std()
    with rasterio.open(path, "w", **profile) as dst:
        for row in range(0, size, BLOCK):
            for col in range(0, size, BLOCK):
                w = Window(col, row, min(BLOCK, size - col), min(BLOCK, size - row))
                rr = (np.arange(w.height) + row) / 64
                cc = (np.arange(w.width) + col) / 64
                grid = np.meshgrid(rr, cc, indexing="ij")
                relief = ndimage.map_coordinates(coarse, grid, order=1)
                local = np.random.default_rng([row, col]).standard_normal(relief.shape)
                rough = ndimage.gaussian_filter(local, 1.0) / 0.28
                dst.write((240 + 70 * relief + 1.5 * rough).astype("float32")[None], window=w)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(path: Path, library: str) -> dict[str, float | str]:
    """Condition the DEM at ``path`` in this process; time and peak RSS above the baseline."""
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.pipelines.risk.nodes import condition_dem

    conf = Path(__file__).resolve().parents[1] / "conf" / "base" / "parameters_risk.yml"
    params = yaml.safe_load(conf.read_text())["risk"]
    params["dem_nodata"] = -9999.0  # ${...} references to other files, resolved by hand
    params["mercury"]["background_ng_m3"] = 1.3
    source = RasterSource.open(path)
    if library == "pysheds":  # imports first: only the conditioning counts
        from affine import Affine as A
        from pysheds.grid import Grid
        from pysheds.sview import Raster, ViewFinder
    else:
        import pyflwdir  # noqa: F401
    base = _peak_mb()
    t0 = time.perf_counter()
    if library == "pysheds":
        z = source.read(bands=[1])[0].astype(np.float64)
        view = ViewFinder(affine=A(10, 0, 0, 0, -10, 0), shape=z.shape, nodata=np.float64(-9999))
        grid = Grid(viewfinder=view)
        grid.resolve_flats(grid.fill_depressions(Raster(z, viewfinder=view)), eps=1e-9)
    else:
        write_cog(path.with_name("conditioned.tif"), condition_dem(source, params))
    seconds = time.perf_counter() - t0
    pixels = source.grid.width * source.grid.height
    extra = _peak_mb() - base
    return {
        "library": library,
        "size": source.grid.width,
        "seconds": seconds,
        "baseline_rss_mb": base,
        "peak_rss_mb": _peak_mb(),
        "extra_rss_mb": extra,
        "bytes_per_pixel": extra * 2**20 / pixels,
        "extrapolated_20000_gb": extra * 2**20 / pixels * 20_000**2 / 2**30,
        "load_average_1min": os.getloadavg()[0],  # times on a busy machine are not speeds
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--library", choices=["pyflwdir", "pysheds"], default="pyflwdir")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.stdout.write(json.dumps(run_one(args.one, args.library)) + "\n")
        return
    records = []
    lines = [f"{'library':>9} {'size px':>8} {'seconds':>8} {'extra RSS MB':>13} {'B/px':>6}"]
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir="data/04_feature") as tmp:
            path = Path(tmp) / "dem.tif"
            make_dem(path, size)
            cmd = [sys.executable, __file__, "--one", str(path), "--library", args.library]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        records.append(r)
        lines.append(
            f"{r['library']:>9} {size:>8} {r['seconds']:>8.1f} {r['extra_rss_mb']:>13.0f} "
            f"{r['bytes_per_pixel']:>6.1f}  (20,000^2: ~{r['extrapolated_20000_gb']:.1f} GB)"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    RESULTS.parent.mkdir(exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else []
    done = {(r["library"], r["size"]) for r in records}
    kept = [p for p in previous if (p["library"], p["size"]) not in done]
    ordered = sorted(kept + records, key=lambda r: (r["library"], r["size"]))
    RESULTS.write_text(json.dumps(ordered, indent=1) + "\n")


if __name__ == "__main__":
    main()
