"""Tile-level, spatially blocked train/val/test splits, shared by both years.

The original study split each year independently (42% of tiles ended up in a
different split in the other year, so the same ground was seen in training and
testing). Here a tile has one split in every year, and whole blocks of k x k
neighbouring tiles go to one split.

The blocks are a **stratified random sample** (``ingestion.split.strata``):
they are cut into strata of equal size by a covariate known before sampling
(the mining share of the first year's masks), and in every stratum a random
permutation of its blocks gives the test blocks first, then the validation
blocks, the rest training. So every block has a known probability ``n_h / B_h``
of being a test block (``inclusion_prob``), and given the training blocks the
test blocks of a stratum are a simple random sample of its non-training blocks:
each stands for ``N_h / n_h`` of them (``design_weight``), which is what the
estimators of areas and scores weight by.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from cocoa_threat.errors import DataValidationError
from cocoa_threat.params.ingestion import SplitSpec

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
SAMPLE_DESIGN = ["stratum", "inclusion_prob", "design_weight"]


def split_fingerprint(table: pd.DataFrame) -> str:
    """A short hash of the tile -> split assignment (what a model's scores depend on).

    Args:
        table: Any table with ``tile_id`` and ``split`` (e.g. the tile manifest).

    Returns:
        16 hex digits; equal for equal assignments whatever the row order.
    """
    pairs = table[["tile_id", "split"]].astype(str).drop_duplicates().sort_values("tile_id")
    text = "\n".join(f"{t},{s}" for t, s in pairs.itertuples(index=False))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _target_counts(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Largest-remainder allocation of ``n`` items, at least one per non-zero split."""
    raw = {s: fractions[s] * n for s in SPLITS}
    counts = {s: int(np.floor(v)) for s, v in raw.items()}
    for s in sorted(SPLITS, key=lambda s: raw[s] - counts[s], reverse=True):
        if sum(counts.values()) >= n:
            break
        counts[s] += 1
    for s in SPLITS:
        if fractions[s] > 0 and counts[s] == 0:
            donor = max(SPLITS, key=lambda k: counts[k])
            counts[donor] -= 1
            counts[s] += 1
    return counts


def stratify_blocks(covariate: pd.Series, n_strata: int) -> pd.Series:
    """Strata of (nearly) equal size by the covariate, ``s1`` lowest; ties by block name.

    Args:
        covariate: One value per block (index = block name).
        n_strata: Number of strata.

    Returns:
        block -> stratum name; a fixed partition (no randomness).
    """
    if n_strata > len(covariate):
        raise ValueError(
            f"ingestion.split.strata.n_strata is {n_strata} but there are only "
            f"{len(covariate)} blocks; lower it"
        )
    frame = pd.DataFrame({"block": covariate.index.astype(str), "value": covariate.to_numpy()})
    order = frame.sort_values(["value", "block"]).index.to_numpy()
    rank = np.empty(len(frame), dtype=int)
    rank[order] = np.arange(len(frame))
    index = rank * n_strata // len(frame)
    return pd.Series([f"s{i + 1}" for i in index], index=covariate.index, name="stratum")


def apportion(total: int, target: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Integers within [low, high] summing to ``total``, nearest to ``target`` (largest remainder).

    Ties go to the later stratum (more mining).
    """
    counts = np.clip(np.floor(target), low, high).astype(int)
    tie = 1e-9 * np.arange(len(target))
    while counts.sum() < total:
        counts[np.argmax(np.where(counts < high, target - counts + tie, -np.inf))] += 1
    while counts.sum() > total:
        counts[np.argmax(np.where(counts > low, counts - target - tie, -np.inf))] -= 1
    return counts


def allocate_strata(sizes: pd.Series, spec: SplitSpec) -> pd.DataFrame:
    """How many test, validation and training blocks each stratum gets.

    The test blocks go to strata in proportion to ``B_h * oversample_h``, at
    least ``strata.min_test_blocks`` each; the validation blocks in proportion
    to ``B_h``; the rest train.

    Args:
        sizes: Blocks per stratum (``B_h``), strata in order of the covariate.
        spec: Split parameters.

    Returns:
        One row per stratum, columns ``train``, ``val``, ``test`` (block counts).

    Raises:
        ValueError: When the design can't give every stratum its test blocks.
    """
    n_blocks = int(sizes.sum())
    needed = sum(1 for s in SPLITS if spec.fractions[s] > 0)
    if n_blocks < needed:
        raise ValueError(
            f"Only {n_blocks} spatial block(s) for {needed} splits; lower "
            f"ingestion.split.block_size or use a larger region"
        )
    total = _target_counts(n_blocks, spec.fractions)
    b = sizes.to_numpy()
    minimum = spec.strata.min_test_blocks
    if minimum * len(b) > total["test"] or (b < minimum).any():
        raise ValueError(
            f"The test split has {total['test']} of {n_blocks} blocks in {len(b)} strata of "
            f"{sorted(b.tolist())} blocks, but every stratum needs "
            f"{minimum} test blocks (ingestion.split.strata.min_test_blocks): raise "
            f"ingestion.split.fractions.test, lower ingestion.split.strata.n_strata or "
            f"ingestion.split.block_size"
        )
    weight = b * np.asarray(spec.strata.rates(len(b)))
    test = apportion(total["test"], total["test"] * weight / weight.sum(), minimum, b)
    val = apportion(total["val"], total["val"] * b / n_blocks, np.zeros_like(b), b - test)
    return pd.DataFrame({"train": b - test - val, "val": val, "test": test}, index=sizes.index)


def draw_blocks(strata: pd.Series, counts: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Stratified random sampling: in each stratum a random permutation of its blocks
    gives ``counts.test`` test blocks, then ``counts.val`` validation blocks, the rest train.

    Args:
        strata: block -> stratum.
        counts: Blocks per stratum and split (:func:`allocate_strata`).
        rng: Random generator.

    Returns:
        block -> split.
    """
    out = pd.Series("train", index=strata.index, dtype=object, name="split")
    for stratum in counts.index:
        blocks = np.sort(strata.index[strata == stratum].to_numpy())
        drawn = rng.permutation(blocks)
        n_test, n_val = int(counts.loc[stratum, "test"]), int(counts.loc[stratum, "val"])
        out.loc[drawn[:n_test]] = "test"
        out.loc[drawn[n_test : n_test + n_val]] = "val"
    return out


def design_columns(strata: pd.Series, split: pd.Series, counts: pd.DataFrame) -> pd.DataFrame:
    """Per block: stratum, P(test block) = n_h / B_h and, for test blocks, the weight N_h / n_h.

    ``N_h`` counts the stratum's non-training blocks: given the training
    blocks, a test block stands for ``N_h / n_h`` of them. Other blocks weigh 0.
    """
    prob = (counts["test"] / counts.sum(axis=1)).reindex(strata).to_numpy()
    weight = ((counts["test"] + counts["val"]) / counts["test"]).reindex(strata).to_numpy()
    return pd.DataFrame(
        {
            "stratum": strata.to_numpy(),
            "inclusion_prob": prob,
            "design_weight": np.where(split.to_numpy() == "test", weight, 0.0),
        },
        index=strata.index,
    )


def block_covariate(
    inventory: pd.DataFrame, block_size: int, tile_size: int, pixel_size: float
) -> tuple[pd.Series, pd.Series]:
    """Every tile's block, and every block's stratification covariate.

    The covariate is the mean mining share of the block's tiles in the first
    year's masks (a tile missing that year counts with its other years).

    Returns:
        tile_id -> block name, and block -> covariate.
    """
    tiles = inventory.groupby("tile_id").agg(
        minx=("minx", "first"), maxy=("maxy", "first"), mining=("raw_mining_fraction", "mean")
    )
    first = inventory[inventory["year"] == inventory["year"].min()]
    tiles["mining"] = (
        first.groupby("tile_id")["raw_mining_fraction"].mean().combine_first(tiles["mining"])
    )
    block_len = block_size * tile_size * pixel_size
    x0, y0 = tiles["minx"].min(), tiles["maxy"].max()
    # Half a pixel of slack so edge tiles' rounding never moves them to another block.
    bx = np.floor((tiles["minx"] - x0 + pixel_size / 2) / block_len).astype(int)
    by = np.floor((y0 - tiles["maxy"] + pixel_size / 2) / block_len).astype(int)
    tiles["block"] = by.astype(str) + "_" + bx.astype(str)
    return tiles["block"], tiles.groupby("block")["mining"].mean()


def blocked_splits(
    inventory: pd.DataFrame, spec: SplitSpec, tile_size: int, pixel_size: float
) -> pd.DataFrame:
    """Whole k x k blocks of neighbouring tiles to one split, by stratified random sampling.

    Returns:
        tile_id, year, block, split, stratum, inclusion_prob (of being a test
        block), design_weight (non-training blocks of its stratum per test
        block; 0 outside the test split).
    """
    block_of, covariate = block_covariate(inventory, spec.block_size, tile_size, pixel_size)
    strata = stratify_blocks(covariate, spec.strata.n_strata)
    names = [f"s{i + 1}" for i in range(spec.strata.n_strata)]
    counts = allocate_strata(strata.value_counts().reindex(names), spec)
    split = draw_blocks(strata, counts, np.random.default_rng(spec.seed))
    design = design_columns(strata, split, counts)
    for name, row in counts.iterrows():
        share = covariate[strata == name]
        logger.info(
            "Stratum %s (mining %.1f-%.1f%% in the first year): %d blocks, test %d "
            "(inclusion probability %.2f), val %d, train %d",
            name,
            100 * share.min(),
            100 * share.max(),
            row.sum(),
            row["test"],
            row["test"] / row.sum(),
            row["val"],
            row["train"],
        )
    out = inventory[["tile_id", "year"]].assign(block=inventory["tile_id"].map(block_of))
    return out.merge(split.to_frame().join(design), left_on="block", right_index=True)


def read_published_splits(
    files: dict[str, Callable[[], pd.DataFrame]], spec: SplitSpec, name_pattern: str
) -> pd.DataFrame:
    """The study's per-year split CSVs (``indices,split,patch_name``).

    Args:
        files: Partition loaders of the published split files (catalog
            ``published_splits_raw``), one per year; the year is found in the
            file name with ``ingestion.split.published_year_pattern``.
        spec: Split parameters.
        name_pattern: Regex with ``tile`` and ``year`` groups for ``patch_name``.

    Returns:
        tile_id, year, split.
    """
    year_re = re.compile(spec.published_year_pattern)
    regex = re.compile(name_pattern)
    rows = []
    for name, load in sorted(files.items()):
        found = year_re.search(name.rsplit("/", 1)[-1])
        if not found:
            raise DataValidationError(
                f"Published split file {name}: no year in its name",
                ["name the files e.g. split_2016.csv (ingestion.split.published_year_pattern)"],
            )
        year = int(found["year"])
        table = load()
        if not {"split", "patch_name"} <= set(table.columns):
            raise DataValidationError(
                f"Published split file {name}: needs columns 'split' and 'patch_name'",
                [f"columns: {list(table.columns)}"],
            )
        for patch, split in zip(table["patch_name"], table["split"], strict=True):
            match = regex.match(str(patch)) or regex.match(f"MASK_{patch}")
            if not match:
                raise DataValidationError(
                    f"Published split file {name}: patch_name {patch!r} does not match",
                    [f"pattern {name_pattern!r} (ingestion.files.mask_pattern)"],
                )
            rows.append({"tile_id": match["tile"], "year": year, "split": str(split)})
    return pd.DataFrame(rows)


def published_splits(
    inventory: pd.DataFrame, published: pd.DataFrame, spec: SplitSpec
) -> pd.DataFrame:
    """Apply the study's published per-year splits (with a leakage warning).

    The published files have no validation split: one is carved from train by
    tile (the same tiles in every year).

    Returns:
        tile_id, year, block (= tile id), split, stratum (one), inclusion_prob
        (NaN: unknown) and design_weight (as if a simple random sample).
    """
    out = inventory[["tile_id", "year"]].merge(published, on=["tile_id", "year"], how="left")
    missing = out["split"].isna()
    if missing.any():
        raise DataValidationError(
            "Tiles missing from the published split files (catalog published_splits_raw)",
            [f"tile {r.tile_id}, year {r.year}" for r in out[missing].itertuples()],
        )
    rng = np.random.default_rng(spec.seed)
    train_tiles = sorted(out.loc[out["split"] == "train", "tile_id"].unique())
    val_share = spec.fractions["val"] / (spec.fractions["train"] + spec.fractions["val"])
    val_tiles = set(rng.permutation(train_tiles)[: int(round(val_share * len(train_tiles)))])
    out.loc[(out["split"] == "train") & out["tile_id"].isin(val_tiles), "split"] = "val"
    per_tile = out.groupby("tile_id")["split"].nunique()
    leaking = int((per_tile > 1).sum())
    if leaking:
        logger.warning(
            "Published splits: %d of %d tiles (%.0f%%) are in different splits in "
            "different years, so the same ground is seen in training and testing; "
            "use ingestion.split.method: blocked for honest metrics",
            leaking,
            len(per_tile),
            100 * leaking / len(per_tile),
        )
    out["block"] = out["tile_id"]
    logger.warning(
        "Published splits are not a probability sample of tiles: the area and score "
        "intervals treat the test tiles as a simple random sample of the non-training "
        "tiles, which nothing guarantees"
    )
    first = out.drop_duplicates("tile_id")
    n_test = int((first["split"] == "test").sum())
    n_free = int((first["split"] != "train").sum())
    out["stratum"] = "published"
    out["inclusion_prob"] = np.nan  # unknown: not drawn by a known design
    out["design_weight"] = np.where(out["split"] == "test", n_free / max(n_test, 1), 0.0)
    return out
