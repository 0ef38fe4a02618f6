"""Checks of the raw tiles: every problem of every file, found before anything is written."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from rasterio.crs import CRS

from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params.ingestion import LabelSpec, RasterSpec

MASK_BANDS = {"mining": 1, "mining_cocoa": 2, "class_map": 1}


def mask_nodata(mask: RasterSource, spec: RasterSpec) -> float:
    """The mask's nodata: from the file, else ``ingestion.raster.mask_nodata``."""
    return spec.mask_nodata if mask.nodata is None else float(mask.nodata)


def _band_count_problem(n: int, labels: LabelSpec) -> str | None:
    want = MASK_BANDS[labels.mask_format]
    if n == want:
        return None
    if labels.mask_format == "mining" and n == 2:
        return (
            "has 2 bands (a mining + cocoa-probability mask, as the study's code read), "
            "but ingestion.labels.mask_format is mining (1 band, as released); set "
            "mask_format: mining_cocoa and ingestion.labels.cocoa.source: mask_band"
        )
    if labels.mask_format == "mining_cocoa" and n == 1:
        return (
            "has 1 band (mining only, as SmallMinesDS is released), but "
            "ingestion.labels.mask_format is mining_cocoa; set mask_format: mining and take "
            "cocoa from a layer (ingestion.labels.cocoa.source: raster)"
        )
    return f"has {n} bands, expected {want} for ingestion.labels.mask_format {labels.mask_format}"


def mask_value_problem(mask: np.ndarray, nodata: float, labels: LabelSpec) -> str | None:
    """What is wrong with a mask's values, or None."""
    if labels.mask_format == "class_map":
        allowed = [*labels.class_values, nodata]
        bad = np.unique(mask[0][~np.isin(mask[0], allowed)])
        if bad.size:
            return f"class mask has values {bad[:5].tolist()} not in ingestion.labels.class_values"
        return None
    mining = mask[0]
    bad = np.unique(mining[~np.isin(mining, (0, 1, nodata))])
    if bad.size:
        return (
            f"mining band (1) has values {bad[:5].tolist()} outside 0/1/{nodata:g} "
            f"(mining 1, not mining 0, nodata {nodata:g})"
        )
    if labels.mask_format == "mining_cocoa":
        prob = mask[1]
        out = ~((prob >= 0) & (prob <= 1)) & (prob != nodata)
        if out.any():
            return (
                f"cocoa probability band (2) has {int(out.sum())} values outside 0..1 "
                f"(e.g. {float(prob[out][0]):g})"
            )
    return None


def _image_problems(img: RasterSource, spec: RasterSpec, name: str) -> list[str]:
    """What is wrong with an image's header (bands, dtype, pixel size, nodata, CRS, size)."""
    problems: list[str] = []
    n_bands = len(spec.band_names)
    if img.count != n_bands:
        problems.append(
            f"{name}: has {img.count} bands, expected {n_bands} (ingestion.raster.band_names)"
        )
    if not np.issubdtype(np.dtype(img.dtype), np.floating):
        problems.append(f"{name}: dtype {img.dtype}, expected a float type")
    res = (abs(img.grid.transform[0]), abs(img.grid.transform[4]))
    if not np.allclose(res, spec.pixel_size):
        problems.append(
            f"{name}: pixel size {res}, expected {spec.pixel_size} (ingestion.raster.pixel_size)"
        )
    if img.nodata is not None and img.nodata != spec.image_nodata:
        problems.append(
            f"{name}: nodata {img.nodata}, expected {spec.image_nodata} "
            f"(ingestion.raster.image_nodata)"
        )
    if not img.grid.crs:
        problems.append(f"{name}: has no CRS")
    if img.grid.width > spec.tile_size or img.grid.height > spec.tile_size:
        problems.append(
            f"{name}: {img.grid.width} x {img.grid.height} px is larger than "
            f"ingestion.raster.tile_size {spec.tile_size}"
        )
    return problems


def _mining_fraction(mask: np.ndarray, labels: LabelSpec) -> float:
    """Share of a (valid) mask's pixels that are mining."""
    if labels.mask_format == "class_map":
        mining_codes = [k for k, v in labels.class_values.items() if v == 1]
        return float(np.isin(mask[0], mining_codes).mean())
    return float(np.mean(mask[0] == 1))


def _inspect_mask(
    mask_loader: Callable[[], RasterSource],
    img: RasterSource,
    spec: RasterSpec,
    labels: LabelSpec,
    names: tuple[str, str],
) -> tuple[float, str | None]:
    """Read a mask and check it against its image: its first problem, if any.

    Args:
        mask_loader: Opens the mask.
        img: Its image.
        spec: What tiles must look like.
        labels: How labels are built (the mask format).
        names: The image's and the mask's paths, for messages.

    Returns:
        ``(mining_fraction, problem)``: the mask's mining share (NaN unless
        the mask is fine) and what is wrong with it (None when nothing is).
    """
    img_name, msk_name = names
    try:
        mask_src = mask_loader()
        mask = mask_src.read()
    except Exception as exc:
        return np.nan, f"{msk_name}: cannot be read ({exc}); re-download or remove it"
    nodata = mask_nodata(mask_src, spec)
    if (msg := _band_count_problem(mask.shape[0], labels)) is not None:
        return np.nan, f"{msk_name}: {msg}"
    if (mask_src.grid.width, mask_src.grid.height) != (
        img.grid.width,
        img.grid.height,
    ) or not np.allclose(mask_src.grid.transform, img.grid.transform, atol=1e-6):
        return np.nan, f"{msk_name}: grid differs from its image {img_name}"
    if (msg := mask_value_problem(mask, nodata, labels)) is not None:
        return np.nan, f"{msk_name}: {msg}"
    return _mining_fraction(mask, labels), None


def inspect_pair(
    row: dict[str, Any],
    image_loader: Callable[[], RasterSource],
    mask_loader: Callable[[], RasterSource],
    spec: RasterSpec,
    labels: LabelSpec,
    where: Callable[[str], str],
) -> tuple[dict[str, Any], list[str]]:
    """Read one image/mask pair's headers and mask; return facts and problems.

    Args:
        row: The tile index row (year, tile_id, image_key, mask_key).
        image_loader: Opens the image (catalog partition loader).
        mask_loader: Opens the mask.
        spec: What tiles must look like.
        labels: How labels are built (the mask format).
        where: Turns a partition key into a path for messages.
    """
    img_name, msk_name = where(row["image_key"]), where(row["mask_key"])
    try:
        img = image_loader()
    except Exception as exc:
        return row, [f"{img_name}: cannot be read ({exc}); re-download or remove it"]
    problems = _image_problems(img, spec, img_name)
    mining_fraction, problem = _inspect_mask(mask_loader, img, spec, labels, (img_name, msk_name))
    if problem is not None:
        problems.append(problem)
    minx, miny, maxx, maxy = img.grid.bounds
    facts = {
        **row,
        "width": img.grid.width,
        "height": img.grid.height,
        "crs": img.grid.crs or None,
        "minx": minx,
        "miny": miny,
        "maxx": maxx,
        "maxy": maxy,
        "raw_mining_fraction": mining_fraction,
    }
    return facts, problems


def inspect_tiles(
    index: pd.DataFrame,
    loaders: dict[str, Callable[[], RasterSource]],
    spec: RasterSpec,
    labels: LabelSpec,
    where: Callable[[str], str],
    workers: int = 4,
) -> tuple[pd.DataFrame, list[str]]:
    """Inspect every pair (in threads) and check that all tiles share one CRS.

    Returns:
        The facts of every tile and the list of problems (empty if all is well).
    """
    rows = index.to_dict("records")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(
            pool.map(
                lambda r: inspect_pair(
                    r, loaders[r["image_key"]], loaders[r["mask_key"]], spec, labels, where
                ),
                rows,
            )
        )
    problems = [msg for _, probs in results for msg in probs]
    facts = pd.DataFrame([f for f, _ in results])
    if "crs" in facts:
        crs_ok = facts["crs"].notna()
        if spec.crs is not None:
            expected = CRS.from_user_input(spec.crs).to_string()
            source = "ingestion.raster.crs"
        elif crs_ok.any():
            expected = Counter(facts.loc[crs_ok, "crs"]).most_common(1)[0][0]
            source = "the other tiles"
        else:
            expected = None
        if expected is not None:
            for _, r in facts[crs_ok & (facts["crs"] != expected)].iterrows():
                problems.append(
                    f"{where(r['image_key'])}: CRS {r['crs']} differs from {expected} of "
                    f"{source}; reproject it or remove it"
                )
    return facts, problems
