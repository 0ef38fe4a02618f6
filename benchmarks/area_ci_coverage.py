"""Coverage of the area confidence intervals on the demo region, old and new estimator.

The demo's labels cover every tile, so the true (label census) area of every
quantity is known. Two experiments, each with >= 200 re-drawn test samples; on
every draw the 95% intervals of every class area (both years) and of
cocoa -> mining are computed by

- the old estimator (Olofsson et al. 2014 on the test tiles' pixels, taken as
  independent draws), and
- the new one (between-block difference estimator over the tiles the model never
  fitted, training tiles at their labelled area; ``analysis.area.area_table``),

and the coverage of the census and the mean interval width are reported.

``fixed`` (default; after ``kedro run``): the maps and the model of the last run
are fixed, and so are its training tiles; the test blocks are re-drawn among the
tiles the model never fitted, with the project's own block allocation (another
seed each time). This is the design the pipeline uses.

``cross-region`` (``--cross-region``, harsher, about a minute more): two demo
regions are ingested with the project's pipeline; the project's random forest is
fitted on the second and maps the first tile by tile (a cheap map fitted to none
of its tiles), and the whole split is re-drawn for blocks of 1, 2 and 4 tiles.

Both print a table and write ``benchmarks/results/area_ci_coverage.json``::

    python benchmarks/area_ci_coverage.py --draws 300 [--cross-region]
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("benchmark")


def _conf(tmp: Path, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's parameters and catalog config, paths moved under ``tmp``."""
    from kedro.config import OmegaConfigLoader

    from cocoa_threat.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(
        conf_source=str(ROOT / "conf"),
        base_env="base",
        default_run_env="base",
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )

    def move(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: move(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [move(v) for v in obj]
        if isinstance(obj, str) and obj.startswith("data/"):
            return (tmp / obj).as_posix()
        return obj

    params, catalog = move(dict(loader["parameters"])), move(dict(loader["catalog"]))
    params["ingestion"]["synthetic"]["seed"] = seed
    params["ingestion"]["split"]["block_size"] = 1
    return params, catalog


def _ingest(tmp: Path, seed: int) -> tuple[dict[str, Any], Any]:
    """Run the ingestion pipeline on a demo region; return its params and catalog."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from cocoa_threat.pipelines.ingestion import create_pipeline

    params, config = _conf(tmp, seed)
    catalog = DataCatalog.from_config(copy.deepcopy(config))
    for key, value in params.items():
        catalog[f"params:{key}"] = MemoryDataset(copy.deepcopy(value))
    SequentialRunner().run(create_pipeline(), catalog)
    return params, catalog


def map_study_region(study: Any, other: Any, params: dict[str, Any]) -> pd.DataFrame:
    """Per-tile mapped and reference counts of the study region, mapped by a forest of the other."""
    from cocoa_threat.analysis.accuracy import TilePair, measure_tile
    from cocoa_threat.models.data import load_training_data
    from cocoa_threat.models.forest import ForestSegmenter, fit_random_forest
    from cocoa_threat.params import land_use_params
    from cocoa_threat.params.training import parse_model_params

    lu = land_use_params(params["land_use"])
    image_nodata = params["ingestion"]["raster"]["image_nodata"]
    data = load_training_data(
        other.load("model_input"),
        other.load("tile_manifest"),
        other.load("band_stats"),
        lu.classes,
        lu.nodata,
        image_nodata,
        splits=("train",),
    )
    spec = parse_model_params(params["random_forest"]["model"], "random_forest.model")
    spec = spec.model_copy(update={"n_estimators": 60, "pixels_per_class": 4000})
    forest = fit_random_forest(data.splits["train"], spec, lu.n_classes, lu.nodata)
    build = {
        "kind": "random_forest",
        "bands": data.bands,
        "means": data.means,
        "stds": data.stds,
        "class_names": lu.classes,
        "ignore_index": lu.nodata,
        "image_nodata": image_nodata,
    }
    predictor = ForestSegmenter("random_forest", build, forest)
    manifest = study.load("tile_manifest")
    parts = study.load("model_input")
    years = sorted(manifest["year"].unique())
    t = params["transition"]
    rows = []
    for tile, grp in manifest.groupby("tile_id"):
        by_year = grp.set_index("year")
        maps, refs = [], []
        for year in years:
            r = by_year.loc[year]
            h, w = int(r["height"]), int(r["width"])
            key = f"{r['split']}/{r['sample']}"
            img = parts[f"{key}_img"]().data
            proba = predictor.predict_proba(img[None])[0]
            mapped = proba.argmax(axis=0).astype(np.uint8)
            valid = np.all(img != image_nodata, axis=0)
            mapped[~valid] = lu.nodata
            maps.append(mapped[:h, :w])
            refs.append(parts[f"{key}_lbl"]().data[0][:h, :w])
        pair = TilePair(maps[0], maps[-1], refs[0], refs[-1])
        counts, cms = measure_tile(pair, lu.classes, lu.nodata, t["from_class"], t["to_class"])
        px_ha = lu.pixel_size**2 / 10_000
        first = by_year.loc[years[0]]
        for c in counts:
            rows.append(
                {
                    "tile_id": str(tile),
                    "minx": float(first["minx"]),
                    "maxy": float(first["maxy"]),
                    "raw_mining_fraction": float(grp["fraction_mining"].mean()),
                    **c,
                    "map_ha": c["map_px"] * px_ha,
                    "ref_ha": c["ref_px"] * px_ha,
                    "tile_ha": c["tile_px"] * px_ha,
                    "cm": cms[c["period"]],
                }
            )
    return pd.DataFrame(rows)


def draw_splits(
    tiles: pd.DataFrame, block_size: int, seed: int, params: dict[str, Any]
) -> pd.Series:
    """tile id -> split of one re-drawn blocked allocation (the project's own)."""
    from cocoa_threat.params.ingestion import SplitSpec
    from cocoa_threat.smallminesds.splits import blocked_splits

    inventory = tiles.drop_duplicates("tile_id")[
        ["tile_id", "minx", "maxy", "raw_mining_fraction"]
    ].assign(year=0)
    spec = SplitSpec(**{**params["ingestion"]["split"], "block_size": block_size, "seed": seed})
    r = params["ingestion"]["raster"]
    out = blocked_splits(inventory, spec, r["tile_size"], r["pixel_size"])
    return out.set_index("tile_id")[["block", "split"]]


def old_interval(tiles: pd.DataFrame, quantity: str, test: list[str]) -> tuple[float, float]:
    """Olofsson et al. 2014 with the test tiles' pixels as the sample (the old way)."""
    from cocoa_threat.analysis.area import stratified_area_estimate

    q = tiles[tiles["quantity"] == quantity]
    cm = np.sum([np.asarray(c) for c in q.loc[q["tile_id"].isin(test), "cm"]], axis=0)
    if q["period"].iloc[0] == "change":
        mapped = q["map_ha"].sum()
        areas = np.array([q["tile_ha"].sum() - mapped, mapped])
        est = stratified_area_estimate(cm, areas, ["other", "conversion"]).iloc[1]
    else:
        period = q["period"].iloc[0]
        same = tiles[tiles["period"] == period]
        classes = list(dict.fromkeys(same["class"]))
        areas = same.groupby("class")["map_ha"].sum().loc[classes].to_numpy()
        est = (
            stratified_area_estimate(cm, areas, classes).set_index("class").loc[q["class"].iloc[0]]
        )
    return float(est["ci_low"]), float(est["ci_high"])


def coverage(
    tiles: pd.DataFrame, params: dict[str, Any], draws: int, block_sizes: list[int]
) -> pd.DataFrame:
    """Coverage of the census and mean width, per design, estimator and quantity."""
    from cocoa_threat.analysis.area import area_table

    census = tiles.groupby("quantity")["ref_ha"].sum()
    records = []
    for block_size in block_sizes:
        for draw in range(draws):
            splits = draw_splits(tiles, block_size, 1000 + draw, params)
            sample = tiles.drop(columns=["cm"]).join(splits, on="tile_id")
            new = area_table(sample, 0.95).query("population == 'whole region'")
            test = splits.index[splits["split"] == "test"].tolist()
            records += _records(new, tiles, test, census, block_size=block_size)
    return _summarise(pd.DataFrame(records), census, "block_size")


def fixed_run_tiles(data: Path) -> pd.DataFrame:
    """The per-tile table of the last run, with each tile's confusion matrices."""
    tiles = pd.read_csv(data / "03_primary/tile_areas.csv", dtype={"tile_id": str, "block": str})
    accuracy = json.loads((data / "08_reporting/map_accuracy.json").read_text())["tiles"]
    tiles["cm"] = [accuracy[t][k] for t, k in zip(tiles["tile_id"], tiles["period"], strict=True)]
    return tiles


def redraw_test(tiles: pd.DataFrame, seed: int, params: dict[str, Any]) -> pd.DataFrame:
    """The run's training blocks kept; its val + test blocks re-split at the same shares."""
    from cocoa_threat.smallminesds.splits import allocate_blocks

    blocks = tiles.drop_duplicates("block").set_index("block")["split"]
    free = blocks[blocks != "train"].index
    fr = params["ingestion"]["split"]["fractions"]
    share = {"train": 0.0, "val": fr["val"] / (fr["val"] + fr["test"])}
    share["test"] = 1 - share["val"]
    mining = tiles[tiles["quantity"] == "mining (before)"].groupby("block")["ref_ha"].sum()
    new = pd.Series(allocate_blocks(mining.loc[free].to_numpy(), share, seed), index=free)
    split = blocks.copy()
    split.loc[free] = new
    return tiles.assign(split=tiles["block"].map(split))


def fixed_coverage(tiles: pd.DataFrame, params: dict[str, Any], draws: int) -> pd.DataFrame:
    """Coverage with the run's maps and training tiles fixed, test blocks re-drawn."""
    from cocoa_threat.analysis.area import area_table

    census = tiles.groupby("quantity")["ref_ha"].sum()
    records = []
    for draw in range(draws):
        drawn = redraw_test(tiles, 5000 + draw, params)
        new = area_table(drawn.drop(columns=["cm"]), 0.95).query("population == 'whole region'")
        test = drawn.loc[drawn["split"] == "test", "tile_id"].unique().tolist()
        records += _records(new, tiles, test, census, design="fixed maps, test blocks re-drawn")
    return _summarise(pd.DataFrame(records), census, "design")


def _records(
    new: pd.DataFrame, tiles: pd.DataFrame, test: list[str], census: pd.Series, **design: Any
) -> list[dict[str, Any]]:
    """One record per quantity and estimator of a draw: covered, width, units."""
    records = []
    for r in new.itertuples():
        low_old, high_old = old_interval(tiles, r.quantity, test)
        for estimator, low, high in (
            ("old", low_old, high_old),
            ("new", r.ci_low_ha, r.ci_high_ha),
        ):
            records.append(
                {
                    **design,
                    "estimator": estimator,
                    "quantity": r.quantity,
                    "covered": bool(low <= census[r.quantity] <= high),
                    "width_ha": high - low,
                    "no_interval": bool(np.isnan(low)),
                    "n_test_units": r.n_units,
                }
            )
    return records


def _summarise(frame: pd.DataFrame, census: pd.Series, design: str) -> pd.DataFrame:
    return (
        frame.groupby([design, "estimator", "quantity"], sort=False)
        .agg(
            coverage=("covered", "mean"),
            mean_width_ha=("width_ha", "mean"),
            no_interval=("no_interval", "mean"),
            test_units=("n_test_units", "mean"),
            draws=("covered", "size"),
        )
        .reset_index()
        .assign(census_ha=lambda t: t["quantity"].map(census))
    )


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--cross-region", action="store_true", help="the harsher experiment")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="the run's data folder")
    parser.add_argument("--block-sizes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--tiles-cache", type=Path, help="reuse the mapped tiles (a pickle)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/area_ci_coverage.json"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("cocoa_threat").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    params, _ = _conf(Path("."), 2016)
    if not args.cross_region:
        table = fixed_coverage(fixed_run_tiles(args.data), params, args.draws)
    elif args.tiles_cache and args.tiles_cache.is_file():
        tiles = pd.read_pickle(args.tiles_cache)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            params, study = _ingest(Path(tmp) / "study", 2016)
            _, other = _ingest(Path(tmp) / "other", 2017)
            tiles = map_study_region(study, other, params)
        if args.tiles_cache:
            tiles.to_pickle(args.tiles_cache)
    if args.cross_region:
        table = coverage(tiles, params, args.draws, args.block_sizes)
    pd.set_option("display.width", 160)
    sys.stdout.write(table.round(3).to_string(index=False) + "\n")
    sys.stdout.write(f"({time.perf_counter() - t0:.0f} s)\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out = args.out.with_name(
        args.out.stem + ("_cross_region" if args.cross_region else "") + ".json"
    )
    out.write_text(json.dumps(table.to_dict("records"), indent=1, default=float))


if __name__ == "__main__":
    main()
