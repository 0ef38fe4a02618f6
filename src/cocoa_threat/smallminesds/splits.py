"""Tile-level, spatially blocked train/val/test splits, shared by both years.

The original study split each year independently (42% of tiles ended up in a
different split in the other year, so the same ground was seen in training and
testing). Here a tile has one split in every year, and whole blocks of k x k
neighbouring tiles go to one split, stratified by their mining fraction.
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


def allocate_blocks(strat_value: np.ndarray, fractions: dict[str, float], seed: int) -> np.ndarray:
    """Assign blocks to splits, stratified by ``strat_value`` (systematic allocation).

    Blocks are walked in order of their stratification value (random ties) and
    each goes to the split furthest behind its target share so far, so every
    split gets blocks from the whole range of mining fractions.

    Args:
        strat_value: One value per block (its mining fraction).
        fractions: Target share per split.
        seed: Random seed.

    Returns:
        Array of split names, one per block.
    """
    n = len(strat_value)
    needed = sum(1 for s in SPLITS if fractions[s] > 0)
    if n < needed:
        raise ValueError(
            f"Only {n} spatial block(s) for {needed} splits; lower "
            f"ingestion.split.block_size or use a larger region"
        )
    rng = np.random.default_rng(seed)
    quota = _target_counts(n, fractions)
    order = np.lexsort((rng.random(n), strat_value))
    assigned = dict.fromkeys(SPLITS, 0)
    out = np.empty(n, dtype=object)
    for i, block in enumerate(order):
        open_splits = [s for s in SPLITS if assigned[s] < quota[s]]
        deficit = {
            s: fractions[s] * (i + 1) - assigned[s] + rng.uniform(0, 0.5) for s in open_splits
        }
        choice = max(deficit, key=deficit.__getitem__)
        out[block] = choice
        assigned[choice] += 1
    return out


def blocked_splits(
    inventory: pd.DataFrame, spec: SplitSpec, tile_size: int, pixel_size: float
) -> pd.DataFrame:
    """Whole k x k blocks of neighbouring tiles to one split, stratified by mining.

    Returns:
        tile_id, year, block, split.
    """
    tiles = inventory.groupby("tile_id").agg(
        minx=("minx", "first"),
        maxy=("maxy", "first"),
        mining=("raw_mining_fraction", "mean"),
    )
    block_len = spec.block_size * tile_size * pixel_size
    x0, y0 = tiles["minx"].min(), tiles["maxy"].max()
    # Half a pixel of slack so edge tiles' rounding never moves them to another block.
    bx = np.floor((tiles["minx"] - x0 + pixel_size / 2) / block_len).astype(int)
    by = np.floor((y0 - tiles["maxy"] + pixel_size / 2) / block_len).astype(int)
    tiles["block"] = by.astype(str) + "_" + bx.astype(str)
    blocks = tiles.groupby("block")["mining"].mean()
    split_of_block = dict(
        zip(
            blocks.index,
            allocate_blocks(blocks.to_numpy(), spec.fractions, spec.seed),
            strict=True,
        )
    )
    tiles["split"] = tiles["block"].map(split_of_block)
    return inventory[["tile_id", "year"]].merge(
        tiles[["block", "split"]], left_on="tile_id", right_index=True
    )


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
        tile_id, year, block (= tile id), split.
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
    return out
