"""The download cache: only the window of each asset under the area, kept for re-runs.

Every asset a composite needs is read once, window by window, from where its
item points (a URL, signed if the catalog wants it, or a local path) and kept
as a tiled GeoTIFF in ``<cache>/assets/<item>/``, in the asset's own CRS and
pixels (nothing is resampled here). Items are then pointed at their cached
files, so odc-stac reads only local files and a re-run fetches nothing. Local
GeoTIFFs are read in place unless ``imagery.cache.local_assets`` is ``cache``.
Each cached file is written under a temporary name and moved into place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pystac
import rasterio
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from tqdm.auto import tqdm

from cocoa_threat.geo.grid import GridSpec

logger = logging.getLogger(__name__)

Signer = Callable[[str], str]
REMOTE = ("http://", "https://", "s3://", "gs://", "az://", "/vsi")


def is_local(href: str) -> bool:
    """Whether an asset lies on this machine."""
    return href.startswith("file://") or not href.startswith(REMOTE)


def make_signer(kind: str | None) -> Signer | None:
    """A function that signs asset URLs for the catalog (``planetary_computer``), or None.

    Raises:
        ImportError: If the ``planetary-computer`` package is missing.
    """
    if kind in (None, "none"):
        return None
    try:
        import planetary_computer
    except ImportError as exc:
        raise ImportError(
            "imagery.signing: planetary_computer needs the planetary-computer package: "
            "pip install planetary-computer==1.0.0"
        ) from exc
    return planetary_computer.sign_url


def _window(src: rasterio.io.DatasetReader, grid: GridSpec, margin: int = 2) -> Window | None:
    """The window of ``src`` under the grid (with a margin for resampling), or None."""
    left, bottom, right, top = transform_bounds(grid.crs, src.crs, *grid.bounds, densify_pts=21)
    inv = ~src.transform
    cols, rows = zip(*(inv * (x, y) for x in (left, right) for y in (bottom, top)), strict=True)
    c0, c1 = (
        max(int(np.floor(min(cols))) - margin, 0),
        min(int(np.ceil(max(cols))) + margin, src.width),
    )
    r0, r1 = (
        max(int(np.floor(min(rows))) - margin, 0),
        min(int(np.ceil(max(rows))) + margin, src.height),
    )
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def _copy_window(src: rasterio.io.DatasetReader, window: Window, path: Path, rows: int) -> None:
    """Write ``window`` of ``src`` to ``path`` strip by strip (temporary name, then moved)."""
    profile = {
        "driver": "GTiff",
        "width": int(window.width),
        "height": int(window.height),
        "count": src.count,
        "dtype": src.dtypes[0],
        "crs": src.crs,
        "transform": src.window_transform(window),
        "nodata": src.nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".tif", dir=path.parent, prefix=f".{path.stem}.partial-")
    os.close(fd)
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            for r in range(0, int(window.height), rows):
                h = min(rows, int(window.height) - r)
                strip = Window(window.col_off, window.row_off + r, window.width, h)
                dst.write(src.read(window=strip), window=Window(0, r, window.width, h))
            dst.update_tags(source=str(src.name))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_asset(
    href: str, grid: GridSpec, folder: Path, key: str, signer: Signer | None, strip_rows: int = 512
) -> Path | None:
    """The cached window of one asset under ``grid`` (fetched if not cached yet).

    The cache entry is named after the asset and the grid, so a re-run finds it
    without opening the asset; an asset that does not reach the grid leaves an
    empty ``.none`` marker, so it is not opened again either.

    Returns:
        The local file, or None if the asset does not reach the grid.
    """
    where = f"{href}|{grid.crs}|{grid.transform}|{grid.width}x{grid.height}"
    path = folder / f"{key}-{hashlib.sha256(where.encode()).hexdigest()[:16]}.tif"
    marker = path.with_suffix(".none")
    if path.is_file():
        return path
    if marker.is_file():
        return None
    with rasterio.open(signer(href) if signer else href) as src:
        window = _window(src, grid)
        if window is None:
            folder.mkdir(parents=True, exist_ok=True)
            marker.touch()
            return None
        _copy_window(src, window, path, strip_rows)
    return path


def _point_at(asset: pystac.Asset, path: Path) -> None:
    """Point an asset at its cached file, with the file's own grid as ``proj:`` metadata."""
    with rasterio.open(path) as src:
        asset.href = str(path)
        asset.extra_fields["proj:shape"] = [src.height, src.width]
        asset.extra_fields["proj:transform"] = list(src.transform)[:6]


def localise_items(
    items: list[pystac.Item],
    assets: list[str],
    grid: GridSpec,
    cache_dir: Path,
    local_assets: str = "read",
    signer: Signer | None = None,
    progress: bool = True,
) -> list[pystac.Item]:
    """Copies of ``items`` whose ``assets`` are local files (cached windows where needed).

    Items none of whose assets reach the grid are left out.

    Raises:
        KeyError: If an item lacks one of ``assets`` (naming the item and what it has).
    """
    out = []
    with tqdm(
        total=len(items) * len(assets), desc="fetch assets", unit="asset", disable=not progress
    ) as bar:
        for item in items:
            missing = [a for a in assets if a not in item.assets]
            if missing:
                raise KeyError(
                    f"Item {item.id} has no asset {missing} (it has {sorted(item.assets)}); "
                    f"set imagery.assets / imagery.scl_asset / imagery.dem.asset to its keys"
                )
            local = item.clone()
            reached = True
            for key in assets:
                href = item.assets[key].get_absolute_href() or item.assets[key].href
                bar.update(1)
                if is_local(href) and local_assets == "read":
                    local.assets[key].href = href.removeprefix("file://")
                    continue
                path = cache_asset(href, grid, cache_dir / "assets" / item.id, key, signer)
                if path is None:
                    reached = False
                    break
                _point_at(local.assets[key], path)
            if reached:
                out.append(local)
    return out
