"""The composite of a local static catalog equals a numpy reference.

The catalog (tests/imagery/conftest.py) has clouds, shadows, cirrus, saturated and
no-data pixels, a baseline-04.00 scene with the offset recorded twice, a scene whose
catalog already removed the offset, a scene in another UTM zone, two tiles of one
pass, a scene outside the season and one too cloudy.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from cocoa_threat.geo.cog import write_cog
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.imagery import workflow
from cocoa_threat.imagery.composite import fuse_days, harmonised
from cocoa_threat.models.scene import resolve_band_indexes
from tests.imagery.conftest import BANDS, OTHER_UTM, SyntheticYear, params
from tests.imagery.reference import centres, on_target, reference
from tests.imagery.synthetic_stac import ASSETS, CRS, POISON, SIZE, dem_value


def make_composite(catalog: Path, out: Path, cache_dir: Path, **overrides: object) -> np.ndarray:
    """Search, harmonise, composite and write one year through the library; read it back."""
    p = params(catalog, cache_dir, **overrides)
    grid = workflow.output_grid(p, None)
    items = workflow.search_year(p, grid, 2022)
    scenes = workflow.scene_table(p, 2022, items, list(ASSETS))
    dem = workflow.search_dem(p, grid)
    producer = workflow.year_composite(p, grid, items, scenes, dem, list(ASSETS), BANDS)
    write_cog(out, producer, overview_levels=[])
    with rasterio.open(out) as src:
        return src.read()


@pytest.fixture(scope="module")
def composite(
    synthetic_year: SyntheticYear, tmp_path_factory: pytest.TempPathFactory
) -> np.ndarray:
    root = tmp_path_factory.mktemp("composite")
    return make_composite(synthetic_year.catalog, root / "c.tif", root / "cache")


def _ambiguous(year: SyntheticYear) -> np.ndarray:
    """Target pixels whose centre lies within a pixel of the other-zone scene's cloud edge."""
    x, y = centres()
    x29, _ = Transformer.from_crs(CRS, OTHER_UTM, always_xy=True).transform(x, y)
    return np.abs(x29 - year.other_zone_edge) < 10.0


def test_composite_equals_the_numpy_reference(
    synthetic_year: SyntheticYear, composite: np.ndarray
) -> None:
    median, count = reference(synthetic_year.used)
    other = next(s for s in synthetic_year.used if s.crs == OTHER_UTM)
    _, other_clear = on_target(other)
    alt_median, alt_count = reference(synthetic_year.used, {other.id: ~other_clear})
    sure = ~_ambiguous(synthetic_year)
    assert 0 < (~sure).sum() < 3 * SIZE  # only a thin line along the cloud edge is uncertain
    got, got_count = composite[: len(BANDS)], composite[-1]
    np.testing.assert_array_equal(got_count[sure], count[sure])
    has = sure & (count > 0)
    np.testing.assert_allclose(got[:, has], median[:, has], rtol=0, atol=1e-3)
    # Along the edge, the pixel is the composite with or without that scene, nothing else.
    for r, c in zip(*np.nonzero(~sure), strict=True):
        options = [(median[:, r, c], count[r, c]), (alt_median[:, r, c], alt_count[r, c])]
        assert any(
            got_count[r, c] == n and (n == 0 or np.allclose(got[:, r, c], m, atol=1e-3))
            for m, n in options
        ), (r, c)


def test_masked_pixels_never_enter(composite: np.ndarray) -> None:
    values = composite[: len(BANDS)]
    valid = values != -9999.0
    assert valid.any()
    assert values[valid].max() <= 5000  # true values are 100..5000; masked pixels hold 30000
    assert values[valid].min() >= 100  # an offset applied twice would push values below
    assert POISON > 5000


def test_no_clear_observation_is_nodata_and_counted(composite: np.ndarray) -> None:
    corner = composite[:, :8, :8]
    assert (corner[-1] == 0).all()
    assert (corner[: len(BANDS)] == -9999.0).all()
    assert (composite[-1] > 0).sum() > 0.9 * SIZE * SIZE


def test_the_other_utm_zone_scene_is_placed(
    synthetic_year: SyntheticYear, composite: np.ndarray
) -> None:
    other = next(s for s in synthetic_year.used if s.crs == OTHER_UTM)
    without, count_without = reference([s for s in synthetic_year.used if s is not other])
    _, count = reference(synthetic_year.used)
    sure = ~_ambiguous(synthetic_year)
    # East of its cloud edge it adds one clear day everywhere, west of it none.
    _, clear = on_target(other)
    assert (count[sure & clear] == count_without[sure & clear] + 1).all()
    assert (composite[-1][sure & ~clear] == count_without[sure & ~clear]).all()
    assert (sure & clear).sum() > 500 and (sure & ~clear).sum() > 500


def test_the_offset_is_applied_once(synthetic_year: SyntheticYear, composite: np.ndarray) -> None:
    # Where the baseline-04.00 scene is the only clear day, the composite is its true value.
    new = next(s for s in synthetic_year.used if s.dn_offset == 1000)
    values, clear = on_target(new)
    only = clear & (composite[-1] == 1)
    others = [s for s in synthetic_year.used if s is not new]
    _, count_others = reference(others)
    only &= count_others == 0
    assert only.sum() >= 3
    np.testing.assert_allclose(composite[: len(BANDS)][:, only], values[:, only])


def test_the_dem_is_resampled_bilinearly(composite: np.ndarray) -> None:
    x, y = centres()
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    np.testing.assert_allclose(composite[len(BANDS)], dem_value(lon, lat), atol=0.01)


def test_scene_inference_reads_the_composite_bands(
    synthetic_year: SyntheticYear, tmp_path: Path
) -> None:
    out = tmp_path / "c.tif"
    make_composite(synthetic_year.catalog, out, tmp_path / "cache", dem={"collection": None})
    source = RasterSource.open(out)
    assert source.band_names == (*BANDS, "CLEAR_COUNT")
    assert resolve_band_indexes(source, BANDS) == (1, 2, 3, 4, 5, 6)
    assert resolve_band_indexes(source, ["NIR_NARROW", "RED"]) == (4, 3)
    assert source.nodata == -9999.0 and source.dtype == "float32"
    assert source.tags["scale"] == "reflectance x 10000"


def test_conflicting_metadata_is_reported(
    synthetic_year: SyntheticYear, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    p = params(synthetic_year.catalog, tmp_path / "cache")
    grid = workflow.output_grid(p, None)
    items = workflow.search_year(p, grid, 2022)
    # Outside the season (3 February) and too cloudy (95%) are left out; time order.
    assert [i.id for i in items] == [
        s.id for s in sorted(synthetic_year.used, key=lambda s: (s.when, s.id))
    ]
    with caplog.at_level(logging.WARNING):
        table = workflow.scene_table(p, 2022, items, list(ASSETS))
    row = table.set_index("id").loc["S2B_30NWN_20220130"]
    assert row["offset_from"] == "earthsearch:boa_offset_applied" and row["dn_offset_blue"] == 0
    assert "raster:bands says [-1000.0]" in row["offset_conflicts"]
    assert "S2B_30NWN_20220130" in caplog.text
    c = table.set_index("id").loc["S2A_30NWN_20220127"]
    assert c["dn_offset_blue"] == -1000 and c["offset_conflicts"] == ""
    strict = params(synthetic_year.catalog, tmp_path / "cache", harmonise={"on_conflict": "error"})
    with pytest.raises(ValueError, match="S2B_30NWN_20220130.*on_conflict"):
        workflow.scene_table(strict, 2022, items, list(ASSETS))


def test_fusion_and_harmonisation_steps() -> None:
    dn = np.array([[[[1500.0]]], [[[0.0]]], [[[900.0]]]], dtype=np.float32)  # 3 scenes, 1 band
    out = harmonised(dn, np.array([[-1000.0], [0.0], [-1000.0]]), clip_negative=True)
    assert out.ravel().tolist() == [500.0, 0.0, 0.0]
    values = np.array([[[[np.nan]]], [[[7.0]]], [[[9.0]]]], dtype=np.float32)
    fused = fuse_days(values, [0, 0, 1])
    assert fused.ravel().tolist() == [7.0, 9.0]  # the day's first clear scene
