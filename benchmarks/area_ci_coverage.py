"""Coverage AND width of the area intervals on the demo region, against the label census.

The demo's labels cover every tile, so the true (label census) area of every
quantity is known. On every draw the intervals of every class area (both years)
and of cocoa -> mining are computed by

- the project's estimator (``analysis.area.area_table``: the stratified
  difference estimator of the split's design over the tiles the model never
  fitted, training tiles at their labelled area), and
- for reference, Olofsson et al. 2014 with the test tiles' pixels taken as
  independent draws (what the project did first),

and, per quantity, the script reports the coverage of the census, the bias of
the estimates (in ha and in standard deviations), their true standard deviation
over the draws, the mean interval width over the oracle width (+/- z SD of the
estimates over the draws: the narrowest interval that would cover as asked), the
share of lower bounds cut at 0, and every block's inclusion frequency against the
probability the design gives it.

``fixed`` (default; after ``kedro run``): the maps, the model and its training
blocks are those of the last run; the test blocks are re-drawn among the
non-training blocks by the design (in each stratum a simple random sample of
the run's size), which is the design the pipeline's estimator assumes given
the training blocks. ``--designs`` adds alternatives on the same blocks:
``srs`` (one stratum) and ``oversampled`` (twice the test rate in the
mining-rich stratum). The whole split is also re-drawn (no estimation) to check
every block's unconditional inclusion probability.

``cross-region`` (``--cross-region``, a few minutes more): two demo regions are
ingested with the project's pipeline; the project's random forest is fitted on
the second and maps the first tile by tile (a cheap map fitted to none of its
tiles), and the whole split is re-drawn by the project's design for blocks of 1
and 2 tiles (for blocks of 2, 16 blocks: one stratum and a quarter of the blocks
in the test split, so that it has the 3 blocks an interval needs).

Both print a table and write ``benchmarks/results/area_ci_coverage[_cross_region].json``::

    python benchmarks/area_ci_coverage.py --draws 300 [--designs run srs oversampled]
    python benchmarks/area_ci_coverage.py --draws 200 --cross-region
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
from scipy.stats import norm

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("benchmark")
CONFIDENCE = 0.95
# The test sample as conf/base/parameters_transition.yml sets it: whole blocks, at least 3.
UNIT, MIN_UNITS = "block", 3


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
    params["demo"]["seed"] = seed
    params["ingestion"]["split"]["block_size"] = 1
    return params, catalog


def _ingest(tmp: Path, seed: int) -> tuple[dict[str, Any], Any]:
    """Run the ingestion pipeline on a demo region; return its params and catalog."""
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from cocoa_threat.params.checks import parse_blocks
    from cocoa_threat.pipelines.ingestion import create_pipeline

    params, config = _conf(tmp, seed)
    catalog = DataCatalog.from_config(copy.deepcopy(config))
    for key, value in parse_blocks(params).items():
        catalog[f"params:{key}"] = MemoryDataset(value, copy_mode="assign")
    SequentialRunner().run(create_pipeline(), catalog)
    return params, catalog


def map_study_region(study: Any, other: Any, params: dict[str, Any]) -> pd.DataFrame:
    """Per-tile mapped and reference counts of the study region, mapped by a forest of the other."""
    from cocoa_threat.analysis.accuracy import TilePair, measure_tile
    from cocoa_threat.models.data import load_training_data
    from cocoa_threat.models.forest import ForestSegmenter, fit_random_forest
    from cocoa_threat.params import LandUse
    from cocoa_threat.params.training import parse_model_params

    lu = LandUse.model_validate(params["land_use"])
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
) -> pd.DataFrame:
    """tile id -> block, split and stratum of one re-drawn split (the project's own design)."""
    from cocoa_threat.params.ingestion import SplitSpec
    from cocoa_threat.smallminesds.splits import blocked_splits

    inventory = tiles.drop_duplicates("tile_id")[
        ["tile_id", "minx", "maxy", "raw_mining_fraction"]
    ].assign(year=0)
    split = copy.deepcopy(params["ingestion"]["split"])
    split.update({"block_size": block_size, "seed": seed})
    if block_size > 1:  # 16 blocks: one stratum, 4 test blocks (the estimator needs 3)
        split["strata"]["n_strata"] = 1
        split["fractions"] = {"train": 0.5, "val": 0.25, "test": 0.25}
    r = params["ingestion"]["raster"]
    out = blocked_splits(inventory, SplitSpec(**split), r["tile_size"], r["pixel_size"])
    return out.set_index("tile_id")[["block", "split", "stratum"]]


def old_interval(tiles: pd.DataFrame, quantity: str, test: list[str]) -> tuple[float, float, float]:
    """Olofsson et al. 2014 with the test tiles' pixels as the sample (the old way)."""
    from cocoa_threat.analysis.area import stratified_area_estimate

    q = tiles[tiles["quantity"] == quantity]
    cm = np.sum([np.asarray(c) for c in q.loc[q["tile_id"].isin(test), "cm"]], axis=0)
    if q["period"].iloc[0] == "change":
        mapped = q["map_ha"].sum()
        areas = np.array([q["tile_ha"].sum() - mapped, mapped])
        est = stratified_area_estimate(cm, areas, ["other", "conversion"], CONFIDENCE).iloc[1]
    else:
        period = q["period"].iloc[0]
        same = tiles[tiles["period"] == period]
        classes = list(dict.fromkeys(same["class"]))
        areas = same.groupby("class")["map_ha"].sum().loc[classes].to_numpy()
        est = (
            stratified_area_estimate(cm, areas, classes, CONFIDENCE)
            .set_index("class")
            .loc[q["class"].iloc[0]]
        )
    return float(est["adjusted_area"]), float(est["ci_low"]), float(est["ci_high"])


def _records(
    new: pd.DataFrame, tiles: pd.DataFrame, test: list[str], **design: Any
) -> list[dict[str, Any]]:
    """One record per quantity and estimator of a draw: estimate and interval."""
    records = []
    for r in new.itertuples():
        old = old_interval(tiles, r.quantity, test)
        for estimator, (est, low, high, clipped) in (
            ("pixels (Olofsson)", (*old, False)),
            ("blocks (project)", (r.adjusted_ha, r.ci_low_ha, r.ci_high_ha, r.ci_low_clipped)),
        ):
            records.append(
                {**design, "estimator": estimator, "quantity": r.quantity, "estimate": est}
                | {"low": low, "high": high, "clipped": bool(clipped), "n_units": r.n_units}
            )
    return records


def summarise(frame: pd.DataFrame, census: pd.Series, design: str) -> pd.DataFrame:
    """Per design, estimator and quantity: coverage, bias, true SD, width against the oracle."""
    z = norm.ppf(0.5 + CONFIDENCE / 2)
    frame = frame.assign(truth=frame["quantity"].map(census), width=frame["high"] - frame["low"])
    frame["covered"] = (frame["low"] <= frame["truth"]) & (frame["truth"] <= frame["high"])
    out = (
        frame.groupby([design, "estimator", "quantity"], sort=False)
        .agg(
            census_ha=("truth", "first"),
            coverage=("covered", "mean"),
            mean_ha=("estimate", "mean"),
            true_sd_ha=("estimate", "std"),
            mean_width_ha=("width", "mean"),
            clipped=("clipped", "mean"),
            no_interval=("low", lambda v: float(v.isna().mean())),
            test_units=("n_units", "mean"),
            draws=("covered", "size"),
        )
        .reset_index()
    )
    out["bias_ha"] = out["mean_ha"] - out["census_ha"]
    out["bias_sd"] = out["bias_ha"] / out["true_sd_ha"]
    out["oracle_width_ha"] = 2 * z * out["true_sd_ha"]
    out["width_over_oracle"] = out["mean_width_ha"] / out["oracle_width_ha"]
    return out


def coverage(
    tiles: pd.DataFrame, params: dict[str, Any], draws: int, block_sizes: list[int]
) -> pd.DataFrame:
    """Cross-region: the whole split re-drawn by the project's design, per block size."""
    from cocoa_threat.analysis.area import area_table

    census = tiles.groupby("quantity")["ref_ha"].sum()
    records = []
    for block_size in block_sizes:
        for draw in range(draws):
            splits = draw_splits(tiles, block_size, 1000 + draw, params)
            sample = tiles.drop(columns=["cm"]).join(splits, on="tile_id")
            new = area_table(sample, CONFIDENCE, UNIT, MIN_UNITS).query(
                "population == 'whole region'"
            )
            test = splits.index[splits["split"] == "test"].tolist()
            records += _records(new, tiles, test, block_size=block_size)
    return summarise(pd.DataFrame(records), census, "block_size")


def fixed_run_tiles(data: Path) -> pd.DataFrame:
    """The per-tile table of the last run, with each tile's confusion matrices."""
    tiles = pd.read_csv(
        data / "03_primary/tile_areas.csv", dtype={"tile_id": str, "block": str, "stratum": str}
    )
    accuracy = json.loads((data / "08_reporting/map_accuracy.json").read_text())["tiles"]
    tiles["cm"] = [accuracy[t][k] for t, k in zip(tiles["tile_id"], tiles["period"], strict=True)]
    return tiles


def design_of(blocks: pd.DataFrame, design: str) -> tuple[pd.Series, pd.DataFrame]:
    """Strata of the run's non-training blocks and their test / val counts under a design.

    ``run``: the run's own strata and test counts; ``srs``: one stratum, the
    same number of test blocks; ``oversampled``: the run's strata, the test
    blocks allocated with twice the rate in the most mined stratum (at least 2 each).
    """
    from cocoa_threat.smallminesds.splits import apportion

    free = blocks[blocks["split"] != "train"]
    strata = free["stratum"] if design != "srs" else pd.Series("all", index=free.index)
    sizes = strata.value_counts().sort_index()
    n_test = int((free["split"] == "test").sum())
    if design == "run":
        test = free[free["split"] == "test"].groupby("stratum").size().reindex(sizes.index)
    elif design == "srs":
        test = pd.Series([n_test], index=sizes.index)
    else:
        rate = np.ones(len(sizes))
        rate[-1] = 2.0
        w = sizes.to_numpy() * rate
        low = np.full(len(sizes), 2)
        test = pd.Series(
            apportion(n_test, n_test * w / w.sum(), low, sizes.to_numpy()), sizes.index
        )
    counts = pd.DataFrame({"train": 0, "val": sizes - test.fillna(0), "test": test.fillna(0)})
    return strata, counts.astype(int)


def fixed_coverage(
    tiles: pd.DataFrame, draws: int, designs: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Maps and training blocks of the run fixed, test blocks re-drawn by each design."""
    from cocoa_threat.analysis.area import area_table
    from cocoa_threat.smallminesds.splits import draw_blocks

    census = tiles.groupby("quantity")["ref_ha"].sum()
    blocks = tiles.drop_duplicates("block").set_index("block")[["split", "stratum"]]
    records, frequency = [], {}
    for design in designs:
        strata, counts = design_of(blocks, design)
        rng = np.random.default_rng(5000)
        hits = pd.Series(0, index=strata.index)
        for _ in range(draws):
            split = blocks["split"].where(blocks["split"] == "train", "val")
            split.loc[strata.index] = draw_blocks(strata, counts, rng)
            drawn = tiles.assign(split=tiles["block"].map(split))
            drawn["stratum"] = drawn["block"].map(strata).fillna("train")
            new = area_table(drawn.drop(columns=["cm"]), CONFIDENCE, UNIT, MIN_UNITS)
            new = new.query("population == 'whole region'")
            test = drawn.loc[drawn["split"] == "test", "tile_id"].unique().tolist()
            records += _records(new, tiles, test, design=design)
            hits += split.loc[strata.index] == "test"
        prob = (counts["test"] / counts[["val", "test"]].sum(axis=1)).reindex(strata).to_numpy()
        frequency[design] = pd.DataFrame(
            {"stratum": strata, "frequency": hits / draws, "probability": prob}
        )
    inclusion = pd.concat(frequency, names=["design", "block"]).reset_index()
    return summarise(pd.DataFrame(records), census, "design"), inclusion


def unconditional_inclusion(data: Path, params: dict[str, Any], draws: int) -> pd.DataFrame:
    """The whole split re-drawn ``draws`` times: every block's test frequency and probability."""
    from cocoa_threat.params.ingestion import SplitSpec
    from cocoa_threat.smallminesds.splits import allocate_strata, draw_blocks

    splits = pd.read_csv(data / "03_primary/tile_splits.csv", dtype={"block": str})
    blocks = splits.drop_duplicates("block").set_index("block")
    spec = SplitSpec(**params["ingestion"]["split"])
    names = sorted(blocks["stratum"].unique(), key=lambda s: int(s[1:]))
    counts = allocate_strata(blocks["stratum"].value_counts().reindex(names), spec)
    rng = np.random.default_rng(0)
    hits = sum(draw_blocks(blocks["stratum"], counts, rng) == "test" for _ in range(draws))
    return pd.DataFrame(
        {
            "stratum": blocks["stratum"],
            "frequency": hits / draws,
            "probability": blocks["inclusion_prob"],
        }
    ).reset_index()


def _print(table: pd.DataFrame, inclusion: pd.DataFrame | None, seconds: float) -> None:
    pd.set_option("display.width", 200)
    shown = table[[c for c in table.columns if c not in {"mean_ha", "draws", "no_interval"}]].round(
        3
    )
    sys.stdout.write(shown.to_string(index=False) + "\n")
    if inclusion is not None:
        gap = (inclusion["frequency"] - inclusion["probability"]).abs()
        sys.stdout.write(
            inclusion.groupby([c for c in ("design", "stratum") if c in inclusion])
            .agg(
                blocks=("frequency", "size"),
                probability=("probability", "first"),
                freq_min=("frequency", "min"),
                freq_max=("frequency", "max"),
            )
            .round(3)
            .to_string()
            + f"\nlargest |frequency - probability|: {gap.max():.3f}\n"
        )
    sys.stdout.write(f"({seconds:.0f} s)\n")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument(
        "--designs", nargs="+", default=["run"], choices=["run", "srs", "oversampled"]
    )
    parser.add_argument("--cross-region", action="store_true", help="the harsher experiment")
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="the run's data folder")
    parser.add_argument("--block-sizes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tiles-cache", type=Path, help="reuse the mapped tiles (a pickle)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/area_ci_coverage.json"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("cocoa_threat").setLevel(logging.ERROR)
    t0 = time.perf_counter()
    params, _ = _conf(Path("."), 2016)
    result: dict[str, Any] = {"confidence": CONFIDENCE, "draws": args.draws}
    inclusion = None
    if not args.cross_region:
        table, inclusion = fixed_coverage(fixed_run_tiles(args.data), args.draws, args.designs)
        whole = unconditional_inclusion(args.data, params, 4000)
        result["inclusion_whole_split"] = whole.to_dict("records")
        result["inclusion_given_training"] = inclusion.to_dict("records")
        inclusion = pd.concat([inclusion, whole.assign(design="whole split (4000 draws)")])
    else:
        table = coverage(_cross_region_tiles(args, params), params, args.draws, args.block_sizes)
    result["quantities"] = table.to_dict("records")
    _print(table, inclusion, time.perf_counter() - t0)
    out = args.out.with_name(
        args.out.stem + ("_cross_region" if args.cross_region else "") + ".json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float))


def _cross_region_tiles(args: argparse.Namespace, params: dict[str, Any]) -> pd.DataFrame:
    if args.tiles_cache and args.tiles_cache.is_file():
        return pd.read_pickle(args.tiles_cache)
    with tempfile.TemporaryDirectory() as tmp:
        params, study = _ingest(Path(tmp) / "study", 2016)
        _, other = _ingest(Path(tmp) / "other", 2017)
        tiles = map_study_region(study, other, params)
    if args.tiles_cache:
        tiles.to_pickle(args.tiles_cache)
    return tiles


if __name__ == "__main__":
    main()
