"""The chain after inference at scale: seconds, km²/s and peak memory per stage, 0/1/2 workers.

Writes synthetic inputs of N x N pixels at 10 m (two land-use maps where mining grows
along rivers into cocoa, a DEM with valleys, a mercury surface, six districts) window
by window, then runs the project's nodes on them, each output written as the catalog
writes it (COGs window by window, tables, polygons):

* ``transition``: transition tables, change map, cocoa -> mining polygons;
* ``risk``: risk factors, score and classes;
* ``zonal``: cocoa per risk class and per mercury class, by district;
* ``sensitivity``: the 27-case risk sensitivity;
* ``economics``: losses by season and district, summary (tables only).

Each worker count runs in a fresh process: 0 = the single-process path, n = a Dask
``LocalCluster`` of n worker processes (``compute.dask``). Peak RSS is measured per
stage for the Kedro process and each worker (Linux ``VmHWM``, reset before each
stage). Every run's outputs are hashed: the runs must agree bit for bit.

    python benchmarks/scale_chain.py --size 4096                 # 0, 1 and 2 workers
    python benchmarks/scale_chain.py --size 20000 --out benchmarks/results/scale_chain.json
    python benchmarks/scale_chain.py --smoke --out /tmp/smoke.json   # seconds (a test)

Records (``--out``, appended to those of other sizes already there): ``stage``,
``workers``, ``size_px``, ``seconds``, ``km2_per_s``, ``peak_rss_gib`` (the largest
process), ``rss_kedro_gib``, ``rss_workers_gib``, ``machine``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PIXEL = 10.0
ORIGIN = (500_000.0, 800_000.0)
STAGES = ("transition", "risk", "zonal", "sensitivity", "economics")
GIB = 1024**3


# --------------------------------------------------------------------------- #
# Synthetic inputs (pure functions of the global pixel position: no seams)
# --------------------------------------------------------------------------- #
def landscape(rows: np.ndarray, cols: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Both maps, the DEM and the mercury surface at global pixel rows / cols (2-D)."""
    x, y = cols * PIXEL, rows * PIXEL
    spacing = 4000.0  # a river every 4 km, meandering
    centre = y + 600 * np.sin(x / 2300) + 250 * np.sin(x / 700 + 1)
    river = np.abs(np.mod(centre, spacing) - spacing / 2)  # m to the nearest river
    dem = 120 + 0.06 * river + 0.0015 * x + 12 * np.sin(x / 3100) * np.sin(y / 3700)
    texture = np.sin(x / 170 + np.sin(y / 230)) * np.cos(y / 190 + np.sin(x / 310))
    texture += 0.5 * np.sin((x + 2 * y) / 410)
    pits = np.sin(x / 97) * np.cos(y / 83) + np.sin((x - y) / 130)
    before = np.where(texture > -0.1, 2, 0).astype(np.uint8)  # cocoa ~ half the land
    after = before.copy()
    before[(river < 200 + 60 * np.sin(x / 900)) & (pits > -0.1)] = 1  # ~5% mining
    after[(river < 270 + 80 * np.sin(x / 900)) & (pits > -0.35)] = 1  # ~8%: it grows
    edge = cols >= size - 48  # the scene's edge: no data
    before[edge], after[edge] = 255, 255
    mercury = 1.3 + 400 * np.exp(-river / 400) * (0.5 + 0.5 * np.sin(x / 3000))
    mercury[x > 0.85 * size * PIXEL] = np.nan  # beyond the survey
    return {"before": before, "after": after, "dem": dem, "mercury": mercury}


def write_inputs(folder: Path, size: int, block: int = 1024) -> dict[str, Path]:
    """The four rasters of ``size`` x ``size`` px, written window by window."""
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    kinds = {"before": ("uint8", 255), "after": ("uint8", 255)}
    kinds |= {"dem": ("float32", -9999.0), "mercury": ("float32", float("nan"))}
    common = {"driver": "GTiff", "width": size, "height": size, "count": 1, "crs": "EPSG:32630"}
    common |= {"transform": Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1]), "tiled": True}
    common |= {"blockxsize": 512, "blockysize": 512, "compress": "deflate", "BIGTIFF": "YES"}
    paths = {name: folder / f"{name}.tif" for name in kinds}
    dsts = {
        n: rasterio.open(paths[n], "w", dtype=d, nodata=nd, **common)
        for n, (d, nd) in kinds.items()
    }
    try:
        for row in range(0, size, block):
            for col in range(0, size, block):
                w = Window(col, row, min(block, size - col), min(block, size - row))
                rr, cc = np.mgrid[row : row + w.height, col : col + w.width].astype(np.float64)
                for name, array in landscape(rr, cc, size).items():
                    dsts[name].write(array.astype(kinds[name][0])[None], window=w)
    finally:
        for dst in dsts.values():
            dst.close()
    return paths


def districts(size: int) -> Any:
    """Six districts (3 x 2) with wavy borders over 90% of the extent, in the maps' CRS."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    extent = size * PIXEL
    t = np.linspace(0, extent, 200)

    def line(at: float, inner: bool) -> np.ndarray:
        """A border: wavy inside the region, straight on its outer edge."""
        return at + inner * 0.02 * extent * np.sin(t / extent * 25 + at / extent * 7)

    def strip(a: np.ndarray, b: np.ndarray, vertical: bool) -> Polygon:
        """The land between two borders."""
        ring = [*zip(a, t, strict=True), *zip(b[::-1], t[::-1], strict=True)]
        return Polygon(
            [
                (ORIGIN[0] + (u if vertical else v), ORIGIN[1] - (v if vertical else u))
                for u, v in ring
            ]
        )

    xs = [line(x, 0 < i < 3) for i, x in enumerate(np.linspace(0.05, 0.95, 4) * extent)]
    ys = [line(y, i == 1) for i, y in enumerate(np.linspace(0.05, 0.95, 3) * extent)]
    cols = [strip(xs[i], xs[i + 1], True) for i in range(3)]
    rows = [strip(ys[j], ys[j + 1], False) for j in range(2)]
    shapes = [c.intersection(r) for c in cols for r in rows]
    names = [f"District {i + 1}" for i in range(len(shapes))]
    return gpd.GeoDataFrame({"district": names}, geometry=shapes, crs="EPSG:32630")


# --------------------------------------------------------------------------- #
# One run: the chain in this process (0 workers) or on a LocalCluster
# --------------------------------------------------------------------------- #
class Meter:
    """Peak RSS and CPU seconds of this process and each Dask worker, per stage (Linux).

    CPU seconds say how much work each process did whatever else shares the machine.
    """

    def __init__(self, client: Any) -> None:
        self.pids = {"kedro": os.getpid()}
        if client is not None:
            for i, pid in enumerate(sorted(client.run(os.getpid).values())):
                self.pids[f"worker{i + 1}"] = pid

    def _cpu(self) -> dict[str, float]:
        import psutil

        return {n: sum(psutil.Process(p).cpu_times()[:2]) for n, p in self.pids.items()}

    def reset(self) -> None:
        """Forget the peaks so far; start counting CPU."""
        for pid in self.pids.values():
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        self.cpu0 = self._cpu()

    def read(self) -> tuple[dict[str, float], dict[str, float]]:
        """Each process's peak RSS (GiB) and CPU seconds since the last reset."""
        peaks = {}
        for name, pid in self.pids.items():
            status = Path(f"/proc/{pid}/status").read_text()
            kib = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
            peaks[name] = kib * 1024 / GIB
        cpu = {n: v - self.cpu0[n] for n, v in self._cpu().items()}
        return peaks, cpu


def load_conf(block: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's parameters and catalog (conf/base, interpolations resolved)."""
    from kedro.config import OmegaConfigLoader

    from cocoa_threat.conf import MERGE_STRATEGY

    loader = OmegaConfigLoader(
        conf_source=str(REPO / "conf"),
        base_env="base",
        default_run_env="base",
        merge_strategy=MERGE_STRATEGY,
    )
    from cocoa_threat.params.checks import parse_blocks

    params = dict(loader["parameters"])
    params["risk"]["dem_nodata"] = -9999.0
    if block:
        for key in ("transition", "risk", "mercury"):
            params[key]["block_size"] = block
    return parse_blocks(params), dict(loader["catalog"])


def chain(folder: Path, out: Path, conf: tuple[dict, dict], compute: Any) -> dict[str, Callable]:
    """The stages, each a function writing its outputs as the catalog would."""
    import geopandas as gpd
    import pandas as pd

    from cocoa_threat.geo.cog import write_cog
    from cocoa_threat.geo.grid import RasterSource
    from cocoa_threat.pipelines.economics import nodes as econ
    from cocoa_threat.pipelines.mercury.nodes import cocoa_exposure
    from cocoa_threat.pipelines.risk import nodes as risk
    from cocoa_threat.pipelines.transition import nodes as tr

    src = {n: RasterSource.open(folder / f"{n}.tif") for n in ("before", "after", "dem", "mercury")}
    zones = gpd.read_file(folder / "districts.gpkg")
    params, catalog = conf
    lu, t, r, c = params["land_use"], params["transition"], params["risk"], compute
    tables: dict[str, Any] = {}

    def raster(name: str, producer: Any) -> RasterSource:  # with the catalog's save_args
        write_cog(out / f"{name}.tif", producer, **catalog[name].get("save_args", {}))
        return RasterSource.open(out / f"{name}.tif")

    def transition() -> None:
        maps = (src["before"], src["after"])
        names = ("transition_matrix", "transition_by_district", "map_class_areas")
        tables.update(zip(names, tr.compute_transitions(*maps, zones, t, lu, c), strict=True))
        raster("change_map", tr.make_change_map(*maps, t, lu, c))
        polygons = tr.extract_conversion_polygons(*maps, zones, t, lu, c)
        polygons.to_file(out / "cocoa_to_mining.gpkg", driver="GPKG")

    def risk_maps() -> None:
        inputs = (src["before"], src["after"], src["mercury"], src["dem"])
        factors = raster("risk_factors", risk.compute_risk_factors(*inputs, r, lu, c))
        score = raster("risk_score", risk.make_risk_score(factors, src["after"], r, lu, c))
        raster("risk_map", risk.make_risk_map(score, r, lu, c))

    def zonal() -> None:
        factors = RasterSource.open(out / "risk_factors.tif")
        tables["risk_by_district"] = risk.risk_by_district(factors, src["after"], zones, r, lu, c)
        # The synthetic surface has no survey behind it: a CV table with no bias.
        cv = pd.DataFrame(
            {"method": ["idw"], "scheme": ["blocks"], "chosen": [True], "bias": [0.0]}
        )
        tables["mercury_exposure_by_district"] = cocoa_exposure(
            src["after"], src["mercury"], cv, zones, params["mercury"], lu, c
        )

    def sensitivity() -> None:
        factors = RasterSource.open(out / "risk_factors.tif")
        inputs = (src["before"], src["after"], src["mercury"], src["dem"])
        tables["risk_sensitivity"], _ = risk.risk_sensitivity(factors, *inputs, r, lu, c)

    def economics() -> None:
        e = params["economics"]
        areas = synthetic_area_estimates(tables["transition_matrix"])
        tables["economic_loss_by_season"] = econ.loss_by_season(areas, e, lu)
        tables["economic_summary"] = econ.economic_summary(
            areas, tables["economic_loss_by_season"], e
        )
        tables["economic_loss_by_district"] = econ.loss_by_district(
            tables["transition_by_district"], tables["economic_summary"], e
        )
        for name, table in tables.items():
            table.to_csv(out / f"{name}.csv", index=False)

    return dict(zip(STAGES, (transition, risk_maps, zonal, sensitivity, economics), strict=True))


def synthetic_area_estimates(matrix: Any) -> Any:
    """An area-estimate row for the mapped cocoa -> mining area (+/- 15%: no test sample here)."""
    import pandas as pd

    mapped = float(matrix.set_index("from_class").loc["cocoa", "to_mining_ha"])
    return pd.DataFrame(
        [
            {
                "quantity": "cocoa -> mining",
                "population": "whole region",
                "map_ha": mapped,
                "adjusted_ha": mapped,
                "ci_low_ha": 0.85 * mapped,
                "ci_high_ha": 1.15 * mapped,
            }
        ]
    )


def outputs_digest(out: Path) -> str:
    """SHA-256 of every output's content (raster pixels, table text, polygon areas)."""
    import geopandas as gpd
    import rasterio

    h = hashlib.sha256()
    for path in sorted(out.iterdir()):
        h.update(path.name.encode())
        if path.suffix == ".tif":
            with rasterio.open(path) as src:
                for _, window in src.block_windows(1):
                    h.update(src.read(window=window).tobytes())
        elif path.suffix == ".csv":
            h.update(path.read_bytes())
        elif path.suffix == ".gpkg":
            frame = gpd.read_file(path)
            h.update(frame.drop(columns="geometry").to_csv().encode())
            h.update(np.round(frame.geometry.area.to_numpy(), 3).tobytes())
    return h.hexdigest()


def run_one(folder: Path, workers: int, block: int | None) -> list[dict[str, Any]]:
    """Every stage in this process (workers 0) or on a LocalCluster; one record each."""
    import matplotlib

    matplotlib.use("Agg")
    from cocoa_threat.geo.compute import close_clients, dask_client
    from cocoa_threat.params.compute import ComputeParams

    size = int(json.loads((folder / "size.json").read_text())["size"])
    spec = {"enabled": workers > 0, "n_workers": max(workers, 1), "threads_per_worker": 1}
    compute = ComputeParams.model_validate({"dask": spec})
    t0 = time.perf_counter()
    client = dask_client(compute.dask) if workers else None
    if client is not None:  # workers import the project once, outside the timings
        for module in ("risk", "transitions", "mercury", "zonal"):
            client.run(__import__, f"cocoa_threat.analysis.{module}")
    start_s = time.perf_counter() - t0
    meter = Meter(client)
    records = []
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        for stage, run in chain(folder, Path(tmp), load_conf(block), compute).items():
            meter.reset()
            t = time.perf_counter()
            run()
            records.append(record(stage, workers, size, time.perf_counter() - t, *meter.read()))
            sys.stderr.write(f"{workers} worker(s): {stage} {records[-1]['seconds']} s\n")
        digest = outputs_digest(Path(tmp))
    close_clients()
    by_stage = {r["stage"]: r for r in records}
    by_stage["sensitivity"]["per_risk_map"] = round(
        by_stage["sensitivity"]["seconds"] / by_stage["risk"]["seconds"], 2
    )
    total = record("total", workers, size, sum(r["seconds"] for r in records), {}, {})
    total |= {
        "peak_rss_gib": max(r["peak_rss_gib"] for r in records),
        "rss_kedro_gib": max(r["rss_kedro_gib"] for r in records),
        "rss_workers_gib": [
            max(v) for v in zip(*(r["rss_workers_gib"] for r in records), strict=True)
        ],
        "cpu_s": round(sum(r["cpu_s"] for r in records), 2),
        "cpu_s_kedro": round(sum(r["cpu_s_kedro"] for r in records), 2),
        "cpu_s_workers": [
            round(sum(v), 2) for v in zip(*(r["cpu_s_workers"] for r in records), strict=True)
        ],
        "cluster_start_s": round(start_s, 2),
    }
    total["outputs_sha256"] = digest
    return [*records, total]


def record(
    stage: str,
    workers: int,
    size: int,
    seconds: float,
    rss: dict[str, float],
    cpu: dict[str, float],
) -> dict[str, Any]:
    """One JSON record."""
    km2 = size * size * PIXEL * PIXEL / 1e6
    workers_only = [k for k in sorted(rss) if k != "kedro"]
    return {
        "stage": stage,
        "workers": workers,
        "size_px": size,
        "seconds": round(seconds, 2),
        "km2_per_s": round(km2 / seconds, 2),
        "peak_rss_gib": round(max(rss.values()), 3) if rss else None,
        "rss_kedro_gib": round(rss["kedro"], 3) if rss else None,
        "rss_workers_gib": [round(rss[k], 3) for k in workers_only],
        "cpu_s": round(sum(cpu.values()), 2),
        "cpu_s_kedro": round(cpu.get("kedro", 0.0), 2),
        "cpu_s_workers": [round(cpu[k], 2) for k in workers_only],
    }


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #
def machine(load_before: str) -> str:
    """CPU, cores, memory and load of this machine (before the runs and now)."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = cpu
    return (
        f"{model}, {os.cpu_count()} cores, {psutil.virtual_memory().total / GIB:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) before the runs {load_before}, after {load_average()}"
    )


def load_average() -> str:
    """The machine's load average now."""
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    """Generate inputs once, run each worker count in a fresh process, write the records."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="raster side (px)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--block", type=int, default=None, help="window size (default: conf)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the rasters")
    parser.add_argument("--out", type=Path, default=None, help="JSON records (appended)")
    parser.add_argument("--smoke", action="store_true", help="256 px, 128 px windows, 0/1 worker")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.stdout.write(json.dumps(run_one(args.one, args.workers[0], args.block)) + "\n")
        return
    if args.smoke:
        args.size, args.block, args.workers = 256, 128, [0, 1]
    records = measure(args)
    digests = {r["outputs_sha256"] for r in records if r["stage"] == "total"}
    if len(digests) != 1:
        raise SystemExit(f"The runs disagree: output digests {digests}")
    show(records)
    if args.out:
        write(args.out, records, args.size)


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Inputs once, then one fresh process per worker count."""
    records, env = [], {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    load_before = load_average()
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        write_inputs(folder, args.size)
        districts(args.size).to_file(folder / "districts.gpkg", driver="GPKG")
        (folder / "size.json").write_text(json.dumps({"size": args.size}))
        sys.stderr.write(f"inputs {args.size}^2 px in {time.perf_counter() - t:.0f} s\n")
        for workers in args.workers:
            cmd = [sys.executable, __file__, "--one", str(folder), "--workers", str(workers)]
            cmd += ["--block", str(args.block)] if args.block else []
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            sys.stderr.write(
                "".join(ln + "\n" for ln in done.stderr.splitlines() if " s" in ln[-8:])
            )
            if done.returncode:
                raise SystemExit(f"run with {workers} worker(s) failed:\n{done.stderr[-3000:]}")
            records += json.loads(done.stdout.strip().splitlines()[-1])
    description = machine(load_before)
    return [{**r, "machine": description} for r in records]


def show(records: list[dict[str, Any]]) -> None:
    """A table of the records on stdout."""
    head = f"{'stage':<12} {'workers':>7} {'seconds':>9} {'km2/s':>8} {'peak RSS GiB':>13}"
    lines = [head + f" {'CPU s (Kedro + workers)':>24}"]
    for r in records:
        peak = "" if r["peak_rss_gib"] is None else f"{r['peak_rss_gib']:.2f}"
        cpu = f"{r['cpu_s']:.1f}"
        if r["stage"] != "total" and r["cpu_s_workers"]:
            cpu = f"{r['cpu_s_kedro']:.1f} + " + " + ".join(f"{c:.1f}" for c in r["cpu_s_workers"])
        lines.append(
            f"{r['stage']:<12} {r['workers']:>7} {r['seconds']:>9.1f} {r['km2_per_s']:>8.1f} "
            f"{peak:>13} {cpu:>24}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


def write(path: Path, records: list[dict[str, Any]], size: int) -> None:
    """Replace the records of this size in the JSON file (others kept)."""
    old = json.loads(path.read_text()) if path.is_file() else []
    kept = [r for r in old if r.get("size_px") != size]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(kept + records, indent=1) + "\n")


if __name__ == "__main__":
    main()
