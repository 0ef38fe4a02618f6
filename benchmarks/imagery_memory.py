"""Peak memory and speed of a yearly composite on synthetic scenes of growing area.

Writes a local static STAC catalog of ``--scenes`` synthetic Sentinel-2 L2A scenes
(six bands at 10 and 20 m and the scene classification, random clouds) covering
N x N pixels of 10 m, then makes the composite (search, harmonise, odc-stac load,
masked median, COG) in a fresh process per size and prints its peak RSS: bounded
memory means about the same peak for every size.

    python benchmarks/imagery_memory.py --sizes 512 2048
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.imagery.synthetic_stac import ASSETS, TEN_M, Scene, write_catalog  # noqa: E402

X0, Y0 = 600000.0, 720000.0


def make_catalog(folder: Path, size: int, scenes: int) -> Path:
    """``scenes`` scenes of January 2022 over ``size`` x ``size`` px (some of baseline 04.00)."""
    half = size // 2 + 4
    out = []
    for k in range(scenes):
        rng = np.random.default_rng(k)
        true = {}
        for name in ASSETS:
            n = 2 * half if name in TEN_M else half
            true[name] = rng.integers(100, 5000, size=(n, n)).astype(np.float32)
        scl = rng.choice(np.array([4, 4, 5, 6, 8, 9, 3, 10], dtype=np.uint8), size=(half, half))
        new = k % 2 == 1
        out.append(
            Scene(
                f"S2_BENCH_{k:02d}",
                datetime(2022, 1, 2 + 4 * k, 10, 30),
                "EPSG:32630",
                (X0 - 40, Y0 + 40),
                (half, half),
                true,
                scl,
                dn_offset=1000 if new else 0,
                raster_offset=-0.1 if new else 0.0,
            )
        )
    return write_catalog(folder, out, with_dem=False)


def run_one(catalog: Path, size: int, cache: Path, out: Path) -> dict[str, float]:
    """The composite of the catalog, in this process; returns time and peak RSS."""
    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.imagery import workflow
    from cocoa_threat.params.imagery import ImageryParams

    p = ImageryParams.model_validate(
        {
            "catalog_url": str(catalog),
            "years": [2022],
            "area": {
                "source": "bbox",
                "bbox_crs": "EPSG:32630",
                "bbox": [X0, Y0 - 10 * size, X0 + 10 * size, Y0],
            },
            "assets": {"B2": "blue", "B3": "green", "B4": "red", "B8A": "nir08",
                       "B11": "swir16", "B12": "swir22"},
            "dem": {"collection": None},
            "cache": {"dir": str(cache)},
            "progress": False,
        }
    )  # fmt: skip
    began = time.perf_counter()
    grid = workflow.output_grid(p, None)
    items = workflow.search_year(p, grid, 2022)
    assets = list(ASSETS)
    scenes = workflow.scene_table(p, 2022, items, assets)
    bands = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
    producer = workflow.year_composite(p, grid, items, scenes, [], assets, bands)
    write_cog(out, producer, overview_levels=[])
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb, 1)}


def main() -> int:
    """Build catalogs, time each size in a fresh process, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/imagery_memory.json"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, size = Path(args.child[0]), int(args.child[1])
        result = run_one(folder / "stac" / "catalog.json", size, folder / "cache", folder / "c.tif")
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    records = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            make_catalog(Path(tmp), size, args.scenes)
            done = subprocess.run(
                [sys.executable, __file__, "--child", tmp, str(size)],
                check=True,
                capture_output=True,
                text=True,
            )
            record = {"size_px": size, "km2": size * size / 1e4, "scenes": args.scenes}
            record |= json.loads(done.stdout.strip().splitlines()[-1])
            records.append(record)
            sys.stdout.write(json.dumps(record) + "\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
