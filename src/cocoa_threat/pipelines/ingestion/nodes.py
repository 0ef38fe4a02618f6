"""Nodes of the ingestion pipeline: from raw SmallMinesDS tiles to model input."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rasterio.crs import CRS

from cocoa_threat.demo.region import generate_demo_region
from cocoa_threat.errors import DataValidationError
from cocoa_threat.geo.raster import Raster, pad_to, read_header, read_raster
from cocoa_threat.pipelines.ingestion.params import (
    IngestionParams,
    LabelSpec,
    ingestion_params,
)
from cocoa_threat.sources import download_smallminesds, read_published_splits

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


# --------------------------------------------------------------------------- #
# Source and discovery
# --------------------------------------------------------------------------- #
def _resolve_root(p: IngestionParams) -> Path:
    if p.source == "synthetic":
        return generate_demo_region(p.synthetic)
    if p.source == "local":
        root = Path(p.local_path or "")
        if not root.is_dir():
            raise FileNotFoundError(
                f"ingestion.local_path {root} is not a folder; download SmallMinesDS "
                f"and point ingestion.local_path at the folder holding "
                f"{'/'.join(['<year>', p.files.image_dir])}"
            )
        return root
    hf = p.huggingface
    return download_smallminesds(
        repo_id=hf.repo_id,
        revision=hf.revision,
        cache_dir=hf.cache_dir,
        extract_dir=hf.extract_dir,
        years=p.years,
        image_dir=p.files.image_dir,
        repo_type=hf.repo_type,
    )


def _index_folder(folder: Path, pattern: str, year: int) -> tuple[dict[str, Path], list[str]]:
    """Map tile id -> file for one folder; return names that don't fit as problems."""
    regex = re.compile(pattern)
    found: dict[str, Path] = {}
    problems = []
    for path in sorted(folder.glob("*.tif")):
        match = regex.match(path.name)
        if not match:
            problems.append(f"{path}: name does not match {pattern!r}")
        elif int(match["year"]) != year:
            problems.append(f"{path}: year {match['year']} in the name, but it is in {year}/")
        else:
            found[match["tile"]] = path
    return found, problems


def discover_tiles(root: Path, p: IngestionParams) -> pd.DataFrame:
    """Pair images and masks per year by tile id.

    Args:
        root: Folder holding ``<year>/<image_dir>`` and ``<year>/<mask_dir>``.
        p: Ingestion parameters.

    Returns:
        One row per paired tile and year: year, tile_id, image_path, mask_path.

    Raises:
        DataValidationError: If a year folder is missing or nothing pairs up.
    """
    rows = []
    missing: list[str] = []
    orphans: list[str] = []
    for year in p.years:
        img_dir = root / str(year) / p.files.image_dir
        msk_dir = root / str(year) / p.files.mask_dir
        absent = [str(d) for d in (img_dir, msk_dir) if not d.is_dir()]
        if absent:
            missing.extend(f"{d}: folder missing" for d in absent)
            continue
        images, bad_img = _index_folder(img_dir, p.files.image_pattern, year)
        masks, bad_msk = _index_folder(msk_dir, p.files.mask_pattern, year)
        for name in bad_img + bad_msk:
            logger.warning("Ignoring %s", name)
        for tile in sorted(set(images) - set(masks)):
            orphans.append(f"{images[tile]}: image without a mask in {msk_dir}")
        for tile in sorted(set(masks) - set(images)):
            orphans.append(f"{masks[tile]}: mask without an image in {img_dir}")
        for tile in sorted(set(images) & set(masks)):
            rows.append(
                {
                    "year": year,
                    "tile_id": tile,
                    "image_path": str(images[tile]),
                    "mask_path": str(masks[tile]),
                }
            )
    if missing:
        raise DataValidationError(
            f"The dataset at {root} does not have the SmallMinesDS layout "
            f"(check ingestion.source, ingestion.local_path, ingestion.years)",
            missing,
        )
    if orphans and p.files.on_orphan == "error":
        raise DataValidationError(
            "Unpaired tiles (add the missing files, or set "
            "ingestion.files.on_orphan: skip to leave them out); nothing was written",
            orphans,
        )
    if orphans:
        logger.warning("Leaving out %d unpaired file(s): %s", len(orphans), "; ".join(orphans))
    if not rows:
        raise DataValidationError(
            f"No image/mask pairs found under {root}",
            [f"check ingestion.files patterns and ingestion.years {p.years}"],
        )
    return pd.DataFrame(rows)


def acquire_raw_tiles(params: dict[str, Any]) -> pd.DataFrame:
    """Get the raw dataset (demo, local folder or Hub) and index its tile pairs.

    Args:
        params: The ``ingestion`` parameters.

    Returns:
        ``raw_tile_index``: year, tile_id, image_path, mask_path.
    """
    p = ingestion_params(params)
    root = _resolve_root(p)
    index = discover_tiles(root, p)
    logger.info(
        "Found %d tile pairs under %s (%s)",
        len(index),
        root,
        ", ".join(f"{y}: {n}" for y, n in index.groupby("year").size().items()),
    )
    return index


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #
def _check_mask_values(mask: np.ndarray, p: IngestionParams) -> str | None:
    nodata = p.raster.mask_nodata
    if p.labels.mask_format == "mining_cocoa":
        mining = mask[0]
        bad = np.unique(mining[~np.isin(mining, (0, 1, nodata))])
        if bad.size:
            return f"mining band (1) has values {bad[:5].tolist()} outside 0/1/{nodata:g}"
        prob = mask[1]
        out = ~((prob >= 0) & (prob <= 1)) & (prob != nodata)
        if out.any():
            return (
                f"cocoa probability band (2) has {int(out.sum())} values outside 0..1 "
                f"(e.g. {float(prob[out][0]):g})"
            )
        return None
    allowed = [*p.labels.class_values, nodata]
    bad = np.unique(mask[0][~np.isin(mask[0], allowed)])
    if bad.size:
        return f"class mask has values {bad[:5].tolist()} not in ingestion.labels.class_values"
    return None


def _inspect_pair(row: dict[str, Any], p: IngestionParams) -> tuple[dict[str, Any], list[str]]:
    """Read one image/mask pair's headers and mask; return facts and problems."""
    problems: list[str] = []
    spec = p.raster
    img_path, msk_path = row["image_path"], row["mask_path"]
    try:
        img = read_header(img_path)
    except Exception as exc:
        return row, [f"{img_path}: cannot be read ({exc}); re-download or remove it"]
    n_bands = len(spec.band_names)
    if img.count != n_bands:
        problems.append(
            f"{img_path}: has {img.count} bands, expected {n_bands} (ingestion.raster.band_names)"
        )
    if not np.issubdtype(np.dtype(img.dtype), np.floating):
        problems.append(f"{img_path}: dtype {img.dtype}, expected a float type")
    if not np.allclose(img.res, spec.pixel_size):
        problems.append(
            f"{img_path}: pixel size {img.res}, expected {spec.pixel_size} "
            f"(ingestion.raster.pixel_size)"
        )
    if img.nodata is not None and img.nodata != spec.image_nodata:
        problems.append(
            f"{img_path}: nodata {img.nodata}, expected {spec.image_nodata} "
            f"(ingestion.raster.image_nodata)"
        )
    if img.crs is None:
        problems.append(f"{img_path}: has no CRS")
    if img.width > spec.tile_size or img.height > spec.tile_size:
        problems.append(
            f"{img_path}: {img.width} x {img.height} px is larger than "
            f"ingestion.raster.tile_size {spec.tile_size}"
        )
    mining_fraction = np.nan
    try:
        mask = read_raster(msk_path)
    except Exception as exc:
        problems.append(f"{msk_path}: cannot be read ({exc}); re-download or remove it")
    else:
        want = 2 if p.labels.mask_format == "mining_cocoa" else 1
        if mask.data.shape[0] != want:
            problems.append(
                f"{msk_path}: has {mask.data.shape[0]} bands, expected {want} "
                f"for ingestion.labels.mask_format {p.labels.mask_format}"
            )
        elif mask.shape != (img.height, img.width) or not np.allclose(
            tuple(mask.transform)[:6], img.transform, atol=1e-6
        ):
            problems.append(f"{msk_path}: grid differs from its image {img_path}")
        elif (msg := _check_mask_values(mask.data, p)) is not None:
            problems.append(f"{msk_path}: {msg}")
        elif p.labels.mask_format == "mining_cocoa":
            mining_fraction = float(np.mean(mask.data[0] == 1))
        else:
            mining_codes = [k for k, v in p.labels.class_values.items() if v == 1]
            mining_fraction = float(np.isin(mask.data[0], mining_codes).mean())
    facts = {
        **row,
        "width": img.width,
        "height": img.height,
        "crs": img.crs,
        "minx": img.bounds[0],
        "miny": img.bounds[1],
        "maxx": img.bounds[2],
        "maxy": img.bounds[3],
        "raw_mining_fraction": mining_fraction,
    }
    return facts, problems


def validate_raw_tiles(raw_tile_index: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Check every raw file and fail once with the full list of bad files.

    Checks: readable, band count, float dtype, pixel size, nodata, one CRS for
    all tiles (or ``ingestion.raster.crs``), tile size, mask bands, grid and
    values.

    Args:
        raw_tile_index: Output of :func:`acquire_raw_tiles`.
        params: The ``ingestion`` parameters.

    Returns:
        ``raw_tile_inventory``: the index plus size, CRS, bounds and the raw
        mining fraction of every tile.

    Raises:
        DataValidationError: Listing every bad file and what is wrong with it.
    """
    p = ingestion_params(params)
    rows = raw_tile_index.to_dict("records")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda r: _inspect_pair(r, p), rows))
    problems = [msg for _, probs in results for msg in probs]
    facts = pd.DataFrame([f for f, _ in results])
    if "crs" in facts:
        crs_ok = facts["crs"].notna()
        if p.raster.crs is not None:
            expected = CRS.from_user_input(p.raster.crs).to_string()
            source = "ingestion.raster.crs"
        elif crs_ok.any():
            expected = Counter(facts.loc[crs_ok, "crs"]).most_common(1)[0][0]
            source = "the other tiles"
        else:
            expected = None
        if expected is not None:
            for _, r in facts[crs_ok & (facts["crs"] != expected)].iterrows():
                problems.append(
                    f"{r['image_path']}: CRS {r['crs']} differs from {expected} of {source}; "
                    f"reproject it or remove it"
                )
    if problems:
        raise DataValidationError("Raw tiles failed validation; nothing was written", problems)
    logger.info("Validated %d tile pairs: all readable and consistent", len(facts))
    return facts


# --------------------------------------------------------------------------- #
# Splits
# --------------------------------------------------------------------------- #
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


def _blocked_splits(inventory: pd.DataFrame, p: IngestionParams) -> pd.DataFrame:
    tiles = inventory.groupby("tile_id").agg(
        minx=("minx", "first"),
        maxy=("maxy", "first"),
        mining=("raw_mining_fraction", "mean"),
    )
    block_len = p.split.block_size * p.raster.tile_size * p.raster.pixel_size
    x0, y0 = tiles["minx"].min(), tiles["maxy"].max()
    # Half a pixel of slack so edge tiles' rounding never moves them to another block.
    bx = np.floor((tiles["minx"] - x0 + p.raster.pixel_size / 2) / block_len).astype(int)
    by = np.floor((y0 - tiles["maxy"] + p.raster.pixel_size / 2) / block_len).astype(int)
    tiles["block"] = by.astype(str) + "_" + bx.astype(str)
    blocks = tiles.groupby("block")["mining"].mean()
    split_of_block = dict(
        zip(
            blocks.index,
            allocate_blocks(blocks.to_numpy(), p.split.fractions, p.split.seed),
            strict=True,
        )
    )
    tiles["split"] = tiles["block"].map(split_of_block)
    out = inventory[["tile_id", "year"]].merge(
        tiles[["block", "split"]], left_on="tile_id", right_index=True
    )
    return out


def _published_splits(inventory: pd.DataFrame, p: IngestionParams) -> pd.DataFrame:
    published = read_published_splits(p.split.published_csv, p.files.mask_pattern)
    out = inventory[["tile_id", "year"]].merge(published, on=["tile_id", "year"], how="left")
    missing = out["split"].isna()
    if missing.any():
        raise DataValidationError(
            "Tiles missing from the published split CSVs (ingestion.split.published_csv)",
            [f"tile {r.tile_id}, year {r.year}" for r in out[missing].itertuples()],
        )
    # The published files have no validation split: carve one from train by tile.
    rng = np.random.default_rng(p.split.seed)
    train_tiles = sorted(out.loc[out["split"] == "train", "tile_id"].unique())
    val_share = p.split.fractions["val"] / (p.split.fractions["train"] + p.split.fractions["val"])
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


def assign_splits(raw_tile_inventory: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Split tiles into train/val/test, the same split for a tile in every year.

    With ``ingestion.split.method: blocked`` whole blocks of k x k neighbouring
    tiles go to one split, stratified by mining fraction; with ``published``
    the study's per-year CSVs are used (with a warning: they leak across years).

    Args:
        raw_tile_inventory: Output of :func:`validate_raw_tiles`.
        params: The ``ingestion`` parameters.

    Returns:
        ``tile_splits``: tile_id, year, block, split.
    """
    p = ingestion_params(params)
    if p.split.method == "published":
        out = _published_splits(raw_tile_inventory, p)
    else:
        out = _blocked_splits(raw_tile_inventory, p)
    counts = out.drop_duplicates("tile_id")["split"].value_counts()
    logger.info(
        "Split %d tiles (%s blocks): %s",
        out["tile_id"].nunique(),
        out["block"].nunique(),
        ", ".join(f"{s} {counts.get(s, 0)}" for s in SPLITS),
    )
    return out.sort_values(["year", "tile_id"]).reset_index(drop=True)


# --------------------------------------------------------------------------- #
# Labels and model input
# --------------------------------------------------------------------------- #
def build_labels(
    mask: np.ndarray, image_valid: np.ndarray, labels: LabelSpec, mask_nodata: float
) -> np.ndarray:
    """Build 3-class labels (0 background, 1 mining, 2 cocoa, ignore = no label).

    Args:
        mask: (bands, rows, cols) mask. ``mining_cocoa``: band 1 mining 0/1,
            band 2 cocoa probability 0..1; ``class_map``: one band of values
            mapped by ``labels.class_values``.
        image_valid: Boolean (rows, cols), False where the image has no data.
        labels: Label parameters.
        mask_nodata: The mask's nodata value.

    Returns:
        uint8 (rows, cols) labels.
    """
    out = np.zeros(mask.shape[1:], dtype=np.uint8)
    if labels.mask_format == "mining_cocoa":
        mining, prob = mask[0], mask[1]
        out[prob >= labels.cocoa_threshold] = 2
        out[mining == 1] = 1  # mining overrides cocoa
        no_label = (mining == mask_nodata) | (prob == mask_nodata) | ~np.isfinite(prob)
    else:
        out[:] = labels.ignore_index
        for raw, cls in labels.class_values.items():
            out[mask[0] == raw] = cls
        no_label = mask[0] == mask_nodata
    out[no_label | ~image_valid] = labels.ignore_index
    return out


def _prepare_tile(
    row: dict[str, Any], p: IngestionParams, band_idx: list[int]
) -> tuple[Raster, Raster, dict[str, Any]] | None:
    spec = p.raster
    image = read_raster(row["image_path"], bands=[i + 1 for i in band_idx])
    mask = read_raster(row["mask_path"])
    data = image.data.astype(np.float32, copy=False)
    valid = np.all(np.isfinite(data) & (data != spec.image_nodata), axis=0)
    labels = build_labels(mask.data, valid, p.labels, spec.mask_nodata)
    rows, cols = labels.shape
    is_edge = (rows, cols) != (spec.tile_size, spec.tile_size)
    if is_edge and spec.edge_tiles == "skip":
        return None
    n_valid = max(int((labels != p.labels.ignore_index).sum()), 1)
    stats = {
        "nodata_fraction": float(1.0 - valid.mean()),
        **{
            f"fraction_{name}": float((labels == code).sum() / n_valid)
            for code, name in enumerate(p.labels.classes)
        },
        "labelled_fraction": float((labels != p.labels.ignore_index).mean()),
        "edge_tile": is_edge,
    }
    if is_edge and spec.edge_tiles == "pad":
        data = pad_to(data, (spec.tile_size, spec.tile_size), spec.image_nodata)
        labels = pad_to(labels, (spec.tile_size, spec.tile_size), p.labels.ignore_index)
    data = np.where(np.isfinite(data), data, np.float32(spec.image_nodata))
    img = Raster(data, image.transform, image.crs, spec.image_nodata, list(p.bands))
    lbl = Raster(labels[None], image.transform, image.crs, p.labels.ignore_index, ["class"])
    stats["width"], stats["height"] = int(labels.shape[1]), int(labels.shape[0])
    return img, lbl, stats


def build_model_input(
    raw_tile_inventory: pd.DataFrame, tile_splits: pd.DataFrame, params: dict[str, Any]
) -> tuple[dict[str, Raster], pd.DataFrame]:
    """Select bands, build labels, handle edge tiles and lay out the model input.

    The output is one folder per split with ``<tile>_<year>_img.tif`` (selected
    bands, float32, image nodata kept) and ``<tile>_<year>_lbl.tif`` (uint8
    classes, nodata = ignore index), georeferenced, which TerraTorch's
    ``GenericNonGeoSegmentationDataModule`` reads with ``img_grep: "*_img.tif"``
    and ``label_grep: "*_lbl.tif"``.

    Args:
        raw_tile_inventory: Output of :func:`validate_raw_tiles`.
        tile_splits: Output of :func:`assign_splits`.
        params: The ``ingestion`` parameters.

    Returns:
        ``model_input`` partitions (``<split>/<sample>_img|_lbl`` -> Raster) and
        the ``tile_manifest`` table.
    """
    p = ingestion_params(params)
    band_idx = p.band_indices()
    rows = raw_tile_inventory.merge(tile_splits, on=["tile_id", "year"]).to_dict("records")
    with ThreadPoolExecutor(max_workers=4) as pool:
        prepared = list(pool.map(lambda r: _prepare_tile(r, p, band_idx), rows))
    partitions: dict[str, Raster] = {}
    manifest = []
    root = Path(p.model_input_dir)
    skipped = 0
    for row, result in zip(rows, prepared, strict=True):
        if result is None:
            skipped += 1
            continue
        img, lbl, stats = result
        sample = f"{row['tile_id']}_{row['year']}"
        key = f"{row['split']}/{sample}"
        partitions[f"{key}_img"] = img
        partitions[f"{key}_lbl"] = lbl
        manifest.append(
            {
                "tile_id": row["tile_id"],
                "year": row["year"],
                "split": row["split"],
                "block": row["block"],
                "sample": sample,
                **stats,
                "minx": row["minx"],
                "miny": row["miny"],
                "maxx": row["maxx"],
                "maxy": row["maxy"],
                "crs": row["crs"],
                "image_path": (root / f"{key}_img.tif").as_posix(),
                "label_path": (root / f"{key}_lbl.tif").as_posix(),
                "raw_image_path": row["image_path"],
                "raw_mask_path": row["mask_path"],
            }
        )
    if skipped:
        logger.info("Skipped %d edge tile(s) (ingestion.raster.edge_tiles: skip)", skipped)
    table = pd.DataFrame(manifest).sort_values(["year", "tile_id"]).reset_index(drop=True)
    for year, grp in table.groupby("year"):
        w = grp["labelled_fraction"] * grp["width"] * grp["height"]
        fr = {c: float(np.average(grp[f"fraction_{c}"], weights=w)) for c in p.labels.classes}
        logger.info(
            "%s: %d tiles, class fractions %s",
            year,
            len(grp),
            ", ".join(f"{c} {100 * v:.1f}%" for c, v in fr.items()),
        )
    return partitions, table


def compute_band_stats(
    model_input: dict[str, Callable[[], Raster]],
    tile_manifest: pd.DataFrame,
    params: dict[str, Any],
) -> dict[str, Any]:
    """Per-band mean and standard deviation over the training split only.

    Nodata pixels are left out. The statistics are used to normalise every split.

    Args:
        model_input: The model input partitions (loaded lazily by the catalog).
        tile_manifest: Output of :func:`build_model_input`.
        params: The ``ingestion`` parameters.

    Returns:
        ``band_stats``: bands, means, stds, n_pixels, n_tiles.
    """
    p = ingestion_params(params)
    train = tile_manifest[tile_manifest["split"] == "train"]
    n_bands = len(p.bands)
    total = np.zeros(n_bands)
    total_sq = np.zeros(n_bands)
    count = np.zeros(n_bands)
    for sample in train["sample"]:
        key = f"train/{sample}_img"
        if key not in model_input:
            raise KeyError(f"model_input has no partition {key}; re-run the ingestion pipeline")
        data = model_input[key]().data.astype(np.float64)
        valid = np.isfinite(data) & (data != p.raster.image_nodata)
        x = np.where(valid, data, 0.0)
        total += x.sum(axis=(1, 2))
        total_sq += (x**2).sum(axis=(1, 2))
        count += valid.sum(axis=(1, 2))
    if (count == 0).any():
        raise ValueError("The training split has no valid pixels; check the input data")
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    logger.info(
        "Band statistics from %d training tiles: %s",
        len(train),
        ", ".join(f"{b} {m:.0f}+/-{s:.0f}" for b, m, s in zip(p.bands, mean, std, strict=True)),
    )
    return {
        "bands": list(p.bands),
        "means": mean.round(6).tolist(),
        "stds": std.round(6).tolist(),
        "n_pixels": int(count.min()),
        "n_tiles": len(train),
        "split": "train",
    }
