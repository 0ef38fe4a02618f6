"""The mercury surface, the exposure table and zonal means: the same on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import box

from cocoa_threat.analysis.interpolation import IDW
from cocoa_threat.analysis.mercury import exposure_counts, exposure_table, surface_producer
from cocoa_threat.analysis.zonal import ALL_DISTRICTS, mean_by_zone
from cocoa_threat.geo.cog import write_cog
from cocoa_threat.geo.grid import RasterSource
from cocoa_threat.params.mercury import MercuryParams
from tests.conftest import write_tile

ORIGIN = (616000.0, 713000.0)


def _inputs(tmp_path: Path) -> tuple[RasterSource, np.ndarray, np.ndarray, gpd.GeoDataFrame]:
    rng = np.random.default_rng(4)
    land = np.where(rng.random((150, 130)) < 0.5, 2, 0).astype(np.uint8)
    land[:, :4] = 255
    source = RasterSource.open(write_tile(tmp_path / "land.tif", land[None], ORIGIN, nodata=255))
    xy = np.column_stack([ORIGIN[0] + rng.uniform(0, 900, 25), ORIGIN[1] - rng.uniform(0, 900, 25)])
    z = np.log(rng.lognormal(2.0, 1.2, 25))
    districts = gpd.GeoDataFrame(
        {"district": ["A", "B"]},
        geometry=[
            box(ORIGIN[0], ORIGIN[1] - 700, ORIGIN[0] + 700, ORIGIN[1]),
            box(ORIGIN[0] + 500, ORIGIN[1] - 1500, ORIGIN[0] + 1300, ORIGIN[1] - 600),
        ],
        crs="EPSG:32630",
    )
    return source, xy, z, districts


def test_surface_exposure_and_means_are_the_same_on_dask(tmp_path: Path, dask_compute: Any) -> None:
    land, xy, z, districts = _inputs(tmp_path)
    model = IDW(power=2.0, k=8, residual_var=0.3).fit(xy, z)
    breaks = [2.6, 20.0, 200.0]
    results = []
    for name, compute in (("here", None), ("there", dask_compute)):
        producer = surface_producer(model, xy, land.grid, 50.0, 600.0, 64, {}, compute)
        write_cog(tmp_path / f"{name}.tif", producer, overview_levels=[])
        surface = RasterSource.open(tmp_path / f"{name}.tif")
        with rasterio.open(surface.path) as src:
            pixels = src.read()
        counts = exposure_counts(land, surface, districts, 2, breaks, 64, compute)
        means = mean_by_zone(surface, districts, 64, compute=compute)
        results.append((pixels, counts, means))
    (pixels, counts, means), (pixels2, counts2, means2) = results
    np.testing.assert_array_equal(pixels, pixels2)
    np.testing.assert_array_equal(counts, counts2)
    np.testing.assert_array_equal(means, means2)
    assert counts.dtype == np.int64 and counts.sum() > 0
    assert counts[:, -1].sum() > 0 and counts[:, :-1].sum() > 0  # covered and not covered
    assert np.isnan(pixels).any() and np.isfinite(pixels).any()


def test_the_exposure_table_is_the_counts_in_hectares(tmp_path: Path) -> None:
    land, xy, z, districts = _inputs(tmp_path)
    model = IDW(power=2.0, k=8, residual_var=0.3).fit(xy, z)
    producer = surface_producer(model, xy, land.grid, 50.0, 600.0, 64, {})
    write_cog(tmp_path / "surface.tif", producer, overview_levels=[])
    surface = RasterSource.open(tmp_path / "surface.tif")
    p = MercuryParams.model_validate(
        {
            "survey": {"x_column": "x", "y_column": "y", "crs": "EPSG:32630"},
            "class_breaks_ng_m3": [2.6, 20.0],
            "class_labels": ["low", "mid", "high"],
            "max_distance_m": 600.0,
            "block_size": 64,
            "outside_label": "elsewhere",
        }
    )
    table = exposure_table(land, surface, districts, 2, p)
    counts = exposure_counts(land, surface, districts, 2, [2.6, 20.0], 64)
    classes = ["low", "mid", "high", "not covered (> 600 m from the survey)"]
    total = table[table["district"] == ALL_DISTRICTS].set_index("concentration_class")
    assert list(total.index) == classes
    hectares = land.grid.hectares(1)
    np.testing.assert_allclose(total["cocoa_ha"], counts[1:].sum(axis=0) * hectares)  # not outside
    assert total["percent_of_district_cocoa"].sum() == pytest.approx(100.0)
    assert {"elsewhere", "A", "B"} <= set(table["district"])
    a = table[table["district"] == "A"]["cocoa_ha"].to_numpy()
    np.testing.assert_allclose(a, counts[1] * hectares)  # zone 0 is outside the districts
