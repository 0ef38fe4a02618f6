"""The download cache: windows under the area only, written whole, and a re-run fetches nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import rasterio

from tests.imagery.conftest import SyntheticYear, build_year
from tests.imagery.synthetic_stac import SIZE
from tests.imagery.test_composite import make_composite


def test_a_rerun_reads_only_the_cache(tmp_path: Path) -> None:
    year = build_year(tmp_path / "stac", seed=11)
    cache = tmp_path / "cache"
    first = make_composite(year.catalog, tmp_path / "a.tif", cache, cache={"local_assets": "cache"})
    cached = sorted((cache / "assets").rglob("*.tif"))
    assert len(cached) == 6 * 7 + 1  # six scenes x (six bands + SCL), one DEM tile
    assert not list(cache.rglob("*.partial*"))
    # Only the window under the area (plus a margin) is kept: the other-zone scene is bigger.
    with rasterio.open(
        next(p for p in cached if "29NQH" in str(p) and p.name.startswith("blue"))
    ) as src:
        assert src.width < 2 * SIZE and src.height < 2 * SIZE
    # Remove the catalog's files: the search and the assets come from the cache.
    shutil.rmtree(tmp_path / "stac")
    again = make_composite(year.catalog, tmp_path / "b.tif", cache, cache={"local_assets": "cache"})
    np.testing.assert_array_equal(first, again)


def test_local_assets_are_read_in_place(synthetic_year: SyntheticYear, tmp_path: Path) -> None:
    make_composite(synthetic_year.catalog, tmp_path / "a.tif", tmp_path / "cache")
    assert not (tmp_path / "cache" / "assets").exists()
    assert list((tmp_path / "cache" / "search").glob("*.json"))
