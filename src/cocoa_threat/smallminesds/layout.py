"""Pairing images and masks of the SmallMinesDS layout (``<year>/IMAGE``, ``<year>/MASK``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from cocoa_threat.errors import DataValidationError
from cocoa_threat.params.ingestion import FileNaming

logger = logging.getLogger(__name__)


# (prefix, year, tile id) -> {image_dir or mask_dir: partition key}
_TileFiles = dict[tuple[str, int, str], dict[str, str]]


def index_tiles(
    keys: Iterable[str], years: list[int], naming: FileNaming, root: str = ""
) -> pd.DataFrame:
    """Pair images and masks per year by tile id.

    Args:
        keys: Partition keys of the raw tiles (paths under the raw folder,
            without ``.tif``), e.g. ``2016/IMAGE/IMG_GH_1746_2016``; a common
            leading folder (an unpacked archive's) is allowed.
        years: The years to use.
        naming: Folder names and file-name patterns.
        root: The raw folder, for messages.

    Returns:
        One row per paired tile and year: year, tile_id, image_key, mask_key.

    Raises:
        DataValidationError: If a year folder is missing, the layout is
            ambiguous, files are unpaired (``on_orphan: error``) or nothing pairs.
    """
    found, prefixes, ignored = _scan_keys(keys, years, naming)
    for problem in ignored:
        logger.warning("Ignoring %s", problem)
    _check_layout(found, prefixes, years, naming, root)
    rows, orphans = _pair_files(found, naming, root)
    if orphans and naming.on_orphan == "error":
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
            [f"check ingestion.files patterns and ingestion.years {years}"],
        )
    return pd.DataFrame(rows)


def _scan_keys(
    keys: Iterable[str], years: list[int], naming: FileNaming
) -> tuple[_TileFiles, set[str], list[str]]:
    """Sort the keys of ``<prefix>/<year>/<IMAGE|MASK>/<name>`` files of ``years`` by tile.

    Keys elsewhere are skipped silently; files in the right folders whose
    names do not match the patterns (or name another year) are ignored with
    a reason.

    Returns:
        ``(found, prefixes, ignored)``: the files by (prefix, year, tile id),
        the leading folders seen and the reasons for the ignored files.
    """
    img_re, msk_re = re.compile(naming.image_pattern), re.compile(naming.mask_pattern)
    found: _TileFiles = {}
    prefixes: set[str] = set()
    ignored: list[str] = []
    for key in sorted(keys):
        parts = key.split("/")
        if len(parts) < 3 or parts[-2] not in (naming.image_dir, naming.mask_dir):
            continue
        if not parts[-3].isdigit() or int(parts[-3]) not in years:
            continue
        prefix, year, kind = "/".join(parts[:-3]), int(parts[-3]), parts[-2]
        name = parts[-1] + ".tif"
        match = (img_re if kind == naming.image_dir else msk_re).match(name)
        if not match:
            ignored.append(f"{key}.tif: name does not match ingestion.files pattern")
            continue
        if int(match["year"]) != year:
            ignored.append(f"{key}.tif: year {match['year']} in the name, but it is in {year}/")
            continue
        prefixes.add(prefix)
        found.setdefault((prefix, year, match["tile"]), {})[kind] = key
    return found, prefixes, ignored


def _check_layout(
    found: _TileFiles, prefixes: set[str], years: list[int], naming: FileNaming, root: str
) -> None:
    """Stop unless the files sit in one SmallMinesDS folder with both folders of every year.

    Raises:
        DataValidationError: Several leading folders, or a year's image or
            mask folder missing or empty.
    """
    if len(prefixes) > 1:
        raise DataValidationError(
            f"The raw tiles under {root} hold several SmallMinesDS folders; point the "
            f"raw_tiles path (globals: raw.tiles) at one of them",
            sorted(f"{root}/{p}" for p in prefixes),
        )
    missing = [
        f"{root}/{y}/{d}: folder missing or empty"
        for y in years
        for d in (naming.image_dir, naming.mask_dir)
        if not any(yy == y and d in pair for (_, yy, _), pair in found.items())
    ]
    if missing:
        raise DataValidationError(
            f"The raw tiles at {root} do not have the SmallMinesDS layout for every year "
            f"(check the raw_tiles path, ingestion.years and ingestion.files)",
            missing,
        )


def _pair_files(
    found: _TileFiles, naming: FileNaming, root: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Image/mask pairs (index rows, by year and tile) and the unpaired files (messages)."""
    rows, orphans = [], []
    for (_, year, tile), pair in sorted(found.items()):
        if naming.image_dir in pair and naming.mask_dir in pair:
            rows.append(
                {
                    "year": year,
                    "tile_id": tile,
                    "image_key": pair[naming.image_dir],
                    "mask_key": pair[naming.mask_dir],
                }
            )
        elif naming.image_dir in pair:
            orphans.append(f"{root}/{pair[naming.image_dir]}.tif: image without a mask")
        else:
            orphans.append(f"{root}/{pair[naming.mask_dir]}.tif: mask without an image")
    return rows, orphans
